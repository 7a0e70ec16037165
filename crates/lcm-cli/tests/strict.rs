//! Issue 11, "store integrity and strict input": each case as the attacker tried it, run
//! against the real binary.

use super::{Scratch, check_fails, infer, lcm, lines, recorded, run, stdout};

/// Runs `sql` on the store's file directly, as someone with write access would.
fn edit(s: &Scratch, sql: &str) {
    let conn = rusqlite::Connection::open(s.store()).expect("open the store file");
    conn.execute_batch(sql).expect("the edit runs");
}

/// Case 1: one flipped bit of a chain's commitment seed is found by `check`, and the seed is
/// refused before any receipt is committed under it.
#[test]
fn a_flipped_seed_bit_is_found() {
    let s = recorded("strict-seed");
    infer(&s.store(), &lines(3, "a"), 0);
    run(lcm(&s.store()).arg("check"), 0);
    edit(
        &s,
        "DROP TRIGGER chains_no_update; \
         UPDATE chains SET seed = randomblob(32) WHERE chain_id = 1; \
         CREATE TRIGGER chains_no_update BEFORE UPDATE ON chains \
             BEGIN SELECT RAISE(ABORT, 'chains are append-only'); END;",
    );
    check_fails(&s.store(), &["stage store", "deploy_001", "field seed"]);
    // No receipt is committed under the wrong seed.
    let out = infer(&s.store(), &lines(1, "b"), 1);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("field seed"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Case 1, one bit exactly: the first byte of the seed xor 1.
#[test]
fn a_single_bit_of_the_seed_is_found() {
    let s = recorded("strict-seed-bit");
    infer(&s.store(), &lines(2, "a"), 0);
    let conn = rusqlite::Connection::open(s.store()).expect("open");
    let mut seed: Vec<u8> = conn
        .query_row("SELECT seed FROM chains WHERE chain_id = 1", [], |r| {
            r.get(0)
        })
        .expect("seed");
    seed[0] ^= 1;
    conn.execute_batch("DROP TRIGGER chains_no_update")
        .expect("drop");
    conn.execute("UPDATE chains SET seed = ?1", [&seed])
        .expect("update");
    conn.execute_batch(
        "CREATE TRIGGER chains_no_update BEFORE UPDATE ON chains \
         BEGIN SELECT RAISE(ABORT, 'chains are append-only'); END;",
    )
    .expect("restore");
    drop(conn);
    check_fails(&s.store(), &["field seed", "deploy_001"]);
}

/// Case 2: a policy downgraded in `meta` is found by `check`, and `infer` refuses the store
/// instead of committing queries in the clear.
#[test]
fn a_policy_downgrade_is_found_and_infer_refuses() {
    let s = recorded("strict-policy");
    infer(&s.store(), &lines(2, "a"), 0);
    edit(
        &s,
        "UPDATE meta SET value = replace(value, '\"salted\"', '\"plaintext\"') \
         WHERE key = 'policy'",
    );
    let conn = rusqlite::Connection::open(s.store()).expect("open");
    let policy: String = conn
        .query_row("SELECT value FROM meta WHERE key = 'policy'", [], |r| {
            r.get(0)
        })
        .expect("policy");
    assert!(policy.contains("plaintext"), "{policy}");
    drop(conn);
    check_fails(&s.store(), &["stage store", "field policy", "plaintext"]);
    let out = infer(&s.store(), &lines(1, "b"), 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("field policy"), "{stderr}");
    // Nothing was appended.
    let conn = rusqlite::Connection::open(s.store()).expect("open");
    let n: i64 = conn
        .query_row("SELECT count(*) FROM receipts", [], |r| r.get(0))
        .expect("count");
    assert_eq!(n, 2);
}

/// Case 2, the rule the bundle verifier applies: a receipt committed under another scheme
/// than the store's policy fails `check`.
#[test]
fn a_receipt_under_another_scheme_is_found() {
    let s = recorded("strict-scheme");
    infer(&s.store(), &lines(2, "a"), 0);
    // Rewrite the receipt's scheme (its digest then differs too, but the scheme is named
    // first), with the trigger dropped and restored.
    edit(
        &s,
        "DROP TRIGGER receipts_no_update; \
         UPDATE receipts SET json = replace(json, '\"scheme\":\"salted\"', '\"scheme\":\"plaintext\"') \
         WHERE sequence = 1; \
         CREATE TRIGGER receipts_no_update BEFORE UPDATE ON receipts \
             BEGIN SELECT RAISE(ABORT, 'receipts are append-only'); END;",
    );
    check_fails(&s.store(), &["stage receipts"]);
}

/// Case 3: dropped append-only triggers are reported by name, and the newest receipts
/// deleted with them no longer pass silently.
#[test]
fn dropped_triggers_are_reported() {
    let s = recorded("strict-triggers");
    infer(&s.store(), &lines(6, "a"), 0);
    run(lcm(&s.store()).args(["batch", "close"]), 0);
    infer(&s.store(), &lines(4, "b"), 0);
    run(lcm(&s.store()).args(["batch", "close"]), 0);
    edit(
        &s,
        "DROP TRIGGER receipts_no_delete; DROP TRIGGER batches_no_delete; \
         DROP TRIGGER records_no_delete; \
         DELETE FROM receipts WHERE sequence >= 6; \
         DELETE FROM batches WHERE first_seq = 6; \
         DELETE FROM records WHERE kind = 'inference-batch-root' AND id LIKE '%6%';",
    );
    check_fails(
        &s.store(),
        &["stage store", "schema", "trigger", "_no_delete", "missing"],
    );
    // One trigger is enough.
    let t = recorded("strict-one-trigger");
    edit(&t, "DROP TRIGGER evidence_no_update");
    check_fails(&t.store(), &["trigger evidence_no_update", "missing"]);
    // A trigger replaced by one that lets everything through is "not the one".
    let u = recorded("strict-changed-trigger");
    edit(
        &u,
        "DROP TRIGGER records_no_update; \
         CREATE TRIGGER records_no_update BEFORE UPDATE ON records BEGIN SELECT 1; END;",
    );
    check_fails(&u.store(), &["trigger records_no_update", "not the one"]);
    // An added object is named too.
    let v = recorded("strict-added");
    edit(&v, "CREATE TABLE extra (x)");
    check_fails(&v.store(), &["table extra", "added"]);
}

/// Case 1-3: a fresh store passes, and its check still says so.
#[test]
fn an_unedited_store_passes() {
    let s = recorded("strict-clean");
    infer(&s.store(), &lines(3, "a"), 0);
    let out = run(lcm(&s.store()).arg("check"), 0);
    assert!(stdout(&out).starts_with("store ok"), "{}", stdout(&out));
}
