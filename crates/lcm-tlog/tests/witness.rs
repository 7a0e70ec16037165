//! The witness decision (c2sp.org/tlog-witness `add-checkpoint`), state in, state out.

use lcm_crypto::Digest;
use lcm_tlog::note::{NoteSignature, SignatureType};
use lcm_tlog::witness::{self, AddCheckpoint};
use lcm_tlog::{Checkpoint, Error, Policy, Refusal, SignedCheckpoint, VerifyError};

use crate::support::{ORIGIN, checkpoint, log_key, signer, tree, witness_key};

/// The refusal of a cosign call (`None` when it did not refuse).
fn refused(result: Result<SignedCheckpoint, Error>) -> Option<Refusal> {
    match result {
        Err(Error::Refused(r)) => Some(r),
        _ => None,
    }
}

#[test]
fn cosigns_only_what_extends_its_state() {
    let t = tree(300);
    let (log, w) = (log_key().verifier(), witness_key(1));
    let c5 = checkpoint(&t, 5);
    let c9 = checkpoint(&t, 9);
    let c300 = checkpoint(&t, 300);

    let s5 = witness::cosign(None, &c5, &log, None, &w, 100).unwrap();
    // The new state is the checkpoint with the cosignature, which verifies.
    let policy = Policy::new(log.clone()).with_witnesses(vec![w.verifier()], 1);
    assert_eq!(
        policy.verify(&s5).unwrap().witnesses()[0].timestamp,
        Some(100)
    );
    // The cosignature line is the spec's: key id of type 0x04, 8-byte timestamp, 64 bytes.
    let line = &s5.note().signatures()[1];
    assert_eq!(line.id(), w.verifier().id());
    assert_eq!(line.bytes().len(), 72);
    assert_eq!(line.cosignature_timestamp(), Some(100));

    // Same checkpoint again: cosigned.
    witness::cosign(Some(&s5), &c5, &log, None, &w, 101).unwrap();
    // Extends with a proof.
    let p = t.consistency_proof_between(5, 9).unwrap().into_path();
    let s9 = witness::cosign(Some(&s5), &c9, &log, Some(&p), &w, 102).unwrap();
    assert_eq!(s9.checkpoint().size(), 9);
    // Rollback.
    assert_eq!(
        refused(witness::cosign(Some(&s9), &c5, &log, None, &w, 103)),
        Some(Refusal::Rollback {
            held: 9,
            submitted: 5
        })
    );
    // Missing and invalid proofs.
    assert_eq!(
        refused(witness::cosign(Some(&s9), &c300, &log, None, &w, 104)),
        Some(Refusal::MissingProof {
            old_size: 9,
            new_size: 300
        })
    );
    let wrong = t.consistency_proof_between(5, 300).unwrap().into_path();
    assert!(matches!(
        refused(witness::cosign(
            Some(&s9),
            &c300,
            &log,
            Some(&wrong),
            &w,
            105
        )),
        Some(Refusal::InvalidProof {
            old_size: 9,
            new_size: 300,
            ..
        })
    ));
    let mut tampered = t.consistency_proof_between(9, 300).unwrap().into_path();
    let mut bytes = tampered[2].to_bytes();
    bytes[0] ^= 1;
    tampered[2] = Digest::from_bytes(bytes);
    assert!(matches!(
        refused(witness::cosign(
            Some(&s9),
            &c300,
            &log,
            Some(&tampered),
            &w,
            106
        )),
        Some(Refusal::InvalidProof {
            source: lcm_crypto::Error::RootMismatch { .. },
            ..
        })
    ));
    // A fork: same size, another root, validly signed by the log.
    let fork = Checkpoint::new(ORIGIN, 9, t.root_at(10).unwrap())
        .unwrap()
        .sign(&log_key())
        .unwrap();
    assert!(matches!(
        refused(witness::cosign(Some(&s9), &fork, &log, None, &w, 107)),
        Some(Refusal::Fork { size: 9, .. })
    ));
    // Not signed by the log key (signed by another key of the same name).
    let impostor = signer(ORIGIN, SignatureType::Ed25519, 99);
    let forged = c300.checkpoint().sign(&impostor).unwrap();
    assert_eq!(
        refused(witness::cosign(Some(&s9), &forged, &log, None, &w, 108)),
        Some(Refusal::BadSignature(VerifyError::NoKnownSignature))
    );
    // A known key whose signature fails.
    let mut text = c300.to_text();
    let sig = &c300.note().signatures()[0];
    let mut raw = sig.bytes().to_vec();
    raw[0] ^= 1;
    let bad = NoteSignature::new(sig.name().clone(), sig.id(), raw).unwrap();
    text = text.replace(&sig.to_string(), &bad.to_string());
    let bad = SignedCheckpoint::parse(text.as_bytes()).unwrap();
    assert!(matches!(
        refused(witness::cosign(Some(&s9), &bad, &log, None, &w, 109)),
        Some(Refusal::BadSignature(VerifyError::BadSignature { .. }))
    ));
    // A proof with no state, another origin, an empty tree with a non-empty root.
    assert!(matches!(
        refused(witness::cosign(None, &c9, &log, Some(&p), &w, 110)),
        Some(Refusal::UnexpectedProof { .. })
    ));
    let other = Checkpoint::new("log.example/other", 9, *c9.checkpoint().root())
        .unwrap()
        .sign(&log_key())
        .unwrap();
    assert!(matches!(
        refused(witness::cosign(Some(&s9), &other, &log, None, &w, 111)),
        Some(Refusal::OriginMismatch { .. })
    ));
    let bad_empty = Checkpoint::new(ORIGIN, 0, *c9.checkpoint().root())
        .unwrap()
        .sign(&log_key())
        .unwrap();
    assert!(matches!(
        refused(witness::cosign(None, &bad_empty, &log, None, &w, 112)),
        Some(Refusal::EmptyTreeRoot { .. })
    ));
    // A note key cannot cosign.
    assert!(matches!(
        witness::cosign(None, &c5, &log, None, &log_key(), 113),
        Err(Error::Format(lcm_tlog::FormatError::WrongKeyType {
            expected: 4,
            actual: 1
        }))
    ));
}

#[test]
fn add_checkpoint_requests() {
    let t = tree(40);
    let (log, w) = (log_key().verifier(), witness_key(2));
    let s10 = witness::cosign(None, &checkpoint(&t, 10), &log, None, &w, 1).unwrap();
    let request = AddCheckpoint {
        old_size: 10,
        proof: t.consistency_proof_between(10, 40).unwrap().into_path(),
        checkpoint: checkpoint(&t, 40),
    };
    let text = request.to_text();
    assert!(text.starts_with("old 10\n"));
    let parsed = AddCheckpoint::parse(text.as_bytes()).unwrap();
    assert_eq!(parsed, request);
    let s40 = parsed.cosign(Some(&s10), &log, &w, 2).unwrap();
    assert_eq!(s40.checkpoint().size(), 40);
    // An old size that is not the held one: 409 with the held size.
    let stale = AddCheckpoint {
        old_size: 0,
        proof: Vec::new(),
        checkpoint: checkpoint(&t, 40),
    };
    assert_eq!(
        stale.cosign(Some(&s10), &log, &w, 3),
        Err(Refusal::OldSizeMismatch {
            held: 10,
            claimed: 0
        }
        .into())
    );
    let empty = AddCheckpoint::parse(stale.to_text().as_bytes()).unwrap();
    assert_eq!(empty, stale);
    for bad in ["old 01\n\n", "new 1\n\n", "old 1\n", "old 1\nAAAA\n\n"] {
        assert!(AddCheckpoint::parse(bad.as_bytes()).is_err(), "{bad:?}");
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::default())]

    /// Two checkpoints of one log are consistent, and the witness cosigns the newer; two
    /// copies of one log that diverged at leaf `fork_at` are a fork (or a rollback), and the
    /// witness refuses, whatever proof the other copy offers.
    #[test]
    fn one_log_extends_and_two_diverging_copies_fork(
        old in 1u64..200,
        grow in 0u64..200,
        fork_at in 0u64..400,
    ) {
        let new = old + grow;
        let honest = tree(new);
        let (log, w) = (log_key().verifier(), witness_key(3));
        let c_old = checkpoint(&honest, old);
        let c_new = checkpoint(&honest, new);
        let proof = honest.consistency_proof_between(old, new).expect("sizes").into_path();
        proptest::prop_assert!(lcm_tlog::consistency::classify(
            c_old.checkpoint(), c_new.checkpoint(), Some(&proof)
        ).expect("one origin").is_consistent());
        let state = witness::cosign(None, &c_old, &log, None, &w, 1).expect("first");
        let state = witness::cosign(Some(&state), &c_new, &log, Some(&proof), &w, 2)
            .expect("extends");
        proptest::prop_assert_eq!(state.checkpoint().size(), new);

        // A copy that differs from leaf fork_at on, grown 5 leaves past the honest log.
        let fork_at = fork_at % new;
        let other = lcm_crypto::merkle::MerkleTree::from_leaves((0..new + 5).map(|i| {
            if i < fork_at { format!("leaf {i}") } else { format!("other {i}") }
        }));
        for size in [fork_at + 1, new, new + 5] {
            let forked = checkpoint(&other, size);
            // Its own proof from the witness's size, as the other copy would send it.
            let proof = (size > new).then(|| {
                other.consistency_proof_between(new, size).expect("sizes").into_path()
            });
            let outcome = lcm_tlog::consistency::classify(
                state.checkpoint(),
                forked.checkpoint(),
                proof.as_deref(),
            )
            .expect("one origin");
            let expected_rollback = size < new;
            proptest::prop_assert_eq!(
                matches!(outcome, lcm_tlog::Consistency::Rollback { .. }),
                expected_rollback,
                "{}", outcome
            );
            proptest::prop_assert!(!outcome.is_consistent(), "{}", outcome);
            let refusal = refused(witness::cosign(
                Some(&state), &forked, &log, proof.as_deref(), &w, 3,
            ));
            let expected = match size.cmp(&new) {
                std::cmp::Ordering::Less => matches!(refusal, Some(Refusal::Rollback { .. })),
                std::cmp::Ordering::Equal => matches!(refusal, Some(Refusal::Fork { .. })),
                std::cmp::Ordering::Greater => {
                    matches!(refusal, Some(Refusal::InvalidProof { .. }))
                }
            };
            proptest::prop_assert!(expected, "{:?}", refusal);
        }
    }
}
