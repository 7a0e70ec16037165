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
