//! Unit tests of `lcm_crypto::kdf`.

use super::*;
use crate::hex;

#[track_caller]
fn check(password: &[u8], salt: &[u8], iterations: u32, len: usize) {
    let mut ours = vec![0u8; len];
    pbkdf2_hmac_sha256(password, salt, iterations, &mut ours);
    let mut theirs = vec![0u8; len];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, iterations, &mut theirs);
    assert_eq!(
        ours, theirs,
        "p={password:?} s={salt:?} c={iterations} len={len}"
    );
}

/// The differential oracle of the hand-written loop: the `pbkdf2` crate.
#[test]
fn pbkdf2_matches_the_pbkdf2_crate() {
    for (p, s) in [
        (&b"p"[..], &b""[..]),
        (b"password", b"salt"),
        (&[0x61; 100], &[7; 70]),
    ] {
        for c in [1, 2, 3, 1000] {
            for len in [1, 20, 32, 33, 64, 100] {
                check(p, s, c, len);
            }
        }
    }
}

/// The vectors of `tests/vectors/pbkdf2.json` (RFC 7914 §11 with 1 and 80,000 iterations,
/// and a 100,000-iteration vector from Python's hashlib), on the raw function.
#[test]
fn pbkdf2_known_answers() {
    let file: serde_json::Value =
        serde_json::from_str(include_str!("../../tests/vectors/pbkdf2.json")).unwrap();
    let cases = file["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 3);
    for case in cases {
        let field = |name: &str| hex::decode(case[name].as_str().unwrap()).unwrap();
        let expected = field("dk");
        let mut out = vec![0u8; expected.len()];
        let iterations = u32::try_from(case["iterations"].as_u64().unwrap()).unwrap();
        pbkdf2_hmac_sha256(&field("password"), &field("salt"), iterations, &mut out);
        assert_eq!(out, expected, "{case}");
    }
}

/// RFC 5869 appendix A.1 (test case 1): from its PRK, the first 32 bytes of the OKM are
/// `T(1) = HMAC(PRK, info || 0x01)`, which is what `expand` computes (info = prefix || label).
#[test]
fn rfc5869_expand_first_block() {
    let prk =
        hex::decode("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5").unwrap();
    let master = MasterKey {
        prk: HmacSha256::new(&prk),
    };
    let info: Vec<u8> = (0xf0..=0xf9).collect();
    assert_eq!(
        hex::encode(&master.expand(&info, "")),
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
    );
}

/// A master key from a one-iteration PBKDF2 of `password`, and the `hkdf` crate keyed by the
/// same pseudo-random key (the oracle).
fn master_and_oracle(password: &[u8]) -> (MasterKey, hkdf::Hkdf<sha2::Sha256>) {
    let mut okm = [0u8; 32];
    pbkdf2_hmac_sha256(password, b"salt", 1, &mut okm);
    (
        MasterKey::from_prk(&okm),
        hkdf::Hkdf::from_prk(&okm).unwrap(),
    )
}

#[test]
fn labels_and_kinds_separate_sub_keys() {
    let (master, hk) = master_and_oracle(b"pw");
    let mut expected = [0u8; 32];
    hk.expand(b"lcm subkey seed:models", &mut expected).unwrap();
    assert_eq!(master.seed("models").expose_secret(), &expected);
    assert_ne!(
        master.seed("models").expose_secret(),
        master.seed("model").expose_secret()
    );
    assert_eq!(format!("{master:?}"), "MasterKey { .. }");
}

/// The `hkdf` crate is the oracle of `expand`: every label length from empty to past two
/// blocks of `info`, both kinds of sub-key, and a label with one byte changed (the tamper
/// twin) never gives the same seed.
#[test]
fn expand_matches_the_hkdf_crate_for_every_label_length() {
    let (master, hk) = master_and_oracle(b"password");
    let text: String = ('a'..='z').cycle().take(150).collect();
    for len in 0..=text.len() {
        let label = &text[..len];
        let mut expected = [0u8; 32];
        hk.expand_multi_info(&[b"lcm subkey seed:", label.as_bytes()], &mut expected)
            .unwrap();
        assert_eq!(master.seed(label).expose_secret(), &expected, "seed {len}");
        hk.expand_multi_info(&[b"lcm subkey mac:", label.as_bytes()], &mut expected)
            .unwrap();
        let from_oracle = MacKey::new(HashAlgorithm::Sha256, &expected).unwrap();
        let derived = master.mac_key(HashAlgorithm::Sha256, label);
        derived
            .verify(b"message", &from_oracle.mac(b"message"))
            .unwrap_or_else(|e| panic!("mac key {len}: {e}"));
        if len > 0 {
            let mut tampered = label.as_bytes().to_vec();
            tampered[len - 1] = b'#';
            let tampered = String::from_utf8(tampered).unwrap();
            assert_ne!(
                master.seed(&tampered).expose_secret(),
                master.seed(label).expose_secret(),
                "tampered label {len}"
            );
        }
    }
}
