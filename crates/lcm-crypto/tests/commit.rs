//! Commitments: every commitment opens with its own opening and data, and with nothing else
//! (another record's opening, other data, another scheme or algorithm, one flipped bit in the
//! value or the opening), each failure with the right error; openings re-derive, disclose one
//! record at a time, and never print their secret.

use lcm_crypto::{
    Commitment, CommitmentScheme, Committer, Error, HashAlgorithm, MasterKey, Opening, OsRandom,
    Pbkdf2Params, RevealedOpening, Salt, Seed, SeededRandom, hex,
};
use proptest::prelude::*;
use serde_json::{Value, json};

const SCHEMES: [CommitmentScheme; 3] = [
    CommitmentScheme::Hmac,
    CommitmentScheme::Plaintext,
    CommitmentScheme::Salted,
];

fn algorithm() -> impl Strategy<Value = HashAlgorithm> {
    prop_oneof![Just(HashAlgorithm::Sha256), Just(HashAlgorithm::Blake3)]
}

fn scheme() -> impl Strategy<Value = CommitmentScheme> {
    proptest::sample::select(SCHEMES.to_vec())
}

fn committer(scheme: CommitmentScheme, alg: HashAlgorithm, seed: [u8; 32]) -> Committer {
    Committer::from_seed(scheme, alg, &Seed::from_bytes(seed))
}

fn flip(bytes: &mut [u8], bit: usize) {
    let bit = bit % (bytes.len() * 8);
    bytes[bit / 8] ^= 1 << (bit % 8);
}

proptest! {
    #[test]
    fn a_commitment_opens_with_its_own_opening_only(
        scheme in scheme(),
        alg in algorithm(),
        seed in proptest::array::uniform32(any::<u8>()),
        label in proptest::collection::vec(any::<u8>(), 0..80),
        nonce in any::<u64>(),
        data in proptest::collection::vec(any::<u8>(), 0..200),
        bit in any::<usize>(),
    ) {
        let c = committer(scheme, alg, seed);
        let (commitment, opening) = c.commit_labeled(&label, nonce, &data);
        prop_assert_eq!(commitment.scheme, scheme);
        prop_assert_eq!(commitment.algorithm, alg);
        prop_assert_eq!(commitment.verify(&data, &opening), Ok(()));

        // The opening re-derives, and so does the commitment.
        prop_assert_eq!(commitment.verify(&data, &c.opening_labeled(&label, nonce)), Ok(()));
        prop_assert_eq!(c.commit_labeled(&label, nonce, &data).0, commitment);

        // Other data.
        let mut other_data = data.clone();
        other_data.push(0);
        prop_assert_eq!(commitment.verify(&other_data, &opening), Err(Error::CommitmentMismatch));
        if !data.is_empty() {
            let mut flipped = data.clone();
            flip(&mut flipped, bit);
            prop_assert_eq!(commitment.verify(&flipped, &opening), Err(Error::CommitmentMismatch));
        }

        // One flipped bit in the value.
        let mut value = commitment.value.to_bytes();
        flip(&mut value, bit);
        let tampered = Commitment { value: lcm_crypto::Digest::from_bytes(value), ..commitment };
        prop_assert_eq!(tampered.verify(&data, &opening), Err(Error::CommitmentMismatch));

        // The other algorithm.
        let other_alg = match alg {
            HashAlgorithm::Sha256 => HashAlgorithm::Blake3,
            _ => HashAlgorithm::Sha256,
        };
        let tampered = Commitment { algorithm: other_alg, ..commitment };
        prop_assert_eq!(tampered.verify(&data, &opening), Err(Error::CommitmentMismatch));

        // An opening of another scheme.
        for other in SCHEMES.into_iter().filter(|s| *s != scheme) {
            let wrong = committer(other, alg, seed).opening_labeled(&label, nonce);
            prop_assert_eq!(
                commitment.verify(&data, &wrong),
                Err(Error::SchemeMismatch { expected: scheme.name(), actual: other.name() })
            );
        }

        if scheme != CommitmentScheme::Plaintext {
            // Another record's opening: another nonce, another label, another seed.
            let other_nonce = c.opening_labeled(&label, nonce.wrapping_add(1));
            prop_assert_eq!(commitment.verify(&data, &other_nonce), Err(Error::CommitmentMismatch));
            let mut other_label = label.clone();
            other_label.push(b'x');
            let other_label = c.opening_labeled(&other_label, nonce);
            prop_assert_eq!(commitment.verify(&data, &other_label), Err(Error::CommitmentMismatch));
            let mut other_seed = seed;
            flip(&mut other_seed, bit);
            let other_seed = committer(scheme, alg, other_seed).opening_labeled(&label, nonce);
            prop_assert_eq!(commitment.verify(&data, &other_seed), Err(Error::CommitmentMismatch));

            // One flipped bit in the opening.
            let revealed = opening.reveal();
            let mut bytes = revealed.as_bytes().to_vec();
            flip(&mut bytes, bit);
            let flipped = RevealedOpening::from_parts(scheme, &bytes).unwrap();
            prop_assert_eq!(
                commitment.verify(&data, &Opening::from_revealed(&flipped)),
                Err(Error::CommitmentMismatch)
            );
        }

        // The disclosed form round-trips through text and still opens.
        let text = opening.reveal().to_string();
        let back: RevealedOpening = text.parse().unwrap();
        prop_assert_eq!(&back, &opening.reveal());
        prop_assert_eq!(commitment.verify(&data, &Opening::from_revealed(&back)), Ok(()));
    }

    #[test]
    fn hiding_schemes_give_unrelated_values_for_equal_data(
        alg in algorithm(),
        seed in proptest::array::uniform32(any::<u8>()),
        nonce in any::<u64>(),
        data in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        for scheme in [CommitmentScheme::Hmac, CommitmentScheme::Salted] {
            let c = committer(scheme, alg, seed);
            let (a, _) = c.commit(nonce, &data);
            let (b, _) = c.commit(nonce.wrapping_add(1), &data);
            prop_assert_ne!(a.value, b.value);
        }
        // Plaintext commitments are a function of the data alone.
        let (a, _) = committer(CommitmentScheme::Plaintext, alg, seed).commit(nonce, &data);
        let (b, _) = committer(CommitmentScheme::Plaintext, alg, [0; 32]).commit(0, &data);
        prop_assert_eq!(a, b);
    }
}

#[test]
fn unlabelled_nonces_equal_the_empty_label() {
    let c = committer(CommitmentScheme::Salted, HashAlgorithm::Sha256, [4; 32]);
    assert_eq!(c.commit(9, b"d").0, c.commit_labeled(b"", 9, b"d").0);
    assert_eq!(c.opening(9).reveal(), c.opening_labeled(b"", 9).reveal());
}

#[test]
fn from_random_committers_differ() {
    let a = Committer::from_random(CommitmentScheme::Hmac, HashAlgorithm::Sha256, &mut OsRandom)
        .unwrap();
    let b = Committer::from_random(CommitmentScheme::Hmac, HashAlgorithm::Sha256, &mut OsRandom)
        .unwrap();
    assert_ne!(a.commit(0, b"d").0, b.commit(0, b"d").0);
    let mut rng = SeededRandom::new(&Seed::from_bytes([8; 32]));
    let mut again = SeededRandom::new(&Seed::from_bytes([8; 32]));
    let c = Committer::from_random(CommitmentScheme::Salted, HashAlgorithm::Blake3, &mut rng);
    let d = Committer::from_random(CommitmentScheme::Salted, HashAlgorithm::Blake3, &mut again);
    assert_eq!(c.unwrap().commit(1, b"d").0, d.unwrap().commit(1, b"d").0);
}

#[test]
fn plaintext_openings_are_empty() {
    let c = committer(CommitmentScheme::Plaintext, HashAlgorithm::Sha256, [1; 32]);
    let (commitment, opening) = c.commit(3, b"public data");
    assert_eq!(opening.reveal().to_string(), "plaintext:");
    assert!(opening.reveal().as_bytes().is_empty());
    commitment
        .verify(b"public data", &Opening::plaintext())
        .unwrap();
}

#[track_caller]
fn check_scheme(input: &str, expected: Result<CommitmentScheme, Error>) {
    assert_eq!(input.parse::<CommitmentScheme>(), expected, "{input:?}");
}

#[test]
fn scheme_names() {
    check_scheme("HMAC-SHA256", Ok(CommitmentScheme::Hmac));
    check_scheme("plaintext", Ok(CommitmentScheme::Plaintext));
    check_scheme("salted", Ok(CommitmentScheme::Salted));
    let unknown = |name: &str| Error::UnknownName {
        what: "commitment scheme",
        name: name.to_owned(),
        expected: "\"HMAC-SHA256\", \"plaintext\", \"salted\"",
    };
    check_scheme("SALTED", Err(unknown("SALTED")));
    check_scheme("direct", Err(unknown("direct")));
    for s in SCHEMES {
        assert_eq!(s.to_string(), s.name());
        check_scheme(s.name(), Ok(s));
    }
    assert_eq!(CommitmentScheme::default(), CommitmentScheme::Salted);
}

#[track_caller]
fn check_revealed(input: &str, expected: Result<(), Error>) {
    assert_eq!(
        input.parse::<RevealedOpening>().map(|_| ()),
        expected,
        "{input:?}"
    );
}

#[test]
fn revealed_opening_text_form() {
    let hex64 = "ab".repeat(32);
    check_revealed(&format!("salted:{hex64}"), Ok(()));
    check_revealed(&format!("HMAC-SHA256:{hex64}"), Ok(()));
    check_revealed("plaintext:", Ok(()));
    check_revealed(
        "plaintext:00",
        Err(Error::Length {
            what: "a commitment opening",
            expected: 0,
            actual: 1,
        }),
    );
    check_revealed(
        "salted:",
        Err(Error::Length {
            what: "a commitment opening",
            expected: 32,
            actual: 0,
        }),
    );
    check_revealed("salted:0", Err(Error::HexOddLength { actual: 1 }));
    check_revealed(
        &format!("salted:{}", "AB".repeat(32)),
        Err(Error::HexCharacter {
            index: 0,
            character: 'A',
        }),
    );
    assert!(matches!(
        hex64.parse::<RevealedOpening>(),
        Err(Error::UnknownName { .. })
    ));
    assert!(matches!(
        format!("hmac:{hex64}").parse::<RevealedOpening>(),
        Err(Error::UnknownName { .. })
    ));
    let r: RevealedOpening = format!("salted:{hex64}").parse().unwrap();
    assert_eq!(r.scheme(), CommitmentScheme::Salted);
    assert_eq!(format!("{r:?}"), format!("RevealedOpening(salted:{hex64})"));
}

#[test]
fn secrets_never_print_their_bytes() {
    let c = committer(CommitmentScheme::Hmac, HashAlgorithm::Blake3, [0xcd; 32]);
    let (_, opening) = c.commit(1, b"d");
    let secret_hex = hex::encode(opening.reveal().as_bytes());
    for printed in [
        format!("{c:?}"),
        format!("{opening:?}"),
        format!("{opening:#?}"),
    ] {
        assert!(!printed.contains(&secret_hex[..16]), "{printed}");
        assert!(!printed.contains("cdcd"), "{printed}");
    }
    assert_eq!(format!("{opening:?}"), "Opening { scheme: Hmac, .. }");
    assert_eq!(
        format!("{c:?}"),
        "Committer { scheme: Hmac, algorithm: Blake3, .. }"
    );
}

#[cfg(feature = "serde")]
#[test]
fn serde_forms() {
    let c = committer(CommitmentScheme::Salted, HashAlgorithm::Sha256, [1; 32]);
    let (commitment, opening) = c.commit(1, b"d");
    let json = serde_json::to_value(commitment).unwrap();
    assert_eq!(json["scheme"], "salted");
    assert_eq!(json["algorithm"], "SHA-256");
    assert_eq!(json["value"], commitment.value.to_hex());
    assert_eq!(
        serde_json::from_value::<Commitment>(json).unwrap(),
        commitment
    );
    let revealed = opening.reveal();
    let json = serde_json::to_string(&revealed).unwrap();
    assert_eq!(json, format!("\"{revealed}\""));
    assert_eq!(
        serde_json::from_str::<RevealedOpening>(&json).unwrap(),
        revealed
    );
    assert!(serde_json::from_str::<CommitmentScheme>("\"SALTED\"").is_err());
}

/// The golden vectors of our own constructions, `tests/vectors/commitments.json`: commitments
/// and openings for every scheme and algorithm (with the one-block and the longer HMAC path),
/// and sub-keys of a password-derived master key. A change of any construction shows up here
/// as a diff. `cargo xtask vectors` (`LCM_REGENERATE_VECTORS=1`) rewrites the file instead of
/// failing; review and commit the diff.
#[test]
fn commitment_vectors_are_up_to_date() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/commitments.json"
    );
    let mut cases = Vec::new();
    let seed: [u8; 32] = std::array::from_fn(|i| u8::try_from(i).unwrap());
    let inputs: [(&[u8], u64, &[u8]); 3] = [
        (b"", 0, b""),
        (b"input", 17, &[0xab; 32]),
        (
            b"a label of forty bytes, longer than one ",
            u64::MAX,
            &[0x5c; 100],
        ),
    ];
    for alg in [HashAlgorithm::Sha256, HashAlgorithm::Blake3] {
        for scheme in SCHEMES {
            let c = committer(scheme, alg, seed);
            for (label, nonce, data) in inputs {
                let (commitment, opening) = c.commit_labeled(label, nonce, data);
                cases.push(json!({
                    "scheme": scheme.name(),
                    "algorithm": alg.name(),
                    "label": hex::encode(label),
                    "nonce": nonce,
                    "data": hex::encode(data),
                    "value": commitment.value.to_hex(),
                    "opening": opening.reveal().to_string(),
                }));
            }
        }
    }
    let params = Pbkdf2Params::new(Pbkdf2Params::MIN_ITERATIONS).unwrap();
    let salt = Salt::from_bytes([0x11; 16]);
    let master = MasterKey::derive(b"lcm test password", &salt, params).unwrap();
    let kdf = json!({
        "password": hex::encode(b"lcm test password"),
        "salt": salt.to_hex(),
        "iterations": params.iterations(),
        "seed_committer": hex::encode(master.seed("committer").expose_secret()),
        "seed_signing": hex::encode(master.seed("signing").expose_secret()),
        "hmac_sha256_key_tag_of_lcm": master.mac_key(HashAlgorithm::Sha256, "anchors").mac(b"lcm").to_hex(),
        "blake3_key_tag_of_lcm": master.mac_key(HashAlgorithm::Blake3, "anchors").mac(b"lcm").to_hex(),
    });
    let expected = json!({
        "_comment": "lcm's own constructions (crates/lcm-crypto/src/commit.rs and kdf.rs docs): commitments with their revealed openings from a committer seeded with bytes 0..32, and sub-keys of a PBKDF2-derived master key. Generated by the test commitment_vectors_are_up_to_date; regenerate with `cargo xtask vectors` and review the diff.",
        "committer_seed": hex::encode(&seed),
        "cases": cases,
        "kdf": kdf,
    });
    if std::env::var_os("LCM_REGENERATE_VECTORS").is_some_and(|v| v == "1") {
        let text = serde_json::to_string_pretty(&expected).unwrap() + "\n";
        std::fs::write(path, text).unwrap();
        return;
    }
    let committed: Value = serde_json::from_str(include_str!("vectors/commitments.json")).unwrap();
    assert_eq!(
        committed, expected,
        "tests/vectors/commitments.json is out of date"
    );

    // The committed openings open the committed values (the auditor's view of the file).
    for case in committed["cases"].as_array().unwrap() {
        let commitment = Commitment {
            scheme: case["scheme"].as_str().unwrap().parse().unwrap(),
            algorithm: case["algorithm"].as_str().unwrap().parse().unwrap(),
            value: case["value"].as_str().unwrap().parse().unwrap(),
        };
        let opening: RevealedOpening = case["opening"].as_str().unwrap().parse().unwrap();
        let data = hex::decode(case["data"].as_str().unwrap()).unwrap();
        commitment
            .verify(&data, &Opening::from_revealed(&opening))
            .unwrap();
    }
}
