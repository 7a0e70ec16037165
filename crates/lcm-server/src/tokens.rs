//! API tokens: `lcm_<id>_<secret>`, the id 16 hex digits (64 random bits, how a token is
//! found), the secret 64 hex digits (256 random bits). A store keeps only the SHA-256 of the
//! whole token ([`lcm_store::StoredToken`]); a presented token is found by its id and its
//! hash compared in constant time.

use lcm_crypto::{Digest, HashAlgorithm};
use lcm_store::{Store, StoredToken};
use zeroize::Zeroizing;

use crate::Error;

/// The prefix of every token.
pub const PREFIX: &str = "lcm_";

/// A new token: the text to give the client (shown once) and the row to store.
#[derive(Debug)]
pub struct NewToken {
    /// The token text; zeroized when dropped.
    pub token: Zeroizing<String>,
    /// What the store keeps.
    pub stored: StoredToken,
}

fn now_micros() -> i64 {
    lcm_model::Timestamp::now().unix_micros()
}

/// SHA-256 of a token's text.
pub fn token_hash(token: &str) -> Digest {
    lcm_crypto::hash(HashAlgorithm::Sha256, token.as_bytes())
}

/// Makes a token for `deployment` named `name` and stores its hash in `store`.
///
/// # Errors
///
/// [`Error::Input`] for a deployment id strict input refuses; randomness and store failures.
///
/// # Example
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("lcm-server-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// # let path = dir.join("tokens.db");
/// # let _ = std::fs::remove_file(&path);
/// let (mut store, _) = lcm_store::init(&path, &lcm_model::Policy::default())?;
/// let new = lcm_server::tokens::create(&mut *store, "dep-1", "replica-a")?;
/// assert!(new.token.starts_with("lcm_"));
/// let found = lcm_server::tokens::authorize(&*store, &new.token, "dep-1")?;
/// assert_eq!(found.id, new.stored.id);
/// # drop(store);
/// # let _ = std::fs::remove_dir_all(&dir);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn create(store: &mut dyn Store, deployment: &str, name: &str) -> Result<NewToken, Error> {
    lcm_model::strict::check_id("deployment", deployment)
        .map_err(|e| Error::Input(e.to_string()))?;
    if name.chars().any(char::is_control) || name.len() > 200 {
        return Err(Error::Input(
            "--name: at most 200 characters, no control characters".to_owned(),
        ));
    }
    let mut id = [0u8; 8];
    let mut secret = Zeroizing::new([0u8; 32]);
    lcm_crypto::fill_random(&mut id).map_err(lcm_store::Error::from)?;
    lcm_crypto::fill_random(&mut *secret).map_err(lcm_store::Error::from)?;
    let id = lcm_crypto::hex::encode(&id);
    let token = Zeroizing::new(format!(
        "{PREFIX}{id}_{}",
        Zeroizing::new(lcm_crypto::hex::encode(&*secret)).as_str()
    ));
    let stored = StoredToken {
        id,
        name: name.to_owned(),
        deployment: deployment.to_owned(),
        hash: token_hash(&token),
        created: now_micros(),
        revoked: None,
    };
    store.put_token(&stored)?;
    Ok(NewToken { token, stored })
}

/// Revokes the token `id`.
///
/// # Errors
///
/// [`Error::UnknownToken`]; store failures.
pub fn revoke(store: &mut dyn Store, id: &str) -> Result<(), Error> {
    if store.revoke_token(id, now_micros())? {
        Ok(())
    } else {
        Err(Error::UnknownToken)
    }
}

/// The id part of a token's text, if it has the token's shape.
pub fn id_of(token: &str) -> Option<&str> {
    let rest = token.strip_prefix(PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    let hexdigits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    (hexdigits(id, 16) && hexdigits(secret, 64)).then_some(id)
}

/// The stored token that `token` is, if it is valid (known, hash equal in constant time, not
/// revoked) and scoped to `deployment`.
///
/// # Errors
///
/// [`Error::Unauthorized`] for a malformed, unknown, wrong or revoked token;
/// [`Error::Forbidden`] for a valid token of another deployment; store failures.
pub fn authorize(store: &dyn Store, token: &str, deployment: &str) -> Result<StoredToken, Error> {
    let id = id_of(token).ok_or(Error::Unauthorized)?;
    let stored = store.token(id)?.ok_or(Error::Unauthorized)?;
    if !bool::from(stored.hash.ct_eq(&token_hash(token))) || stored.revoked.is_some() {
        return Err(Error::Unauthorized);
    }
    if stored.deployment != deployment {
        return Err(Error::Forbidden);
    }
    Ok(stored)
}

/// The line `lcm token list` prints for a stored token: its id, deployment, name, creation
/// and revocation times (`-` when not revoked), tab-separated, or with `json` the same as a
/// JSON object. Never its hash.
///
/// ```
/// let t = lcm_store::StoredToken {
///     id: "0123456789abcdef".to_owned(),
///     name: "client".to_owned(),
///     deployment: "dep".to_owned(),
///     hash: lcm_server::tokens::token_hash("lcm_0123456789abcdef_secret"),
///     created: 5,
///     revoked: None,
/// };
/// assert_eq!(lcm_server::tokens::list_line(&t, false), "0123456789abcdef\tdep\tclient\t5\t-");
/// ```
#[must_use]
pub fn list_line(t: &StoredToken, json: bool) -> String {
    if json {
        serde_json::json!({"id": t.id, "deployment": t.deployment, "name": t.name,
            "created": t.created, "revoked": t.revoked})
        .to_string()
    } else {
        let revoked = t.revoked.map_or_else(|| "-".to_owned(), |r| r.to_string());
        format!(
            "{}\t{}\t{}\t{}\t{revoked}",
            t.id, t.deployment, t.name, t.created
        )
    }
}

impl NewToken {
    /// What `lcm token create` prints: the token itself, or with `json` one object with the
    /// token and the row of `lcm --json token list` (`id`, `deployment`, `name`, `created`,
    /// `revoked`); zeroized when dropped, like the token.
    #[must_use]
    pub fn line(&self, json: bool) -> Zeroizing<String> {
        if !json {
            return self.token.clone();
        }
        // The row's object with the token first; the token is `lcm_`, hex and `_`, which JSON
        // needs no escape for (the row is serde_json's, so its keys and values are escaped).
        let row = list_line(&self.stored, true);
        let rest = row.strip_prefix('{').unwrap_or(&row);
        Zeroizing::new(format!("{{\"token\":\"{}\",{rest}", self.token.as_str()))
    }
}

#[cfg(test)]
mod tests;
