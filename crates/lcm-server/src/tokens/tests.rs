//! Tests of tokens: shapes, hashing, scope and revocation, with tamper twins.

use super::*;

fn store() -> (Box<dyn Store>, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!(
        "lcm-server-tokens-{}-{}",
        std::process::id(),
        lcm_model::Timestamp::now().unix_micros()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let (s, _) = lcm_store::init(&dir.join("t.db"), &lcm_model::Policy::default()).unwrap();
    (s, dir)
}

#[test]
fn a_token_is_random_hashed_and_scoped() {
    let (mut s, dir) = store();
    let a = create(&mut *s, "dep", "a").unwrap();
    let b = create(&mut *s, "dep", "b").unwrap();
    assert_ne!(a.token.as_str(), b.token.as_str());
    assert_eq!(a.token.len(), PREFIX.len() + 16 + 1 + 64);
    assert_eq!(id_of(&a.token), Some(a.stored.id.as_str()));
    // The store keeps the hash, never the token.
    let stored = s.token(&a.stored.id).unwrap().unwrap();
    assert_eq!(stored.hash, token_hash(&a.token));
    assert!(!format!("{stored:?}").contains(&a.token[PREFIX.len() + 17..]));
    assert_eq!(authorize(&*s, &a.token, "dep").unwrap().id, a.stored.id);
    assert!(matches!(
        authorize(&*s, &a.token, "other"),
        Err(Error::Forbidden)
    ));
    // Tamper twins: one character of the secret or the id, a missing character, a token
    // of the right shape that was never issued.
    let mut secret = a.token.to_string();
    let last = secret.pop().unwrap();
    secret.push(if last == 'a' { 'b' } else { 'a' });
    assert!(matches!(
        authorize(&*s, &secret, "dep"),
        Err(Error::Unauthorized)
    ));
    let mut id = a.token.to_string();
    id.replace_range(4..5, if &id[4..5] == "0" { "1" } else { "0" });
    assert!(matches!(
        authorize(&*s, &id, "dep"),
        Err(Error::Unauthorized)
    ));
    assert!(matches!(
        authorize(&*s, &a.token[..a.token.len() - 1], "dep"),
        Err(Error::Unauthorized)
    ));
    let forged = format!("{PREFIX}{}_{}", a.stored.id, "0".repeat(64));
    assert!(matches!(
        authorize(&*s, &forged, "dep"),
        Err(Error::Unauthorized)
    ));
    // Revocation: that token only, once, and it stays revoked.
    revoke(&mut *s, &a.stored.id).unwrap();
    let at = s.token(&a.stored.id).unwrap().unwrap().revoked.unwrap();
    revoke(&mut *s, &a.stored.id).unwrap();
    assert_eq!(s.token(&a.stored.id).unwrap().unwrap().revoked, Some(at));
    assert!(matches!(
        authorize(&*s, &a.token, "dep"),
        Err(Error::Unauthorized)
    ));
    assert!(authorize(&*s, &b.token, "dep").is_ok());
    assert!(matches!(
        revoke(&mut *s, "0000000000000000"),
        Err(Error::UnknownToken)
    ));
    assert_eq!(s.tokens().unwrap().len(), 2);
    drop(s);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn malformed_tokens_have_no_id() {
    for t in [
        "",
        "lcm_",
        "lcm_zz_zz",
        "xyz_0123456789abcdef_00",
        "lcm_0123456789abcdef",
    ] {
        assert_eq!(id_of(t), None, "{t}");
    }
    assert!(create(&mut *store().0, "bad id\n", "").is_err());
}
