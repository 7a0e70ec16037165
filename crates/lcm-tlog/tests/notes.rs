//! Signed notes and keys: the spec's examples, the rules for unknown keys, the limits, and
//! strict key parsing.

use lcm_tlog::note::{
    KeyId, KeyName, MAX_NOTE_LEN, MAX_SIGNATURES, Note, NoteSignature, SignatureType, SignerKey,
    VerifierKey,
};
use lcm_tlog::witness::AddCheckpoint;
use lcm_tlog::{Error, FormatError, SignedCheckpoint, VerifyError};

use crate::support::{log_key, signer, witness_key};

const SOFA: &str =
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
const SOFA_LOG: &str = "\u{2014} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";
const SOFA_W1: &str = "\u{2014} witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n";

#[test]
fn the_specs_examples_parse_and_format_back() {
    // c2sp.org/tlog-cosignature: a checkpoint with a log signature and a cosignature whose
    // timestamp is the one of the spec's signed-message example.
    let text = format!("{SOFA}\n{SOFA_LOG}{SOFA_W1}");
    let signed = SignedCheckpoint::parse(text.as_bytes()).expect("the spec's checkpoint");
    assert_eq!(signed.to_text(), text);
    assert_eq!(signed.checkpoint().size(), 20_852_163);
    let cosig = &signed.note().signatures()[1];
    assert_eq!(cosig.bytes().len(), 72);
    assert_eq!(cosig.cosignature_timestamp(), Some(1_679_315_147));
    assert_eq!(
        lcm_tlog::cosignature::message(1_679_315_147, SOFA),
        format!("cosignature/v1\ntime 1679315147\n{SOFA}").into_bytes()
    );
    // c2sp.org/tlog-witness: the add-checkpoint request body.
    let request = format!(
        "old 20852014\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n\
         jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n\
         5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n\
         /6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n\n{SOFA}\n{SOFA_LOG}\
         \u{2014} example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=\n"
    );
    let parsed = AddCheckpoint::parse(request.as_bytes()).expect("the spec's request");
    assert_eq!(parsed.old_size, 20_852_014);
    assert_eq!(parsed.proof.len(), 4);
    assert_eq!(parsed.to_text(), request);
    // c2sp.org/signed-note: the note with empty lines in its text.
    let poem = "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned \u{e8} subito sera.\n\n\u{2014} quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n";
    let note = Note::parse(poem.as_bytes()).expect("the spec's note");
    assert!(note.text().ends_with(":\n\ned \u{e8} subito sera.\n"));
    assert_eq!(note.to_text(), poem);
}

#[test]
fn unknown_keys_are_ignored_even_sharing_a_name_or_an_id() {
    let key = log_key();
    let text = "hello\n";
    let good = key.sign(text).expect("a note text");
    let garbage = vec![7u8; 64];
    let same_name = NoteSignature::new(
        key.name().clone(),
        KeyId::new(key.id().get() ^ 0x8000_0000),
        garbage.clone(),
    )
    .expect("a signature");
    let same_id = NoteSignature::new(KeyName::new("other").expect("a name"), key.id(), garbage)
        .expect("a signature");
    let mut note = Note::new(text).expect("a note");
    for sig in [same_name, same_id, good] {
        note.add_signature(sig).expect("room");
    }
    let parsed = Note::parse(note.to_text().as_bytes()).expect("a note");
    let verified = parsed
        .verify(&[key.verifier()])
        .expect("the known key verifies");
    assert_eq!(verified.len(), 1);
    // A second, failing line of the known key rejects the note.
    let mut bad = parsed.to_text();
    let forged = NoteSignature::new(key.name().clone(), key.id(), vec![1u8; 64]).expect("sig");
    bad.push_str(&forged.to_string());
    assert_eq!(
        Note::parse(bad.as_bytes())
            .expect("a note")
            .verify(&[key.verifier()]),
        Err(VerifyError::BadSignature {
            name: key.name().to_string(),
            key_id: key.id()
        })
    );
    // A signature of the wrong length from a known key is a bad signature too.
    let mut short = Note::new(text).expect("a note");
    short
        .add_signature(NoteSignature::new(key.name().clone(), key.id(), vec![1]).expect("sig"))
        .expect("room");
    assert!(matches!(
        short.verify(&[key.verifier()]),
        Err(VerifyError::BadSignature { .. })
    ));
}

#[test]
fn limits() {
    let text = "limits\n";
    let base = log_key().sign(text).expect("a signature");
    let mut block = String::new();
    for i in 0..MAX_SIGNATURES {
        let sig = NoteSignature::new(
            KeyName::new(&format!("k{i}")).expect("a name"),
            KeyId::new(0),
            base.bytes().to_vec(),
        )
        .expect("a signature");
        block.push_str(&sig.to_string());
    }
    let full = format!("{text}\n{block}");
    assert_eq!(
        Note::parse(full.as_bytes())
            .expect("100 signatures")
            .signatures()
            .len(),
        100
    );
    let over = format!("{full}{base}");
    assert_eq!(
        Note::parse(over.as_bytes()),
        Err(FormatError::TooManySignatures { max: 100 }.into())
    );
    let huge = format!("{}\n\n{base}", "x".repeat(MAX_NOTE_LEN));
    assert_eq!(
        Note::parse(huge.as_bytes()),
        Err(FormatError::NoteTooLarge {
            max: MAX_NOTE_LEN,
            actual: huge.len()
        }
        .into())
    );
}

#[test]
fn note_format_errors() {
    let sig = log_key().sign("t\n").expect("a signature").to_string();
    let cases: Vec<(Vec<u8>, FormatError)> = vec![
        (
            format!("t\n{sig}").into_bytes(),
            FormatError::NoSignatureBlock,
        ),
        (
            b"t\n\n".to_vec(),
            FormatError::MissingLine {
                expected: "a signature line after the blank line",
            },
        ),
        (
            format!("t\r\n\n{sig}").into_bytes(),
            FormatError::NoteControlCharacter {
                index: 1,
                byte: 0x0d,
            },
        ),
        (
            b"t\n\n\xff\n".to_vec(),
            FormatError::NoteEncoding { index: 3 },
        ),
        (
            format!("t\n\n{}", sig.trim_end()).into_bytes(),
            FormatError::NoteEnd,
        ),
        (
            b"t\n\n- a AAAAAAA=\n".to_vec(),
            FormatError::SignatureLine {
                line: 1,
                text: "- a AAAAAAA=".to_owned(),
            },
        ),
        (
            "t\n\n\u{2014} a AAAAAA==\n".as_bytes().to_vec(),
            FormatError::SignatureLength {
                expected: 5,
                actual: 4,
            },
        ),
    ];
    for (bytes, expected) in cases {
        assert_eq!(
            Note::parse(&bytes),
            Err(Error::Format(expected)),
            "{:?}",
            String::from_utf8_lossy(&bytes)
        );
    }
}

#[test]
fn keys_parse_strictly() {
    let w = witness_key(1);
    let vkey = w.verifier().to_string();
    let parsed: VerifierKey = vkey.parse().expect("a vkey");
    assert_eq!(parsed.kind(), SignatureType::Cosignature);
    let (name, rest) = vkey.split_once('+').expect("fields");
    let (id, key) = rest.split_once('+').expect("fields");
    // Another id, an uppercase id, a missing field, another name (so another id).
    let other_id = format!("{name}+{:08x}+{key}", w.id().get() ^ 1);
    assert_eq!(
        VerifierKey::parse(&other_id),
        Err(FormatError::KeyIdMismatch {
            expected: w.id(),
            actual: KeyId::new(w.id().get() ^ 1)
        }
        .into())
    );
    assert!(matches!(
        VerifierKey::parse(&format!("{name}+{}+{key}", id.to_uppercase())),
        Err(Error::Format(FormatError::KeyIdHex { .. }))
    ));
    assert!(matches!(
        VerifierKey::parse(&format!("{name}+{id}")),
        Err(Error::Format(FormatError::KeyFields { actual: 2, .. }))
    ));
    assert!(matches!(
        VerifierKey::parse(&format!("{name}x+{id}+{key}")),
        Err(Error::Format(FormatError::KeyIdMismatch { .. }))
    ));
    // A type this crate does not implement (0x02), and a short key.
    assert_eq!(
        VerifierKey::parse(&format!("{name}+{id}+AgAA")),
        Err(FormatError::SignatureType { actual: 2 }.into())
    );
    assert!(matches!(
        VerifierKey::parse(&format!("{name}+{id}+AQAA")),
        Err(Error::Format(FormatError::KeyLength { .. }))
    ));
    // Signer keys: round trip, the prefix, and the secret not in Debug.
    let skey = w.to_text();
    let again = SignerKey::parse(&skey).expect("a signer key");
    assert_eq!(again.verifier(), w.verifier());
    assert!(matches!(
        SignerKey::parse(skey.trim_start_matches("PRIVATE+")),
        Err(Error::Format(FormatError::KeyFields { .. }))
    ));
    let debug = format!("{again:?}");
    assert!(debug.starts_with("SignerKey { name: KeyName(\"witness.example/w1\")"));
    assert!(!debug.contains(&skey[skey.len() - 20..]));
    // Each key signs only its own kind of signature.
    let note_key = signer("n.example", SignatureType::Ed25519, 3);
    assert!(note_key.cosign("t\n", 1).is_err());
    assert!(w.sign("t\n").is_err());
    assert_eq!(
        w.cosign("t\n", 1 << 63),
        Err(FormatError::Timestamp { actual: 1 << 63 }.into())
    );
}

/// A cosignature, taken apart by hand as c2sp.org/tlog-cosignature writes it: the key id is
/// `SHA-256(name || "\n" || 0x04 || key)[:4]`, the signature an 8-byte big-endian timestamp
/// and an Ed25519 signature over `cosignature/v1\ntime T\n` and the body.
#[test]
fn cosignature_bytes_follow_the_spec() {
    let w = witness_key(4);
    let body = "log.example/tlog\n3\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
    let sig = w.cosign(body, 1_679_315_147).expect("a cosignature");
    let public = *w.verifier().public_key();
    let mut id_input = b"witness.example/w4\n\x04".to_vec();
    id_input.extend_from_slice(public.as_bytes());
    let digest = lcm_crypto::hash(lcm_crypto::HashAlgorithm::Sha256, &id_input);
    let id = u32::from_be_bytes(digest.as_bytes()[..4].try_into().expect("4 bytes"));
    assert_eq!(sig.id(), KeyId::new(id));
    let line = sig.to_string();
    assert!(line.starts_with("\u{2014} witness.example/w4 "));
    let (timestamp, ed25519) = sig.bytes().split_at(8);
    assert_eq!(timestamp, 1_679_315_147u64.to_be_bytes());
    let message = format!("cosignature/v1\ntime 1679315147\n{body}");
    public
        .verify(
            message.as_bytes(),
            &lcm_crypto::Signature::try_from_slice(ed25519).expect("64 bytes"),
        )
        .expect("the signature is over the spec's message");
    // And a note signature (type 0x01) is Ed25519 over the text alone, id with 0x01.
    let log = log_key();
    let sig = log.sign(body).expect("a signature");
    let mut id_input = b"log.example/tlog\n\x01".to_vec();
    id_input.extend_from_slice(log.verifier().public_key().as_bytes());
    let digest = lcm_crypto::hash(lcm_crypto::HashAlgorithm::Sha256, &id_input);
    assert_eq!(sig.id().get().to_be_bytes(), digest.as_bytes()[..4]);
    log.verifier()
        .public_key()
        .verify(
            body.as_bytes(),
            &lcm_crypto::Signature::try_from_slice(sig.bytes()).expect("64 bytes"),
        )
        .expect("Ed25519 over the text");
}
