//! The signed-note vectors of c2sp.org/signed-note and golang.org/x/mod sumdb/note
//! (`tests/vectors/c2sp/notes.json`, see the README beside it).

use lcm_tlog::note::{Note, SignerKey, VerifierKey};
use serde::Deserialize;

#[derive(Deserialize)]
struct File {
    source: String,
    notes: Vec<Vector>,
}

#[derive(Deserialize)]
struct Vector {
    name: String,
    vkey: String,
    note: String,
    text: Option<String>,
    skey: Option<String>,
    verifies: bool,
}

fn vectors() -> File {
    serde_json::from_str(include_str!("vectors/c2sp/notes.json")).expect("a valid test fixture")
}

#[test]
fn the_file_names_its_source() {
    let file = vectors();
    assert!(file.source.contains("c2sp.org/signed-note"));
    assert!(file.source.contains("sumdb/note"));
    assert_eq!(file.notes.len(), 4);
}

#[test]
fn signing_reproduces_the_notes() {
    let mut signed = 0;
    for v in vectors().notes {
        let (Some(skey), Some(text)) = (&v.skey, &v.text) else {
            continue;
        };
        let signer = SignerKey::parse(skey).expect("a valid test fixture");
        let vkey = VerifierKey::parse(&v.vkey).expect("a valid test fixture");
        assert_eq!(signer.verifier(), vkey, "{}", v.name);
        assert_eq!(*signer.to_text(), *skey, "{}", v.name);
        let mut note = Note::new(text).expect("a valid test fixture");
        note.add_signature(signer.sign(text).expect("a valid test fixture"))
            .expect("a valid test fixture");
        assert_eq!(note.to_text(), v.note, "{}", v.name);
        signed += 1;
    }
    assert_eq!(signed, 1);
}

#[test]
fn verification_gives_the_listed_result() {
    for v in vectors().notes {
        let vkey = VerifierKey::parse(&v.vkey).expect("a valid test fixture");
        assert_eq!(vkey.to_string(), v.vkey, "{}", v.name);
        let note = Note::parse(v.note.as_bytes()).expect("a valid test fixture");
        assert_eq!(note.to_text(), v.note, "{}", v.name);
        if let Some(text) = &v.text {
            assert_eq!(note.text(), text, "{}", v.name);
        }
        let result = note.verify(std::slice::from_ref(&vkey));
        assert_eq!(result.is_ok(), v.verifies, "{}: {result:?}", v.name);
        if v.verifies {
            assert_eq!(result.expect("a valid test fixture")[0].key, vkey);
        }
    }
}

#[derive(Deserialize)]
struct Sumdb {
    vkey: String,
    checkpoints: Vec<String>,
}

/// Real checkpoints of another log (the Go checksum database) verify with its verifier key,
/// whose base64 contains `+`; one changed character in the size or root makes them fail.
#[test]
fn checkpoints_of_another_log_verify() {
    let file: Sumdb = serde_json::from_str(include_str!("vectors/c2sp/sumdb-checkpoints.json"))
        .expect("the vector file");
    let key = VerifierKey::parse(&file.vkey).expect("the Go checksum database's key");
    assert_eq!(key.to_string(), file.vkey);
    let policy = lcm_tlog::Policy::new(key).with_origin("go.sum database tree");
    for text in &file.checkpoints {
        let signed = lcm_tlog::SignedCheckpoint::parse(text.as_bytes()).expect("a checkpoint");
        assert_eq!(signed.to_text(), *text);
        let result = policy.verify(&signed);
        assert!(result.is_ok(), "{text}: {result:?}");
        let tampered = text.replacen("\n", "\n1", 1);
        let tampered = lcm_tlog::SignedCheckpoint::parse(tampered.as_bytes()).expect("parses");
        assert!(matches!(
            policy.verify(&tampered),
            Err(lcm_tlog::VerifyError::BadSignature { .. })
        ));
    }
}
