//! Tamper twins: every verifier, given one changed field (a signature byte, a key id, the
//! origin, the size, the root, a proof hash, an index, a timestamp), fails with the right
//! error variant.

use lcm_crypto::Digest;
use lcm_crypto::merkle::leaf_hash;
use lcm_tlog::consistency::classify;
use lcm_tlog::note::{KeyId, Note, NoteSignature};
use lcm_tlog::proof::TlogProof;
use lcm_tlog::{
    Checkpoint, Consistency, Error, ForkReason, Policy, SignedCheckpoint, VerifyError, witness,
};

use crate::support::{ORIGIN, checkpoint, log_key, tree, witness_key};

fn flip(bytes: &[u8], at: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[at] ^= 0x01;
    out
}

/// A tamper case of an inclusion proof: what changes, how, the leaf it is checked against,
/// and whether the inclusion error is the expected one.
type InclusionCase<'a> = (
    &'a str,
    fn(&mut TlogProof),
    &'a Digest,
    &'a dyn Fn(&lcm_crypto::Error) -> bool,
);

/// The signature line with byte `at` of its signature bytes flipped.
fn flip_signature(at: usize) -> impl Fn(&NoteSignature) -> NoteSignature {
    move |s| {
        NoteSignature::new(s.name().clone(), s.id(), flip(s.bytes(), at))
            .expect("a valid test fixture")
    }
}

/// The signature line with another key id: it no longer names its key.
fn other_key_id(s: &NoteSignature) -> NoteSignature {
    NoteSignature::new(
        s.name().clone(),
        KeyId::new(s.id().get() ^ 1),
        s.bytes().to_vec(),
    )
    .expect("a valid test fixture")
}

/// The note with its signature number `which` replaced by `f(signature)`.
fn with_signature(
    note: &Note,
    which: usize,
    f: impl Fn(&NoteSignature) -> NoteSignature,
) -> SignedCheckpoint {
    let mut text = format!("{}\n", note.text());
    for (i, sig) in note.signatures().iter().enumerate() {
        let sig = if i == which { f(sig) } else { sig.clone() };
        text.push_str(&sig.to_string());
    }
    SignedCheckpoint::parse(text.as_bytes()).expect("a valid test fixture")
}

/// The note with its text replaced, signatures kept.
fn with_text(note: &Note, text: &str) -> SignedCheckpoint {
    let sigs: String = note.signatures().iter().map(ToString::to_string).collect();
    SignedCheckpoint::parse(format!("{text}\n{sigs}").as_bytes()).expect("a valid test fixture")
}

fn bad_signature(name: &str, id: KeyId) -> VerifyError {
    VerifyError::BadSignature {
        name: name.to_owned(),
        key_id: id,
    }
}

fn cosigned() -> (SignedCheckpoint, Policy) {
    let t = tree(7);
    let signed = checkpoint(&t, 7);
    let w1 = witness_key(1);
    let cosigned = witness::cosign(
        None,
        &signed,
        &log_key().verifier(),
        None,
        &w1,
        1_700_000_000,
    )
    .expect("a valid test fixture");
    let policy = Policy::new(log_key().verifier()).with_witnesses(vec![w1.verifier()], 1);
    (cosigned, policy)
}

#[test]
fn checkpoint_signatures() {
    let (good, policy) = cosigned();
    let verified = policy.verify(&good).expect("a valid test fixture");
    assert_eq!(verified.witnesses().len(), 1);
    let log = log_key().verifier();
    let w1 = witness_key(1).verifier();
    let note = good.note();

    // One byte of the log's signature.
    let t = with_signature(note, 0, flip_signature(10));
    assert_eq!(policy.verify(&t), Err(bad_signature(ORIGIN, log.id())));
    // The log signature's key id: the line no longer names the log key, so it is ignored,
    // and the witness alone does not make a log signature.
    let t = with_signature(note, 0, other_key_id);
    assert_eq!(
        policy.verify(&t),
        Err(VerifyError::LogSignatureMissing {
            name: ORIGIN.to_owned(),
            key_id: log.id()
        })
    );
    // The witness's timestamp (the first 8 signature bytes).
    let t = with_signature(note, 1, flip_signature(7));
    assert_eq!(
        policy.verify(&t),
        Err(bad_signature(w1.name().as_str(), w1.id()))
    );
    // One byte of the witness's Ed25519 signature.
    let t = with_signature(note, 1, flip_signature(40));
    assert_eq!(
        policy.verify(&t),
        Err(bad_signature(w1.name().as_str(), w1.id()))
    );
    // The witness's key id: ignored, so the quorum is not met.
    let t = with_signature(note, 1, other_key_id);
    assert_eq!(
        policy.verify(&t),
        Err(VerifyError::Quorum {
            required: 1,
            actual: 0
        })
    );
    // Origin, size and root in the signed text: the log's signature fails first.
    let body = good.checkpoint().to_text();
    let root = good.checkpoint().root();
    for changed in [
        body.replacen(ORIGIN, "log.example/tlOg", 1),
        body.replacen("\n7\n", "\n8\n", 1),
        Checkpoint::new(
            ORIGIN,
            7,
            Digest::from_bytes(flip(root.as_bytes(), 0).try_into().unwrap()),
        )
        .unwrap()
        .to_text(),
    ] {
        assert_eq!(
            policy.verify(&with_text(note, &changed)),
            Err(bad_signature(ORIGIN, log.id())),
            "{changed:?}"
        );
    }
    // The expected origin.
    assert_eq!(
        policy.with_origin("log.example/other").verify(&good),
        Err(VerifyError::OriginMismatch {
            expected: "log.example/other".to_owned(),
            actual: ORIGIN.to_owned()
        })
    );
    // A quorum above the witnesses that signed.
    let two = Policy::new(log).with_witnesses(vec![w1, witness_key(2).verifier()], 2);
    assert_eq!(
        two.verify(&good),
        Err(VerifyError::Quorum {
            required: 2,
            actual: 1
        })
    );
    // Unknown keys are ignored; no known key at all is refused.
    assert_eq!(
        Policy::new(witness_key(3).verifier()).verify(&good),
        Err(VerifyError::NoKnownSignature)
    );
}

#[test]
fn tlog_proofs() {
    let t = tree(13);
    let (cosigned, policy) = {
        let signed = checkpoint(&t, 13);
        let w1 = witness_key(1);
        let c = witness::cosign(None, &signed, &log_key().verifier(), None, &w1, 5).unwrap();
        (
            c,
            Policy::new(log_key().verifier()).with_witnesses(vec![w1.verifier()], 1),
        )
    };
    let leaf = t.leaf_hash(6).unwrap();
    let proof = TlogProof {
        extra: Some(b"context".to_vec()),
        index: 6,
        path: t.inclusion_proof(6).unwrap().into_path(),
        checkpoint: cosigned,
    };
    let text = proof.to_text();
    assert!(text.starts_with("c2sp.org/tlog-proof@v1\nextra Y29udGV4dA==\nindex 6\n"));
    let parsed = TlogProof::parse(text.as_bytes()).unwrap();
    assert_eq!(parsed, proof);
    parsed.verify(&leaf, &policy).unwrap();

    // One changed field each, with the inclusion error it must give.
    let root_mismatch = |e: &lcm_crypto::Error| matches!(e, lcm_crypto::Error::RootMismatch { .. });
    let out_of_range =
        |e: &lcm_crypto::Error| matches!(e, lcm_crypto::Error::IndexOutOfRange { .. });
    let other_leaf = leaf_hash(lcm_crypto::HashAlgorithm::Sha256, b"other");
    let cases: [InclusionCase<'_>; 4] = [
        (
            "a proof hash",
            |p| p.path[1] = Digest::from_bytes(flip(p.path[1].as_bytes(), 3).try_into().unwrap()),
            &leaf,
            &root_mismatch,
        ),
        // Same path length, different position.
        ("the index", |p| p.index = 7, &leaf, &root_mismatch),
        (
            "an index past the tree",
            |p| p.index = 13,
            &leaf,
            &out_of_range,
        ),
        ("the leaf", |_| {}, &other_leaf, &root_mismatch),
    ];
    for (what, tamper, leaf, expected) in cases {
        let mut tampered = proof.clone();
        tamper(&mut tampered);
        match tampered.verify(leaf, &policy) {
            Err(VerifyError::Inclusion(e)) => assert!(expected(&e), "{what}: {e:?}"),
            other => panic!("{what}: {other:?}"),
        }
    }
    // A witness quorum the proof does not meet.
    let strict = Policy::new(log_key().verifier()).with_witnesses(
        vec![witness_key(1).verifier(), witness_key(2).verifier()],
        2,
    );
    assert_eq!(
        proof.verify(&leaf, &strict),
        Err(VerifyError::Quorum {
            required: 2,
            actual: 1
        })
    );
}

#[test]
fn consistency_between_checkpoints() {
    let t = tree(20);
    let old = checkpoint(&t, 11);
    let new = checkpoint(&t, 20);
    let (old, new) = (old.checkpoint(), new.checkpoint());
    let proof = t.consistency_proof_between(11, 20).unwrap().into_path();
    assert_eq!(classify(old, new, Some(&proof)), Ok(Consistency::Extends));
    assert_eq!(classify(old, old, None), Ok(Consistency::Same));
    assert_eq!(
        classify(new, old, Some(&proof)),
        Ok(Consistency::Rollback {
            old_size: 20,
            new_size: 11
        })
    );
    assert_eq!(
        classify(old, new, None),
        Ok(Consistency::Fork(ForkReason::MissingProof))
    );
    // A proof hash.
    let mut bad = proof.clone();
    bad[0] = Digest::from_bytes(flip(bad[0].as_bytes(), 31).try_into().unwrap());
    assert!(matches!(
        classify(old, new, Some(&bad)),
        Ok(Consistency::Fork(ForkReason::InvalidProof(
            lcm_crypto::Error::RootMismatch { .. }
        )))
    ));
    // The newer root.
    let forged = Checkpoint::new(ORIGIN, 20, t.root_at(19).unwrap()).unwrap();
    assert!(matches!(
        classify(old, &forged, Some(&proof)),
        Ok(Consistency::Fork(ForkReason::InvalidProof(_)))
    ));
    // The same size, another root.
    let other = Checkpoint::new(ORIGIN, 11, t.root_at(12).unwrap()).unwrap();
    assert!(matches!(
        classify(old, &other, None),
        Ok(Consistency::Fork(ForkReason::DifferentRoots { .. }))
    ));
    // Another origin.
    let elsewhere = Checkpoint::new("log.example/other", 20, *new.root()).unwrap();
    assert!(matches!(
        classify(old, &elsewhere, Some(&proof)),
        Err(Error::Verify(VerifyError::OriginMismatch { .. }))
    ));
    // From the empty tree: no proof needed, but the root must be H("").
    let empty = Checkpoint::new(ORIGIN, 0, t.root_at(0).unwrap()).unwrap();
    assert_eq!(classify(&empty, new, None), Ok(Consistency::Extends));
    let bad_empty = Checkpoint::new(ORIGIN, 0, *new.root()).unwrap();
    assert!(matches!(
        classify(&bad_empty, new, None),
        Ok(Consistency::Fork(ForkReason::EmptyTreeRoot { .. }))
    ));
    // check_extends names the outcome.
    assert!(matches!(
        lcm_tlog::consistency::check_extends(new, old, None),
        Err(Error::Verify(VerifyError::NotExtending {
            outcome: Consistency::Rollback { .. },
            ..
        }))
    ));
}

#[test]
fn hash_lines() {
    use lcm_tlog::consistency::{format_hash_lines, parse_hash_lines};
    let t = tree(9);
    let proof = t
        .consistency_proof_between(3, 9)
        .expect("sizes")
        .into_path();
    let text = format_hash_lines(&proof);
    assert_eq!(parse_hash_lines(&text), Ok(proof));
    assert_eq!(parse_hash_lines(""), Ok(Vec::new()));
    assert_eq!(
        parse_hash_lines(text.trim_end()),
        Err(lcm_tlog::FormatError::MissingLine {
            expected: "a newline after the last proof hash"
        }
        .into())
    );
    assert!(matches!(
        parse_hash_lines("AAAA\n"),
        Err(Error::Format(lcm_tlog::FormatError::HashLength { .. }))
    ));
    assert!(matches!(
        parse_hash_lines(&"\n".repeat(66)),
        Err(Error::Format(lcm_tlog::FormatError::TooManyHashes { .. }))
    ));
}
