//! MAC keys, the password KDF, randomness and Ed25519 keys: round trips, tamper tests (one
//! flipped bit anywhere must fail with the right error), parameter floors and redacted
//! `Debug` output of every secret type.

use lcm_crypto::{
    Error, HashAlgorithm, KeyId, MacKey, MacTag, MasterKey, OsRandom, Pbkdf2Params, RandomSource,
    Salt, Seed, SeededRandom, Signature, SigningKey, VerifyingKey,
};
use proptest::prelude::*;

fn algorithm() -> impl Strategy<Value = HashAlgorithm> {
    prop_oneof![Just(HashAlgorithm::Sha256), Just(HashAlgorithm::Blake3)]
}

/// Checks the hex text form of `value`: it parses back from its `Display` form, its `Debug`
/// form is `name(<hex>)`, and the text `bad` is refused for not being `hex_len` characters.
#[track_caller]
fn check_text_form<T>(value: &T, name: &str, bad: &str, hex_len: usize)
where
    T: std::str::FromStr<Err = Error> + std::fmt::Display + std::fmt::Debug + PartialEq,
{
    assert_eq!(
        value.to_string().parse::<T>().expect("its own text"),
        *value
    );
    assert_eq!(format!("{value:?}"), format!("{name}({value})"));
    assert_eq!(
        bad.parse::<T>(),
        Err(Error::HexLength {
            expected: hex_len,
            actual: bad.len()
        })
    );
}

fn flip(bytes: &mut [u8], bit: usize) {
    let bit = bit % (bytes.len() * 8);
    bytes[bit / 8] ^= 1 << (bit % 8);
}

/// A master key at the cheapest accepted cost (the floor), for tests.
fn master(password: &[u8], salt: u8) -> MasterKey {
    let params = Pbkdf2Params::new(Pbkdf2Params::MIN_ITERATIONS).expect("the floor is accepted");
    MasterKey::derive(password, &Salt::from_bytes([salt; 16]), params)
        .expect("tests pass non-empty passwords")
}

proptest! {
    #[test]
    fn mac_verifies_and_rejects_any_flipped_bit(
        alg in algorithm(),
        key in proptest::array::uniform32(any::<u8>()),
        msg in proptest::collection::vec(any::<u8>(), 0..200),
        bit in any::<usize>(),
    ) {
        let key = MacKey::new(alg, &key).unwrap();
        let tag = key.mac(&msg);
        prop_assert_eq!(key.verify(&msg, &tag), Ok(()));
        // A flipped tag bit.
        let mut bad = *tag.as_bytes();
        flip(&mut bad, bit);
        prop_assert_eq!(key.verify(&msg, &MacTag::from_bytes(bad)), Err(Error::MacMismatch));
        // A flipped message bit.
        if !msg.is_empty() {
            let mut bad_msg = msg.clone();
            flip(&mut bad_msg, bit);
            prop_assert_eq!(key.verify(&bad_msg, &tag), Err(Error::MacMismatch));
        }
        // `mac_parts` is `mac` of the concatenation.
        let (a, b) = msg.split_at(bit % (msg.len() + 1));
        prop_assert_eq!(key.mac_parts(&[a, b]), tag);
    }

    #[test]
    fn mac_rejects_a_flipped_key_bit(
        alg in algorithm(),
        key in proptest::array::uniform32(any::<u8>()),
        bit in any::<usize>(),
    ) {
        let tag = MacKey::new(alg, &key).unwrap().mac(b"message");
        let mut other = key;
        flip(&mut other, bit);
        let other = MacKey::new(alg, &other).unwrap();
        prop_assert_eq!(other.verify(b"message", &tag), Err(Error::MacMismatch));
        // The same key bytes under the other algorithm.
        let other_alg = match alg {
            HashAlgorithm::Sha256 => HashAlgorithm::Blake3,
            _ => HashAlgorithm::Sha256,
        };
        let other = MacKey::new(other_alg, &key).unwrap();
        prop_assert_eq!(other.verify(b"message", &tag), Err(Error::MacMismatch));
    }

    #[test]
    fn signatures_reject_any_flipped_bit(
        seed in proptest::array::uniform32(any::<u8>()),
        msg in proptest::collection::vec(any::<u8>(), 1..100),
        bit in any::<usize>(),
    ) {
        let key = SigningKey::from_seed(&Seed::from_bytes(seed));
        let public = key.verifying_key();
        let sig = key.sign(&msg);
        prop_assert_eq!(public.verify(&msg, &sig), Ok(()));
        let mut bad_sig = *sig.as_bytes();
        flip(&mut bad_sig, bit);
        prop_assert_eq!(public.verify(&msg, &Signature::from_bytes(bad_sig)), Err(Error::Signature));
        let mut bad_msg = msg.clone();
        flip(&mut bad_msg, bit);
        prop_assert_eq!(public.verify(&bad_msg, &sig), Err(Error::Signature));
        // A flipped public-key bit gives another key, or no key at all.
        let mut bad_key = *public.as_bytes();
        flip(&mut bad_key, bit);
        match VerifyingKey::from_bytes(&bad_key) {
            Ok(other) => prop_assert_eq!(other.verify(&msg, &sig), Err(Error::Signature)),
            Err(e) => prop_assert_eq!(e, Error::PublicKey),
        }
    }
}

#[test]
fn mac_key_errors() {
    assert_eq!(
        MacKey::new(HashAlgorithm::Sha256, b"").err(),
        Some(Error::EmptySecret { what: "MAC key" })
    );
    assert_eq!(
        MacKey::new(HashAlgorithm::Blake3, &[1; 31]).err(),
        Some(Error::Length {
            what: "a BLAKE3 MAC key",
            expected: 32,
            actual: 31
        })
    );
    // HMAC takes keys of any length, including longer than a block.
    assert!(MacKey::new(HashAlgorithm::Sha256, &[1; 200]).is_ok());
}

#[test]
fn mac_tag_text_form() {
    let key = MacKey::new(HashAlgorithm::Sha256, b"k").unwrap();
    let tag = key.mac(b"m");
    check_text_form(&tag, "MacTag", "00", 64);
}

#[test]
fn pbkdf2_params_floor_and_default() {
    assert_eq!(Pbkdf2Params::default().iterations(), 600_000);
    assert_eq!(Pbkdf2Params::new(100_000).unwrap().iterations(), 100_000);
    assert_eq!(
        Pbkdf2Params::new(99_999),
        Err(Error::KdfIterations {
            minimum: 100_000,
            actual: 99_999
        })
    );
    assert_eq!(
        Pbkdf2Params::new(0),
        Err(Error::KdfIterations {
            minimum: 100_000,
            actual: 0
        })
    );
}

#[test]
fn master_key_depends_on_password_salt_and_label() {
    let params = Pbkdf2Params::new(100_000).unwrap();
    assert_eq!(
        MasterKey::derive(b"", &Salt::from_bytes([0; 16]), params).err(),
        Some(Error::EmptySecret { what: "password" })
    );
    let a = master(b"password", 1);
    let tag = a.mac_key(HashAlgorithm::Sha256, "anchors").mac(b"x");
    // Same inputs, same keys.
    master(b"password", 1)
        .mac_key(HashAlgorithm::Sha256, "anchors")
        .verify(b"x", &tag)
        .unwrap();
    // Any other input, other keys.
    for other in [
        master(b"passwore", 1).mac_key(HashAlgorithm::Sha256, "anchors"),
        master(b"password", 2).mac_key(HashAlgorithm::Sha256, "anchors"),
        a.mac_key(HashAlgorithm::Sha256, "anchorz"),
    ] {
        assert_eq!(other.verify(b"x", &tag), Err(Error::MacMismatch));
    }
    // A MAC key and a seed under the same label are different bytes.
    let seed = a.seed("anchors");
    let from_seed = MacKey::new(HashAlgorithm::Sha256, seed.expose_secret()).unwrap();
    assert_eq!(from_seed.verify(b"x", &tag), Err(Error::MacMismatch));
    // BLAKE3 MAC keys derive too.
    let k3 = a.mac_key(HashAlgorithm::Blake3, "anchors");
    assert_eq!(k3.algorithm(), HashAlgorithm::Blake3);
}

#[test]
fn salt_text_form() {
    let salt = Salt::generate(&mut OsRandom).unwrap();
    assert_ne!(salt, Salt::generate(&mut OsRandom).unwrap());
    assert_eq!(salt.to_string().len(), 32);
    check_text_form(&salt, "Salt", "abc", 32);
    let mut rng = SeededRandom::new(&Seed::from_bytes([3; 32]));
    let mut again = SeededRandom::new(&Seed::from_bytes([3; 32]));
    assert_eq!(
        Salt::generate(&mut rng).unwrap(),
        Salt::generate(&mut again).unwrap()
    );
}

/// A source that always fails, to check that failures propagate.
struct Broken;

impl RandomSource for Broken {
    fn fill(&mut self, _: &mut [u8]) -> Result<(), Error> {
        Err(Error::Randomness)
    }
}

#[test]
fn randomness_failures_propagate() {
    assert_eq!(Salt::generate(&mut Broken), Err(Error::Randomness));
    assert!(matches!(
        Seed::generate(&mut Broken),
        Err(Error::Randomness)
    ));
    assert!(matches!(
        MacKey::generate(HashAlgorithm::Sha256, &mut Broken),
        Err(Error::Randomness)
    ));
    assert!(matches!(
        SigningKey::generate(&mut Broken),
        Err(Error::Randomness)
    ));
    // Through a trait object as well.
    let dyn_source: &mut dyn RandomSource = &mut Broken;
    assert_eq!(Salt::generate(dyn_source), Err(Error::Randomness));
}

#[test]
fn secrets_never_print_their_bytes() {
    let seed_bytes = [0xab; 32];
    let key = SigningKey::from_seed(&Seed::from_bytes(seed_bytes));
    let printed = [
        format!(
            "{:?}",
            MacKey::new(HashAlgorithm::Sha256, &seed_bytes).unwrap()
        ),
        format!(
            "{:?}",
            MacKey::new(HashAlgorithm::Blake3, &seed_bytes).unwrap()
        ),
        format!("{:?}", master(b"pw", 0)),
        format!("{:?}", Seed::from_bytes(seed_bytes)),
        format!("{:?}", SeededRandom::new(&Seed::from_bytes(seed_bytes))),
        format!("{key:?}"),
        format!("{:#?}", key),
    ];
    assert_eq!(printed[0], "MacKey { .. }");
    assert_eq!(printed[2], "MasterKey { .. }");
    assert_eq!(printed[3], "Seed { .. }");
    assert_eq!(
        printed[5],
        format!("SigningKey {{ key_id: {:?}, .. }}", key.key_id())
    );
    for p in &printed {
        assert!(!p.to_lowercase().contains("abababab"), "{p}");
        assert!(!p.contains("171, 171"), "{p}");
    }
}

#[test]
fn signing_key_round_trips_through_its_seed() {
    let key = SigningKey::generate(&mut OsRandom).unwrap();
    let again = SigningKey::from_seed(&key.to_seed());
    assert_eq!(again.verifying_key(), key.verifying_key());
    assert_eq!(again.sign(b"m"), key.sign(b"m"));
    let mut a = SeededRandom::new(&Seed::from_bytes([5; 32]));
    let mut b = SeededRandom::new(&Seed::from_bytes([5; 32]));
    assert_eq!(
        SigningKey::generate(&mut a).unwrap().verifying_key(),
        SigningKey::generate(&mut b).unwrap().verifying_key()
    );
}

#[test]
fn public_keys_are_validated() {
    // The identity point (y = 1) is a valid encoding but of small order: refused.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    assert_eq!(VerifyingKey::from_bytes(&identity), Err(Error::PublicKey));
    // y = 2 is not on the curve.
    let mut not_a_point = [0u8; 32];
    not_a_point[0] = 2;
    assert_eq!(
        VerifyingKey::from_bytes(&not_a_point),
        Err(Error::PublicKey)
    );
    assert_eq!(
        VerifyingKey::try_from_slice(&[0; 31]),
        Err(Error::Length {
            what: "an Ed25519 public key",
            expected: 32,
            actual: 31
        })
    );
    assert_eq!(
        Signature::try_from_slice(&[0; 63]),
        Err(Error::Length {
            what: "an Ed25519 signature",
            expected: 64,
            actual: 63
        })
    );
}

#[test]
fn key_ids_and_text_forms() {
    let key = SigningKey::from_seed(&Seed::from_bytes([1; 32]));
    let other = SigningKey::from_seed(&Seed::from_bytes([2; 32]));
    let public = key.verifying_key();
    assert_eq!(public.check_key_id(&key.key_id()), Ok(()));
    assert_eq!(
        public.check_key_id(&other.key_id()),
        Err(Error::KeyIdMismatch {
            expected: other.key_id(),
            actual: key.key_id()
        })
    );
    let id = key.key_id();
    assert_eq!(
        id.as_digest(),
        &lcm_crypto::hash_domain(HashAlgorithm::Sha256, "lcm key id", &[public.as_bytes()])
    );
    assert_eq!(id.to_string().parse::<KeyId>().unwrap(), id);
    assert_eq!(KeyId::from_digest(*id.as_digest()), id);
    assert_eq!(public.to_string().parse::<VerifyingKey>().unwrap(), public);
    assert_eq!(format!("{public:?}"), format!("VerifyingKey({public})"));
    let sig = key.sign(b"m");
    assert_eq!(sig.to_string().len(), 128);
    assert_eq!(sig.to_string().parse::<Signature>().unwrap(), sig);
    assert_eq!(Signature::try_from_slice(sig.as_bytes()).unwrap(), sig);
    assert!("zz".parse::<Signature>().is_err());
}

#[cfg(feature = "serde")]
#[test]
fn serde_forms() {
    let key = SigningKey::from_seed(&Seed::from_bytes([1; 32]));
    let public = key.verifying_key();
    let json = serde_json::to_string(&public).unwrap();
    assert_eq!(json, format!("\"{public}\""));
    assert_eq!(serde_json::from_str::<VerifyingKey>(&json).unwrap(), public);
    let sig = key.sign(b"m");
    assert_eq!(
        serde_json::from_str::<Signature>(&serde_json::to_string(&sig).unwrap()).unwrap(),
        sig
    );
    let id = key.key_id();
    assert_eq!(serde_json::to_string(&id).unwrap(), format!("\"{id}\""));
    let salt = Salt::from_bytes([7; 16]);
    assert_eq!(serde_json::to_string(&salt).unwrap(), format!("\"{salt}\""));
    assert_eq!(
        serde_json::from_str::<Salt>(&format!("\"{salt}\"")).unwrap(),
        salt
    );
    let params = Pbkdf2Params::new(123_456).unwrap();
    assert_eq!(
        serde_json::to_string(&params).unwrap(),
        r#"{"iterations":123456}"#
    );
    assert_eq!(
        serde_json::from_str::<Pbkdf2Params>(r#"{"iterations":123456}"#).unwrap(),
        params
    );
    assert!(serde_json::from_str::<Pbkdf2Params>(r#"{"iterations":1000}"#).is_err());
    let tag = MacKey::new(HashAlgorithm::Sha256, b"k").unwrap().mac(b"m");
    assert_eq!(
        serde_json::from_str::<MacTag>(&serde_json::to_string(&tag).unwrap()).unwrap(),
        tag
    );
    // A weak key is refused on the way in, too.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let weak = format!("\"{}\"", lcm_crypto::hex::encode(&identity));
    assert!(serde_json::from_str::<VerifyingKey>(&weak).is_err());
}

/// RFC 8410 §10.3's private key and §10.1's public key (the same key pair), as openssl
/// writes them.
const RFC8410_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----\n\
    MC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n\
    -----END PRIVATE KEY-----\n";
const RFC8410_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----\n\
    MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n\
    -----END PUBLIC KEY-----\n";

#[test]
fn pem_keys_read_the_rfc_8410_examples() {
    let key = SigningKey::from_pkcs8_pem(RFC8410_PRIVATE).expect("RFC 8410 private key");
    assert_eq!(
        key.to_seed().expose_secret(),
        &[
            0xd4, 0xee, 0x72, 0xdb, 0xf9, 0x13, 0x58, 0x4a, 0xd5, 0xb6, 0xd8, 0xf1, 0xf7, 0x69,
            0xf8, 0xad, 0x3a, 0xfe, 0x7c, 0x28, 0xcb, 0xf1, 0xd4, 0xfb, 0xe0, 0x97, 0xa8, 0x8f,
            0x44, 0x75, 0x58, 0x42
        ]
    );
    let public = VerifyingKey::from_public_key_pem(RFC8410_PUBLIC).expect("RFC 8410 public key");
    assert_eq!(public, key.verifying_key());
    // lcm writes the same texts back (openssl's form: 64-character lines, LF).
    assert_eq!(
        key.to_pkcs8_pem().expect("encode").as_str(),
        RFC8410_PRIVATE
    );
    assert_eq!(public.to_public_key_pem().expect("encode"), RFC8410_PUBLIC);
}

#[test]
fn pem_keys_round_trip_and_refuse_tampering() {
    let key = SigningKey::from_seed(&Seed::from_bytes([7; 32]));
    let private = key.to_pkcs8_pem().expect("encode");
    let public = key.verifying_key().to_public_key_pem().expect("encode");
    let back = SigningKey::from_pkcs8_pem(&private).expect("own private key");
    assert_eq!(back.key_id(), key.key_id());
    let signature = back.sign(b"m");
    VerifyingKey::from_public_key_pem(&public)
        .expect("own public key")
        .verify(b"m", &signature)
        .expect("verifies");
    // The other label, each form for the other: refused with the form expected.
    let label = |e: Error| match e {
        Error::KeyPem { label, .. } => label,
        other => panic!("not a PEM error: {other}"),
    };
    let e = SigningKey::from_pkcs8_pem(&public).expect_err("a public key is no private key");
    assert_eq!(label(e), "PRIVATE KEY");
    let e = VerifyingKey::from_public_key_pem(&private).expect_err("a private key is refused");
    assert_eq!(label(e), "PUBLIC KEY");
    // One base64 character changed in the key bytes: another key, or no key at all; never
    // the original.
    let tampered = RFC8410_PUBLIC.replacen("Gb9E", "Gb9F", 1);
    assert_ne!(tampered, RFC8410_PUBLIC);
    let original = VerifyingKey::from_public_key_pem(RFC8410_PUBLIC).expect("public key");
    assert_ne!(
        VerifyingKey::from_public_key_pem(&tampered).ok(),
        Some(original)
    );
    // One character changed in the algorithm identifier (1.3.101.112 → .113, Ed448): refused.
    let ed448 = RFC8410_PRIVATE.replacen("K2Vw", "K2Vx", 1);
    assert!(matches!(
        SigningKey::from_pkcs8_pem(&ed448),
        Err(Error::KeyPem { .. })
    ));
    // Truncated and empty inputs.
    assert!(SigningKey::from_pkcs8_pem(&RFC8410_PRIVATE[..40]).is_err());
    assert!(VerifyingKey::from_public_key_pem("").is_err());
}
