//! Known-answer tests from the specifications: RFC 4231 (HMAC-SHA256), FIPS 180-4 (SHA-256),
//! the official BLAKE3 vectors, RFC 7914 and a hashlib vector (PBKDF2-HMAC-SHA256), and
//! RFC 8032 (Ed25519). The vectors live in `tests/vectors/*.json`, each with a `_comment`
//! naming its source.

use lcm_crypto::{
    HashAlgorithm, Hasher, MacKey, MacTag, MasterKey, Pbkdf2Params, Salt, Seed, Signature,
    SigningKey, VerifyingKey, hash, hex,
};
use serde_json::Value;

fn vectors(text: &str) -> Vec<Value> {
    let v: Value = serde_json::from_str(text).expect("vector files are JSON");
    assert!(
        v["_comment"].as_str().is_some_and(|c| !c.is_empty()),
        "every vector file names its source"
    );
    v["cases"]
        .as_array()
        .expect("vector files have cases")
        .clone()
}

fn bytes(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().expect("a hex string")).expect("valid hex")
}

#[test]
fn rfc4231_hmac_sha256() {
    let cases = vectors(include_str!("vectors/rfc4231.json"));
    assert_eq!(cases.len(), 7);
    for case in cases {
        let key = MacKey::new(HashAlgorithm::Sha256, &bytes(&case["key"])).unwrap();
        let data = bytes(&case["data"]);
        let expected = bytes(&case["hmac_sha256"]);
        let tag = key.mac(&data);
        match case["truncated_to_bytes"].as_u64() {
            // Test case 5: only a prefix is specified.
            Some(n) => assert_eq!(
                &tag.as_bytes()[..usize::try_from(n).unwrap()],
                &expected[..],
                "case {}",
                case["case"]
            ),
            None => {
                let expected = MacTag::from_bytes(expected.try_into().unwrap());
                assert_eq!(tag, expected, "case {}", case["case"]);
                key.verify(&data, &expected).unwrap();
            }
        }
    }
}

#[test]
fn fips180_sha256() {
    for case in vectors(include_str!("vectors/sha256-kat.json")) {
        let unit = case["ascii"].as_str().unwrap().as_bytes();
        let repeat = usize::try_from(case["repeat"].as_u64().unwrap_or(1)).unwrap();
        let message = unit.repeat(repeat);
        let expected = case["sha256"].as_str().unwrap();
        assert_eq!(
            hash(HashAlgorithm::Sha256, &message).to_hex(),
            expected,
            "{}",
            case["name"]
        );
        // The streaming hasher, fed in uneven pieces, agrees.
        let mut h = Hasher::new(HashAlgorithm::Sha256);
        for piece in message.chunks(1000 - 7) {
            h.update(piece);
        }
        assert_eq!(
            h.finalize().to_hex(),
            expected,
            "{} (streaming)",
            case["name"]
        );
    }
}

#[test]
fn blake3_official_known_answers() {
    let text = include_str!("vectors/blake3-kat.json");
    let file: Value = serde_json::from_str(text).unwrap();
    let key = MacKey::new(
        HashAlgorithm::Blake3,
        file["key"].as_str().unwrap().as_bytes(),
    )
    .unwrap();
    let cases = vectors(text);
    assert!(cases.len() >= 5);
    for case in cases {
        let len = usize::try_from(case["input_len"].as_u64().unwrap()).unwrap();
        let input: Vec<u8> = (0..len).map(|i| u8::try_from(i % 251).unwrap()).collect();
        assert_eq!(
            hash(HashAlgorithm::Blake3, &input).to_hex(),
            case["hash"].as_str().unwrap(),
            "len {len}"
        );
        let tag = MacTag::from_hex(case["keyed_hash"].as_str().unwrap()).unwrap();
        assert_eq!(key.mac(&input), tag, "keyed, len {len}");
        key.verify(&input, &tag).unwrap();
    }
}

/// PBKDF2 through the public API: [`MasterKey`] keeps its PBKDF2 output as the HKDF
/// pseudo-random key, so a sub-key pins both the PBKDF2 output and the expand step (checked
/// with the `hkdf` crate). The vectors below the public floor of 100,000 iterations are
/// covered by the unit tests of the raw function.
#[test]
fn pbkdf2_hmac_sha256_at_the_floor() {
    let mut at_floor = 0;
    for case in vectors(include_str!("vectors/pbkdf2.json")) {
        let iterations = u32::try_from(case["iterations"].as_u64().unwrap()).unwrap();
        let Ok(params) = Pbkdf2Params::new(iterations) else {
            assert!(iterations < Pbkdf2Params::MIN_ITERATIONS);
            continue;
        };
        at_floor += 1;
        let salt = Salt::from_bytes(bytes(&case["salt"]).try_into().unwrap());
        let master = MasterKey::derive(&bytes(&case["password"]), &salt, params).unwrap();
        let dk = bytes(&case["dk"]);
        let hk = hkdf::Hkdf::<sha2::Sha256>::from_prk(&dk).unwrap();
        let mut expected = [0u8; 32];
        hk.expand(b"lcm subkey seed:anchors", &mut expected)
            .unwrap();
        assert_eq!(master.seed("anchors").expose_secret(), &expected);
        hk.expand(b"lcm subkey mac:anchors", &mut expected).unwrap();
        let mac_key = master.mac_key(HashAlgorithm::Sha256, "anchors");
        let reference = MacKey::new(HashAlgorithm::Sha256, &expected).unwrap();
        assert_eq!(mac_key.mac(b"record"), reference.mac(b"record"));
    }
    assert_eq!(at_floor, 1);
}

#[test]
fn rfc8032_ed25519() {
    for case in vectors(include_str!("vectors/ed25519.json")) {
        let seed = Seed::from_bytes(bytes(&case["secret_key"]).try_into().unwrap());
        let key = SigningKey::from_seed(&seed);
        let public = VerifyingKey::from_hex(case["public_key"].as_str().unwrap()).unwrap();
        assert_eq!(key.verifying_key(), public, "{}", case["name"]);
        let message = bytes(&case["message"]);
        let signature = key.sign(&message);
        assert_eq!(
            signature,
            Signature::from_hex(case["signature"].as_str().unwrap()).unwrap()
        );
        public.verify(&message, &signature).unwrap();
    }
}
