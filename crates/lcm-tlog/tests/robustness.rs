//! Mutated notes, checkpoints, proofs, requests, keys and tile paths: parsing and verifying
//! return errors, never panic, and what parses formats back to the same bytes.

use lcm_tlog::note::{Note, SignerKey, VerifierKey};
use lcm_tlog::proof::TlogProof;
use lcm_tlog::tiles::Tile;
use lcm_tlog::witness::AddCheckpoint;
use lcm_tlog::{Policy, SignedCheckpoint, witness};
use proptest::prelude::*;

use crate::support::{checkpoint, log_key, tree, witness_key};

fn sample_proof() -> Vec<u8> {
    let t = tree(21);
    let w = witness_key(1);
    let c = witness::cosign(
        None,
        &checkpoint(&t, 21),
        &log_key().verifier(),
        None,
        &w,
        9,
    )
    .expect("a valid test fixture");
    TlogProof {
        extra: Some(vec![1, 2, 3]),
        index: 17,
        path: t
            .inclusion_proof(17)
            .expect("a valid test fixture")
            .into_path(),
        checkpoint: c,
    }
    .to_text()
    .into_bytes()
}

fn policy() -> Policy {
    Policy::new(log_key().verifier()).with_witnesses(vec![witness_key(1).verifier()], 1)
}

/// Parses and verifies `bytes` in every form; whatever parses must format back to itself.
fn exercise(bytes: &[u8]) {
    let leaf = tree(21).leaf_hash(17).expect("a valid test fixture");
    if let Ok(note) = Note::parse(bytes) {
        assert_eq!(note.to_text().as_bytes(), bytes);
        let _ = note.verify(&[log_key().verifier(), witness_key(1).verifier()]);
    }
    if let Ok(signed) = SignedCheckpoint::parse(bytes) {
        let _ = policy().verify(&signed);
    }
    if let Ok(proof) = TlogProof::parse(bytes) {
        assert_eq!(proof.to_text().as_bytes(), bytes);
        let _ = proof.verify(&leaf, &policy());
    }
    if let Ok(request) = AddCheckpoint::parse(bytes) {
        let _ = request.cosign(None, &log_key().verifier(), &witness_key(1), 1);
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = VerifierKey::parse(text);
        let _ = SignerKey::parse(text);
        let _ = Tile::parse_path(text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::default())]

    #[test]
    fn mutated_proofs(edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4)) {
        let mut bytes = sample_proof();
        for (at, byte) in edits {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        exercise(&bytes);
    }

    #[test]
    fn truncated_and_spliced(cut in any::<prop::sample::Index>(), insert in "[a-zA-Z0-9+/= \n\u{2014}.]{0,8}") {
        let bytes = sample_proof();
        let i = cut.index(bytes.len());
        exercise(&bytes[..i]);
        exercise(&bytes[i..]);
        let mut spliced = bytes[..i].to_vec();
        spliced.extend_from_slice(insert.as_bytes());
        spliced.extend_from_slice(&bytes[i..]);
        exercise(&spliced);
    }

    #[test]
    fn arbitrary_text(text in "\\PC{0,64}") {
        exercise(text.as_bytes());
    }
}

#[test]
fn the_sample_verifies() {
    let bytes = sample_proof();
    let proof = TlogProof::parse(&bytes).expect("a valid test fixture");
    proof
        .verify(
            &tree(21).leaf_hash(17).expect("a valid test fixture"),
            &policy(),
        )
        .expect("a valid test fixture");
    exercise(&bytes);
}
