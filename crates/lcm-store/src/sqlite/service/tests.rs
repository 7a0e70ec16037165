//! Tests of the service section on `SQLite`: tokens and batch keys, their append-only rules,
//! and `append_keyed`'s all-or-nothing commit.

use lcm_crypto::Digest;
use lcm_model::Policy;

use crate::Error;
use crate::sqlite::SqliteStore;
use crate::store::{BatchKeyRow, NewReceipt, Store, StoredReceipt, StoredToken};

fn temp(name: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("lcm-store-svc-{name}-{}.db", std::process::id()));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
    }
    p
}

fn token(id: &str) -> StoredToken {
    StoredToken {
        id: id.to_owned(),
        name: "n".to_owned(),
        deployment: "dep".to_owned(),
        hash: Digest::from_bytes([3; 32]),
        created: 10,
        revoked: None,
    }
}

/// A real receipt (the backend stores receipts by their fields); its digest need not match.
fn receipt(sequence: u64) -> NewReceipt {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&sequence.to_be_bytes());
    let json = super::super::tests::receipt_json(sequence, &format!("r{sequence}"));
    NewReceipt::parse(StoredReceipt {
        sequence,
        receipt_id: format!("r{sequence}"),
        digest: Digest::from_bytes(bytes),
        timestamp: 0,
        json,
    })
    .unwrap()
}

fn key(key: &str, first_sequence: u64, count: u64) -> BatchKeyRow {
    BatchKeyRow {
        key: key.to_owned(),
        body: Digest::from_bytes([5; 32]),
        first_sequence,
        count,
    }
}

#[test]
fn tokens_are_kept_and_only_revoked_once() {
    let path = temp("tokens");
    let (mut store, _) = SqliteStore::init(&path, &Policy::default()).unwrap();
    store.put_token(&token("a")).unwrap();
    assert!(matches!(
        store.put_token(&token("a")),
        Err(Error::Duplicate { .. })
    ));
    store.put_token(&token("b")).unwrap();
    assert_eq!(store.token("a").unwrap(), Some(token("a")));
    assert_eq!(store.tokens().unwrap().len(), 2);
    assert!(store.revoke_token("a", 20).unwrap());
    assert!(store.revoke_token("a", 30).unwrap());
    assert_eq!(store.token("a").unwrap().unwrap().revoked, Some(20));
    assert!(!store.revoke_token("zz", 20).unwrap());
    // The database refuses every other change: a swapped hash, an un-revocation, a delete.
    for sql in [
        "UPDATE tokens SET hash = zeroblob(32) WHERE id = 'b'",
        "UPDATE tokens SET deployment = 'other' WHERE id = 'b'",
        "UPDATE tokens SET revoked = NULL WHERE id = 'a'",
        "UPDATE tokens SET revoked = 1 WHERE id = 'a'",
        "DELETE FROM tokens WHERE id = 'a'",
    ] {
        assert!(store.conn.execute_batch(sql).is_err(), "{sql}");
    }
    assert_eq!(store.token("b").unwrap(), Some(token("b")));
    drop(store);
    let _ = std::fs::remove_file(&path);
}

#[test]
fn batch_keys_commit_with_their_receipts_or_not_at_all() {
    let path = temp("keys");
    let (mut store, _) = SqliteStore::init(&path, &Policy::default()).unwrap();
    store.open_chain("dep").unwrap();
    let appended = store
        .append_keyed("dep", &mut |s, head| {
            assert_eq!(head, None);
            assert_eq!(s.batch_key("dep", "k1").unwrap(), None);
            Ok((vec![receipt(0), receipt(1)], vec![key("k1", 0, 2)]))
        })
        .unwrap();
    assert_eq!(appended.len(), 2);
    assert_eq!(store.batch_key("dep", "k1").unwrap(), Some(key("k1", 0, 2)));
    assert_eq!(store.batch_key("other", "k1").unwrap(), None);
    // The same key again: refused, and its receipt is not appended either.
    let refused = store.append_keyed("dep", &mut |_, _| {
        Ok((vec![receipt(2)], vec![key("k1", 2, 1)]))
    });
    assert!(
        matches!(refused, Err(Error::Duplicate { .. })),
        "{refused:?}"
    );
    // A callback's error: nothing written.
    let refused = store.append_keyed("dep", &mut |_, _| {
        Err(Error::Corrupt {
            what: "test".to_owned(),
        })
    });
    assert!(refused.is_err());
    assert_eq!(store.head("dep").unwrap().map(|h| h.sequence), Some(1));
    assert_eq!(store.log_size("dep").unwrap(), 2);
    // A key of zero receipts is refused by the database.
    let refused = store.append_keyed("dep", &mut |_, _| {
        Ok((vec![receipt(2)], vec![key("k2", 2, 0)]))
    });
    assert!(refused.is_err());
    assert_eq!(store.log_size("dep").unwrap(), 2);
    // Batch keys are append-only.
    for sql in [
        "UPDATE batch_keys SET count = 1",
        "UPDATE batch_keys SET body = zeroblob(32)",
        "DELETE FROM batch_keys",
    ] {
        assert!(store.conn.execute_batch(sql).is_err(), "{sql}");
    }
    // No chain: nothing to append to.
    let refused = store.append_keyed("nochain", &mut |_, _| Ok((vec![], vec![])));
    assert!(matches!(refused, Err(Error::NoChain { .. })));
    drop(store);
    let _ = std::fs::remove_file(&path);
}
