//! The conformance suite of the service's section of `Store` (`lcm serve`): API tokens and
//! batch keys, their append-only rules in the database, and `append_keyed`'s all-or-nothing
//! commit, run against every backend this machine has (see `conformance.rs`).

use lcm_crypto::Digest;
use lcm_model::Policy;
use lcm_store::{BatchKeyRow, Error, NewReceipt, StoredReceipt, StoredToken};

use crate::conformance::{Backend, Fixture};

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

/// A real receipt (the backends store receipts by their fields); its digest need not match.
fn receipt(sequence: u64) -> NewReceipt {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&sequence.to_be_bytes());
    let receipt_id = format!("r{sequence}");
    let commitment = lcm_model::records::InferenceCommitment {
        scheme: lcm_crypto::CommitmentScheme::Salted,
        value: Digest::from_bytes([3; 32]),
        metadata: serde_json::Map::new(),
        plaintext: None,
    };
    let json = lcm_model::canonical::to_string(&lcm_model::records::InferenceReceipt {
        receipt_id: receipt_id.clone(),
        sequence,
        model_anchor: Digest::from_bytes([1; 32]),
        deployment_anchor: Digest::from_bytes([2; 32]),
        request_id: format!("req_{sequence}"),
        input_commitment: commitment.clone(),
        output_commitment: commitment,
        explanation_digests: vec![],
        prev_receipt: None,
        timestamp: lcm_model::Timestamp::from_unix_micros(0),
    })
    .expect("a receipt's canonical JSON");
    NewReceipt::parse(StoredReceipt {
        sequence,
        receipt_id,
        digest: Digest::from_bytes(bytes),
        timestamp: 0,
        json,
    })
    .expect("the receipt parses")
}

fn key(key: &str, first_sequence: u64, count: u64) -> BatchKeyRow {
    BatchKeyRow {
        key: key.to_owned(),
        body: Digest::from_bytes([5; 32]),
        first_sequence,
        count,
    }
}

/// A 32-byte value of zeros in the backend's SQL.
fn zeros(f: &Fixture) -> &'static str {
    match f.backend() {
        Backend::Sqlite => "zeroblob(32)",
        Backend::Postgres => "decode(repeat('00', 32), 'hex')",
    }
}

#[test]
fn tokens_are_kept_and_only_revoked_once() {
    for f in Fixture::all("tokens") {
        let (mut store, _) = lcm_store::init(f.location(), &Policy::default()).unwrap();
        assert_eq!(store.token("a").unwrap(), None);
        store.put_token(&token("a")).unwrap();
        let again = store.put_token(&token("a"));
        assert!(
            matches!(&again, Err(Error::Duplicate { kind, id }) if kind == "token" && id == "a"),
            "{:?}: {again:?}",
            f.backend()
        );
        let mut b = token("b");
        b.created = 5;
        store.put_token(&b).unwrap();
        assert_eq!(store.token("a").unwrap(), Some(token("a")));
        // Ordered by creation time, then id.
        let ids: Vec<String> = store.tokens().unwrap().into_iter().map(|t| t.id).collect();
        assert_eq!(ids, ["b", "a"]);
        assert!(store.revoke_token("a", 20).unwrap());
        assert!(store.revoke_token("a", 30).unwrap());
        assert_eq!(store.token("a").unwrap().unwrap().revoked, Some(20));
        assert!(!store.revoke_token("zz", 20).unwrap());
        // The database refuses every other change: a swapped hash, another deployment, an
        // un-revocation, a second revocation, a delete.
        for sql in [
            format!("UPDATE tokens SET hash = {} WHERE id = 'b'", zeros(&f)),
            "UPDATE tokens SET deployment = 'other' WHERE id = 'b'".to_owned(),
            "UPDATE tokens SET revoked = NULL WHERE id = 'a'".to_owned(),
            "UPDATE tokens SET revoked = 1 WHERE id = 'a'".to_owned(),
            "DELETE FROM tokens WHERE id = 'a'".to_owned(),
        ] {
            assert!(f.sql(&sql).is_err(), "{:?} accepted {sql}", f.backend());
        }
        // What the triggers allow: one revocation of a live token.
        f.sql("UPDATE tokens SET revoked = 7 WHERE id = 'b'")
            .unwrap();
        assert_eq!(store.token("b").unwrap().unwrap().revoked, Some(7));
        if f.backend() == Backend::Postgres {
            assert!(f.sql("TRUNCATE tokens").is_err());
        }
        assert_eq!(store.tokens().unwrap().len(), 2);
        store.schema_check().unwrap();
    }
}

#[test]
fn batch_keys_commit_with_their_receipts_or_not_at_all() {
    for f in Fixture::all("keys") {
        let (mut store, _) = lcm_store::init(f.location(), &Policy::default()).unwrap();
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
        assert_eq!(store.batch_key("dep", "k2").unwrap(), None);
        // The callback sees the head and what the transaction holds.
        let appended = store
            .append_keyed("dep", &mut |s, head| {
                assert_eq!(head.map(|h| h.sequence), Some(1));
                assert_eq!(s.batch_key("dep", "k1").unwrap(), Some(key("k1", 0, 2)));
                Ok((vec![receipt(2)], vec![key("k2", 2, 1), key("k3", 2, 1)]))
            })
            .unwrap();
        assert_eq!(appended.len(), 1);
        assert_eq!(store.batch_key("dep", "k3").unwrap(), Some(key("k3", 2, 1)));
        // The same key again: refused, and its receipt is not appended either.
        let refused = store.append_keyed("dep", &mut |_, _| {
            Ok((vec![receipt(3)], vec![key("k1", 3, 1)]))
        });
        assert!(
            matches!(&refused, Err(Error::Duplicate { kind, id }) if kind == "batch key" && id == "k1"),
            "{:?}: {refused:?}",
            f.backend()
        );
        // A callback's error: nothing written.
        let refused = store.append_keyed("dep", &mut |_, _| {
            Err(Error::Corrupt {
                what: "test".to_owned(),
            })
        });
        assert!(matches!(refused, Err(Error::Corrupt { .. })), "{refused:?}");
        assert_eq!(store.head("dep").unwrap().map(|h| h.sequence), Some(2));
        assert_eq!(store.log_size("dep").unwrap(), 3);
        assert_eq!(store.receipt("dep", "r3").unwrap(), None);
        // A key of zero receipts is refused by the database, with its receipts.
        let refused = store.append_keyed("dep", &mut |_, _| {
            Ok((vec![receipt(3)], vec![key("k4", 3, 0)]))
        });
        assert!(refused.is_err());
        assert_eq!(store.log_size("dep").unwrap(), 3);
        assert_eq!(store.batch_key("dep", "k4").unwrap(), None);
        // Batch keys are append-only.
        for sql in [
            "UPDATE batch_keys SET count = 1".to_owned(),
            format!("UPDATE batch_keys SET body = {}", zeros(&f)),
            "DELETE FROM batch_keys".to_owned(),
        ] {
            assert!(f.sql(&sql).is_err(), "{:?} accepted {sql}", f.backend());
        }
        if f.backend() == Backend::Postgres {
            assert!(f.sql("TRUNCATE batch_keys").is_err());
        }
        assert_eq!(store.batch_key("dep", "k1").unwrap(), Some(key("k1", 0, 2)));
        // No chain: nothing to append to.
        let refused = store.append_keyed("nochain", &mut |_, _| Ok((vec![], vec![])));
        assert!(matches!(refused, Err(Error::NoChain { .. })), "{refused:?}");
        store.schema_check().unwrap();
    }
}

/// `PostgreSQL` only: the service's triggers are in the schema check, so a dropped one is
/// named by `lcm check`.
#[test]
fn postgres_schema_check_names_a_dropped_service_trigger() {
    let Some(f) = Fixture::postgres("pg-service-schema") else {
        return;
    };
    let (store, _) = lcm_store::init(f.location(), &Policy::default()).unwrap();
    store.schema_check().unwrap();
    f.sql("DROP TRIGGER tokens_only_revoke ON tokens").unwrap();
    let err = store.schema_check().unwrap_err();
    assert!(err.to_string().contains("tokens_only_revoke"), "{err}");
    f.sql("CREATE TRIGGER tokens_only_revoke BEFORE UPDATE ON tokens FOR EACH ROW EXECUTE FUNCTION lcm_token_only_revoked()")
        .unwrap();
    store.schema_check().unwrap();
    f.sql("ALTER TABLE batch_keys DISABLE TRIGGER batch_keys_append_only")
        .unwrap();
    let err = store.schema_check().unwrap_err();
    assert!(err.to_string().contains("batch_keys_append_only"), "{err}");
}
