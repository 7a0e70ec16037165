//! Unit tests of key rotations: the chain and its tamper twins.

use super::*;
use crate::lifecycle::demo::tests::fresh_store;

fn key(n: u8) -> SigningKey {
    SigningKey::from_seed(&lcm_crypto::Seed::from_bytes([n; 32]))
}

fn t(micros: i64) -> Timestamp {
    Timestamp::from_unix_micros(1_800_000_000_000_000 + micros)
}

/// A store with the rotations 1 -> 2 -> 3 at times 10 and 20.
fn rotated_store(name: &str) -> (Box<dyn Store>, std::path::PathBuf) {
    let (mut store, dir) = fresh_store(name);
    rotate(&mut *store, &key(1), &key(2), t(10)).unwrap();
    rotate(&mut *store, &key(2), &key(3), t(20)).unwrap();
    (store, dir)
}

fn message(e: Error) -> String {
    e.to_string()
}

#[test]
fn a_chain_of_rotations_gives_every_key_with_its_times() {
    let (store, dir) = rotated_store("keys-chain");
    let chain = rotations(&*store).unwrap();
    assert_eq!(chain.len(), 2);
    let keys = chain_keys(&chain);
    let ids: Vec<_> = keys.iter().map(|k| k.key.key_id()).collect();
    assert_eq!(ids, [key(1).key_id(), key(2).key_id(), key(3).key_id()]);
    assert_eq!(keys[0].since, None);
    assert_eq!(keys[0].retired, Some((t(10), key(2).key_id())));
    assert_eq!(keys[1].since, Some(t(10)));
    assert_eq!(keys[1].retired, Some((t(20), key(3).key_id())));
    assert_eq!(keys[2].retired, None);
    // The list's JSON is a trusted-key set that reads back to the same keys.
    let (value, text) = key_list(&keys);
    assert_eq!(value["current"], key(3).key_id().to_hex());
    assert_eq!(value["keys"][2]["current"], true);
    assert_eq!(value["keys"][0]["current"], false);
    assert_eq!(parse_key_list(&value.to_string()).unwrap(), keys);
    assert_eq!(text.lines().count(), 3);
    assert!(text.lines().last().unwrap().ends_with("current"), "{text}");
    // A retired key signs nothing new: made before its retirement, accepted; at or after, not.
    keys[0].check_not_retired(t(9)).unwrap();
    let e = keys[0].check_not_retired(t(10)).unwrap_err();
    assert!(e.contains("after that key was retired"), "{e}");
    keys[2].check_not_retired(t(1_000)).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn only_the_current_key_rotates_to_a_key_never_used() {
    let (mut store, dir) = rotated_store("keys-refuse");
    let stage = |e: Error| match e {
        Error::Stage { message, .. } => message,
        e => panic!("expected a refusal, got {e}"),
    };
    // The retired key 2 cannot rotate again.
    let e = stage(rotate(&mut *store, &key(2), &key(4), t(30)).unwrap_err());
    assert!(e.contains("not the store's current key"), "{e}");
    // Back to a retired key, or to itself: refused.
    let e = stage(rotate(&mut *store, &key(3), &key(1), t(30)).unwrap_err());
    assert!(e.contains("a key of the store already"), "{e}");
    assert!(rotate(&mut *store, &key(3), &key(3), t(30)).is_err());
    // Not after the last rotation.
    let e = stage(rotate(&mut *store, &key(3), &key(4), t(20)).unwrap_err());
    assert!(e.contains("is not after"), "{e}");
    rotate(&mut *store, &key(3), &key(4), t(30)).unwrap();
    assert_eq!(store_keys(&*store).unwrap().len(), 4);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn tampered_chains_fail_with_the_statement_and_field() {
    let (store, dir) = rotated_store("keys-tamper");
    let chain = rotations(&*store).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    verify_chain(&chain).unwrap();
    let fails = |chain: &[KeyRotation], field: &str| {
        let e = message(verify_chain(chain).unwrap_err());
        assert!(e.contains(field), "expected {field}: {e}");
        e
    };
    // One byte of a signature.
    for which in 0..2 {
        let mut c = chain.clone();
        let sig = if which == 0 {
            &mut c[1].old_key_signature
        } else {
            &mut c[1].new_key_signature
        };
        let mut bytes = *sig.as_bytes();
        bytes[7] ^= 1;
        *sig = Signature::from_bytes(bytes);
        let e = fails(
            &c,
            if which == 0 {
                "old_key_signature"
            } else {
                "new_key_signature"
            },
        );
        assert!(e.contains("key rotation 1"), "{e}");
    }
    // The new key replaced (id and key together): its signature no longer verifies, and the
    // next statement's old key is no longer the current one.
    let mut c = chain.clone();
    c[0].statement.new_public_key = key(9).verifying_key();
    c[0].statement.new_key_id = key(9).key_id();
    fails(&c, "key rotation 0: field old_key_signature");
    // Re-signed by the old key alone: the named new key never countersigned (no proof that
    // the rotator holds it).
    let digest = c[0].statement.digest().unwrap();
    c[0].old_key_signature = key(1).sign(digest.as_bytes());
    fails(&c, "key rotation 0: field new_key_signature");
    // The new key's id alone.
    let mut c = chain.clone();
    c[1].statement.new_key_id = key(9).key_id();
    fails(&c, "field new_key_id");
    // The order: swapped statements.
    let mut c = chain.clone();
    c.swap(0, 1);
    fails(&c, "field sequence");
    // A statement dropped: the second one's link names a statement that is not there.
    fails(&chain[1..], "field sequence");
    // The time moved.
    let mut c = chain;
    c[1].statement.rotated_at = t(11);
    fails(&c, "signature");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_stored_statement_that_is_not_canonical_or_misplaced_is_named() {
    let good = rotations(&*rotated_store("keys-rows").0).unwrap();
    let json = canonical::to_string(&good[0]).unwrap();
    let row = |sequence, json: &str| StoredKeyRotation {
        sequence,
        json: json.to_owned(),
    };
    parse_row(&row(0, &json)).unwrap();
    let e = message(parse_row(&row(1, &json)).unwrap_err());
    assert!(e.contains("field sequence"), "{e}");
    let e = message(parse_row(&row(0, &format!(" {json}"))).unwrap_err());
    assert!(e.contains("not canonical"), "{e}");
    let e = message(parse_row(&row(0, "{}")).unwrap_err());
    assert!(e.contains("does not parse"), "{e}");
    let _ = std::fs::remove_dir_all(
        std::env::temp_dir().join(format!("lcm-store-keys-rows-{}", std::process::id())),
    );
}
