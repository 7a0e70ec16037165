//! Unit tests of `lcm_crypto::hash`.

use super::*;

#[test]
fn names_round_trip() {
    for alg in [HashAlgorithm::Sha256, HashAlgorithm::Blake3] {
        assert_eq!(alg.name().parse::<HashAlgorithm>().unwrap(), alg);
    }
    assert!(matches!(
        "md5".parse::<HashAlgorithm>(),
        Err(Error::UnknownName { .. })
    ));
}

#[test]
fn streaming_equals_one_shot() {
    for alg in [HashAlgorithm::Sha256, HashAlgorithm::Blake3] {
        let data: Vec<u8> = (0..10_000u32).map(|i| i.to_le_bytes()[0]).collect();
        let mut h = Hasher::new(alg);
        for chunk in data.chunks(97) {
            h.update(chunk);
        }
        assert_eq!(h.finalize(), hash(alg, &data));
    }
}

#[test]
fn domain_encoding_is_injective_on_examples() {
    let alg = HashAlgorithm::Sha256;
    let cases: &[(&str, &[&[u8]])] = &[
        ("t", &[b"ab", b"c"]),
        ("t", &[b"a", b"bc"]),
        ("t", &[b"abc"]),
        ("t", &[b"abc", b""]),
        ("t", &[]),
        ("ta", &[b"bc"]),
        ("", &[b"tabc"]),
    ];
    let digests: Vec<Digest> = cases.iter().map(|(d, p)| hash_domain(alg, d, p)).collect();
    for i in 0..digests.len() {
        for j in i + 1..digests.len() {
            assert_ne!(digests[i], digests[j], "{:?} vs {:?}", cases[i], cases[j]);
        }
    }
}

#[test]
fn domain_encoding_is_exactly_as_documented() {
    let mut raw = Vec::new();
    raw.extend_from_slice(&3u64.to_be_bytes());
    raw.extend_from_slice(b"tag");
    raw.extend_from_slice(&2u64.to_be_bytes());
    raw.extend_from_slice(b"hi");
    assert_eq!(
        hash_domain(HashAlgorithm::Sha256, "tag", &[b"hi"]),
        hash(HashAlgorithm::Sha256, &raw)
    );
}
