//! Unit tests of `lcm_crypto::commit`.

use hmac::{KeyInit, Mac};
use sha2::Digest as _;

use super::*;
use crate::hash_domain;

fn committer(scheme: CommitmentScheme, algorithm: HashAlgorithm) -> Committer {
    Committer::from_seed(scheme, algorithm, &Seed::from_bytes([9; 32]))
}

/// The documented constructions, recomputed with the reference crates.
#[test]
fn constructions_are_as_documented() {
    let seed = [9u8; 32];
    let data = b"some data";
    let mut prf_input = Vec::new();
    prf_input.extend_from_slice(&seed);
    prf_input.extend_from_slice(PRF_TAG);
    prf_input.extend_from_slice(&3u64.to_be_bytes());
    prf_input.extend_from_slice(b"abc");
    prf_input.extend_from_slice(&5u64.to_be_bytes());
    let r: [u8; 32] = sha2::Sha256::digest(&prf_input).into();

    let (c, o) =
        committer(CommitmentScheme::Hmac, HashAlgorithm::Sha256).commit_labeled(b"abc", 5, data);
    assert_eq!(o.reveal().as_bytes(), &r);
    let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(&r).unwrap();
    m.update(b"lcm commitment hmac");
    m.update(data);
    assert_eq!(c.value.as_bytes()[..], m.finalize().into_bytes()[..]);

    let (c, _) =
        committer(CommitmentScheme::Salted, HashAlgorithm::Sha256).commit_labeled(b"abc", 5, data);
    assert_eq!(
        c.value,
        hash_domain(HashAlgorithm::Sha256, SALTED_DOMAIN, &[&r, data])
    );

    let key = blake3::derive_key(PRF_CONTEXT, &seed);
    let r3 = *blake3::keyed_hash(&key, &prf_input[64..]).as_bytes();
    let (c, o) =
        committer(CommitmentScheme::Hmac, HashAlgorithm::Blake3).commit_labeled(b"abc", 5, data);
    assert_eq!(o.reveal().as_bytes(), &r3);
    let expected = blake3::keyed_hash(&r3, &[&b"lcm commitment hmac"[..], data].concat());
    assert_eq!(c.value.as_bytes(), expected.as_bytes());

    for alg in [HashAlgorithm::Sha256, HashAlgorithm::Blake3] {
        for data in [&b""[..], data, &[7; 150]] {
            let c = committer(CommitmentScheme::Salted, alg);
            let (commitment, opening) = c.commit(2, data);
            let r = opening.reveal();
            assert_eq!(
                commitment.value,
                hash_domain(alg, SALTED_DOMAIN, &[r.as_bytes(), data])
            );
            let (commitment, _) = committer(CommitmentScheme::Plaintext, alg).commit(2, data);
            assert_eq!(
                commitment.value,
                hash_domain(alg, PLAINTEXT_DOMAIN, &[data])
            );
        }
    }

    let (c, o) = committer(CommitmentScheme::Plaintext, HashAlgorithm::Blake3).commit(1, data);
    assert_eq!(
        c.value,
        hash_domain(HashAlgorithm::Blake3, PLAINTEXT_DOMAIN, &[data])
    );
    assert_eq!(o.reveal().to_string(), "plaintext:");
}

#[test]
fn one_block_hmac_path_matches_the_hmac_crate() {
    let data: Vec<u8> = (0..=255u8).cycle().take(100).collect();
    let secret = [0x5au8; 32];
    for len in 0..data.len() {
        let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(&secret).unwrap();
        m.update(HMAC_TAG);
        m.update(&data[..len]);
        let expected: [u8; 32] = m.finalize().into_bytes().into();
        assert_eq!(
            hmac_sha256_value(&secret, &data[..len]),
            expected,
            "len {len}"
        );
    }
}

/// The one-block PRF path is SHA-256 of the documented PRF input for every label length up
/// to past the boundary (where `sha256_finish` takes over), and a nonce or label changed in
/// one byte (the tamper twins) gives another opening.
#[test]
fn prf_is_sha256_of_its_input_for_every_label_length() {
    let seed = [9u8; 32];
    let c = committer(CommitmentScheme::Hmac, HashAlgorithm::Sha256);
    let labels: Vec<u8> = (1..=100u8).collect();
    for len in 0..labels.len() {
        let label = &labels[..len];
        let nonce = 0x0102_0304_0506_0708u64 ^ u64::try_from(len).unwrap();
        let input = [
            &seed[..],
            PRF_TAG,
            &u64::try_from(len).unwrap().to_be_bytes(),
            label,
            &nonce.to_be_bytes(),
        ]
        .concat();
        let expected: [u8; 32] = sha2::Sha256::digest(&input).into();
        let opening = c.opening_labeled(label, nonce);
        assert_eq!(opening.reveal().as_bytes(), &expected, "label {len}");
        assert_eq!(
            prf_block([0; 8], label, [0; 8]).is_some(),
            len <= ONE_BLOCK_LABEL,
            "label {len}"
        );
        let other = c.opening_labeled(label, nonce ^ 1);
        assert_ne!(other.reveal().as_bytes(), &expected, "nonce, label {len}");
        if let Some((last, head)) = label.split_last() {
            let tampered = [head, &[last ^ 0x80]].concat();
            let other = c.opening_labeled(&tampered, nonce);
            assert_ne!(other.reveal().as_bytes(), &expected, "label byte {len}");
        }
    }
}

#[test]
fn debug_is_redacted() {
    let c = committer(CommitmentScheme::Salted, HashAlgorithm::Sha256);
    let (_, o) = c.commit(0, b"x");
    assert_eq!(format!("{o:?}"), "Opening { scheme: Salted, .. }");
    assert_eq!(
        format!("{c:?}"),
        "Committer { scheme: Salted, algorithm: Sha256, .. }"
    );
}
