//! Unit tests of `lcm_model::record`.

use super::*;

#[derive(Debug, Serialize)]
struct Example {
    name: String,
}

impl Record for Example {
    const KIND: &'static str = "example";
}

#[derive(Serialize)]
struct Other {
    name: String,
}

impl Record for Other {
    const KIND: &'static str = "other";
}

#[test]
fn kind_and_policy_separate_digests() {
    let p = Policy::default();
    let a = Example { name: "x".into() }.digest(&p).unwrap();
    let b = Other { name: "x".into() }.digest(&p).unwrap();
    assert_ne!(a, b);
    let blake = Policy {
        hash_algorithm: lcm_crypto::HashAlgorithm::Blake3,
        ..p
    };
    assert_ne!(a, Example { name: "x".into() }.digest(&blake).unwrap());
}

#[test]
fn sealed_verify_detects_tamper() {
    let p = Policy::default();
    let mut s = Claimed::from(Sealed::seal(Example { name: "x".into() }, &p).unwrap());
    assert!(s.verify(&p).is_ok());
    s.record.name = "y".into();
    assert_matches!(
        s.check(&p),
        Err(Error::DigestMismatch {
            record: "example",
            ..
        })
    );
}
