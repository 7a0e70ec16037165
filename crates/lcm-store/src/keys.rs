//! The rotations of a store's signing key (`lcm key rotate`, `lcm key list`): a chain of
//! statements kept append-only in the store, each naming the key it retires (the current one)
//! and its successor, signed by the old key and countersigned by the new one (which proves
//! that whoever rotated holds it), and bound to the statement before it by digest.
//!
//! The first statement's old key is the store's first key; each later statement's old key
//! must be the previous statement's new key, and a key once retired never comes back. So the
//! chain gives every key of the store with the time it was retired (the rotation's
//! `rotated_at`), and a verifier given the chain ([`TrustedKey`]s, from the store or from
//! `lcm key list --json`) accepts a document signed by any of them — an old header with the
//! old key — as long as the document was made before its key was retired. A document whose
//! signed `generated_at` is at or after its key's retirement is refused: a key is rotated out
//! because it may be exposed, and what it signs afterwards is not the store's. (A holder of
//! the old key can still write an earlier `generated_at`; only a timestamp from outside, such
//! as a witnessed checkpoint, rules that out.)

use lcm_crypto::{Digest, HashAlgorithm, KeyId, Signature, SigningKey, VerifyingKey, hash_domain};
use lcm_model::{Timestamp, canonical};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::{Error, Store, StoredKeyRotation};

/// The domain tag of the digest that a rotation statement's two signatures sign and that the
/// next statement names as `previous`.
pub const ROTATION_DOMAIN: &str = "lcm key rotation";

/// What a rotation says: the key retired, its successor, when, and where in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotationStatement {
    /// Its place in the chain, from 0.
    pub sequence: u64,
    /// The digest ([`RotationStatement::digest`]) of the statement before it; `None` for the
    /// first.
    pub previous: Option<Digest>,
    /// The id of the key retired.
    pub old_key_id: KeyId,
    /// The key retired (the store's current key until this statement).
    pub old_public_key: VerifyingKey,
    /// The id of the new current key.
    pub new_key_id: KeyId,
    /// The new current key.
    pub new_public_key: VerifyingKey,
    /// When the old key was retired.
    pub rotated_at: Timestamp,
}

impl RotationStatement {
    /// `hash_domain(SHA-256, "lcm key rotation", [canonical JSON])`: what both keys sign.
    ///
    /// # Errors
    ///
    /// [`Error::Model`] if the statement cannot be encoded (it always can).
    pub fn digest(&self) -> Result<Digest, Error> {
        let bytes = canonical::to_vec(self)?;
        Ok(hash_domain(
            HashAlgorithm::Sha256,
            ROTATION_DOMAIN,
            &[&bytes],
        ))
    }
}

/// A signed rotation statement, as stored (its canonical JSON) and as `lcm key list --json`
/// shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRotation {
    /// What is stated.
    pub statement: RotationStatement,
    /// The old key's signature over the statement's digest.
    pub old_key_signature: Signature,
    /// The new key's signature over the same digest (proof that the rotator holds it).
    pub new_key_signature: Signature,
}

/// One key of a store's chain, or of a trusted-key set: the key and, for a retired key, when
/// it was retired and by which key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustedKey {
    /// The public key.
    pub key: VerifyingKey,
    /// When it became the store's key (`None` for the first key, or a key given as such).
    pub since: Option<Timestamp>,
    /// When it was retired and its successor's id (`None` for the current key, or a key
    /// given as such).
    pub retired: Option<(Timestamp, KeyId)>,
}

impl TrustedKey {
    /// A key trusted without times (a `--key` file, a line of a trusted-key file).
    #[must_use]
    pub const fn plain(key: VerifyingKey) -> Self {
        Self {
            key,
            since: None,
            retired: None,
        }
    }

    /// Refuses a document made at `generated_at` when the key was retired by then.
    ///
    /// # Errors
    ///
    /// The failure to report (exit 1), naming the key id and both times.
    pub fn check_not_retired(&self, generated_at: Timestamp) -> Result<(), String> {
        match self.retired {
            Some((at, successor)) if generated_at >= at => Err(format!(
                "[signature] signed by key id {} at {generated_at}, after that key was retired at \
                 {at} (rotated to key id {successor}): a retired key signs nothing new",
                self.key.key_id()
            )),
            _ => Ok(()),
        }
    }
}

/// The store's rotation statements, each parsed and the whole chain verified
/// ([`verify_chain`]).
///
/// # Errors
///
/// Read failures; [`Error::KeyRotation`] for a statement that does not parse or verify.
pub fn rotations(store: &dyn Store) -> Result<Vec<KeyRotation>, Error> {
    let parsed = store
        .key_rotations()?
        .into_iter()
        .map(|row| parse_row(&row))
        .collect::<Result<Vec<_>, _>>()?;
    verify_chain(&parsed)?;
    Ok(parsed)
}

fn parse_row(row: &StoredKeyRotation) -> Result<KeyRotation, Error> {
    let fail = |what: String| Error::KeyRotation {
        sequence: row.sequence,
        what,
    };
    let rotation: KeyRotation =
        serde_json::from_str(&row.json).map_err(|e| fail(format!("does not parse: {e}")))?;
    if canonical::to_string(&rotation)? != row.json {
        return Err(fail("json is not canonical".to_owned()));
    }
    if rotation.statement.sequence != row.sequence {
        return Err(fail(format!(
            "field sequence: stored at {}, the statement says {}",
            row.sequence, rotation.statement.sequence
        )));
    }
    Ok(rotation)
}

/// Verifies a chain of rotations from its first key: each statement's place, its link to the
/// one before, its key ids, that its old key is the current key at that point (the previous
/// statement's new key) and its new key was never a key of the chain, that its time is after
/// the previous one, and both signatures over its recomputed digest.
///
/// This does not panic.
///
/// # Errors
///
/// [`Error::KeyRotation`] naming the first statement that fails and why.
pub fn verify_chain(chain: &[KeyRotation]) -> Result<(), Error> {
    let mut previous: Option<(&RotationStatement, Digest)> = None;
    for (n, rotation) in chain.iter().enumerate() {
        let s = &rotation.statement;
        let fail = |what: String| Error::KeyRotation {
            sequence: n as u64,
            what,
        };
        if s.sequence != n as u64 {
            return Err(fail(format!(
                "field sequence: expected {n}, got {}",
                s.sequence
            )));
        }
        let digest = s.digest()?;
        match previous {
            None if s.previous.is_some() => {
                return Err(fail("field previous: the first rotation names none".into()));
            }
            Some((before, before_digest)) => {
                if s.previous != Some(before_digest) {
                    return Err(fail(format!(
                        "field previous: expected the digest {before_digest} of rotation {}",
                        before.sequence
                    )));
                }
                if s.old_public_key != before.new_public_key {
                    return Err(fail(format!(
                        "field old_key_id: the retired key {} is not the current key {} \
                         (rotation {}'s new key)",
                        s.old_key_id, before.new_key_id, before.sequence
                    )));
                }
                if s.rotated_at <= before.rotated_at {
                    return Err(fail(format!(
                        "field rotated_at: {} is not after rotation {}'s {}",
                        s.rotated_at, before.sequence, before.rotated_at
                    )));
                }
            }
            None => {}
        }
        for (field, key, id) in [
            ("old_key_id", &s.old_public_key, &s.old_key_id),
            ("new_key_id", &s.new_public_key, &s.new_key_id),
        ] {
            key.check_key_id(id)
                .map_err(|e| fail(format!("field {field}: {e}")))?;
        }
        if chain[..=n]
            .iter()
            .any(|r| r.statement.old_public_key == s.new_public_key)
        {
            return Err(fail(format!(
                "field new_key_id: key {} was a key of the store already (a retired key never \
                 comes back)",
                s.new_key_id
            )));
        }
        for (which, key, signature) in [
            ("old", &s.old_public_key, &rotation.old_key_signature),
            ("new", &s.new_public_key, &rotation.new_key_signature),
        ] {
            key.verify(digest.as_bytes(), signature).map_err(|_| {
                fail(format!(
                    "field {which}_key_signature: does not verify with the {which} key {}",
                    key.key_id()
                ))
            })?;
        }
        previous = Some((s, digest));
    }
    Ok(())
}

/// Records the rotation of the store's signing key from `old` to `new` at `at`: a statement
/// signed by both, appended after the store's chain (which is verified first).
///
/// # Errors
///
/// [`Error::KeyRotation`] for a stored chain that does not verify; [`Error::Stage`] (stage
/// `key rotate`) when `old` is not the current key, `new` is or was a key of the store, or
/// `at` is not after the last rotation; [`Error::Duplicate`] when another writer rotated at
/// the same time; write failures.
pub fn rotate(
    store: &mut dyn Store,
    old: &SigningKey,
    new: &SigningKey,
    at: Timestamp,
) -> Result<KeyRotation, Error> {
    let chain = rotations(store)?;
    let refuse = |message: String| Error::Stage {
        stage: "key rotate",
        message,
    };
    let (old_key, new_key) = (old.verifying_key(), new.verifying_key());
    let last = chain.last().map(|r| &r.statement);
    if let Some(last) = last {
        if old_key != last.new_public_key {
            return Err(refuse(format!(
                "--key is key id {}, not the store's current key {} (since {}): only the current \
                 key can be rotated",
                old_key.key_id(),
                last.new_key_id,
                last.rotated_at
            )));
        }
        if at <= last.rotated_at {
            return Err(refuse(format!(
                "the time {at} is not after the last rotation's {} (check the clock)",
                last.rotated_at
            )));
        }
    }
    if new_key == old_key || chain.iter().any(|r| r.statement.old_public_key == new_key) {
        return Err(refuse(format!(
            "--new-key is key id {}, a key of the store already: rotate to a new key (lcm keygen)",
            new_key.key_id()
        )));
    }
    let statement = RotationStatement {
        sequence: chain.len() as u64,
        previous: last.map(RotationStatement::digest).transpose()?,
        old_key_id: old_key.key_id(),
        old_public_key: old_key,
        new_key_id: new_key.key_id(),
        new_public_key: new_key,
        rotated_at: at,
    };
    let digest = statement.digest()?;
    let rotation = KeyRotation {
        old_key_signature: old.sign(digest.as_bytes()),
        new_key_signature: new.sign(digest.as_bytes()),
        statement,
    };
    store.put_key_rotation(&StoredKeyRotation {
        sequence: rotation.statement.sequence,
        json: canonical::to_string(&rotation)?,
    })?;
    Ok(rotation)
}

/// The keys a verified chain of rotations gives, in order: the first key, then each
/// rotation's new key, each with when it became current and when it was retired.
#[must_use]
pub fn chain_keys(chain: &[KeyRotation]) -> Vec<TrustedKey> {
    let mut keys: Vec<TrustedKey> = Vec::with_capacity(chain.len() + 1);
    for (n, r) in chain.iter().enumerate() {
        let s = &r.statement;
        if n == 0 {
            keys.push(TrustedKey::plain(s.old_public_key));
        }
        if let Some(last) = keys.last_mut() {
            last.retired = Some((s.rotated_at, s.new_key_id));
        }
        keys.push(TrustedKey {
            key: s.new_public_key,
            since: Some(s.rotated_at),
            retired: None,
        });
    }
    keys
}

/// The store's keys ([`chain_keys`] of its verified [`rotations`]); empty when the store has
/// recorded no rotation.
///
/// # Errors
///
/// As [`rotations`].
pub fn store_keys(store: &dyn Store) -> Result<Vec<TrustedKey>, Error> {
    rotations(store).map(|chain| chain_keys(&chain))
}

/// The keys `lcm verify` trusts: the key files and trusted-key lists given
/// ([`crate::files::trusted_keys`]), or, when none is given, the keys of the rotation chain of
/// the store at `store`, with their retirement times ([`store_keys`]).
///
/// # Errors
///
/// [`Error::NoTrustedKey`] when nothing is given and there is no store at `store` or it has
/// recorded no key rotation; [`Error::File`] for a key file or list that cannot be read; the
/// store's errors.
pub fn trusted_keys(
    store: &std::path::Path,
    keys: &[std::path::PathBuf],
    lists: &[std::path::PathBuf],
) -> Result<Vec<TrustedKey>, Error> {
    if !keys.is_empty() || !lists.is_empty() {
        return Ok(crate::files::trusted_keys(keys, lists)?);
    }
    let keys = match crate::open_read_only(store) {
        Err(Error::NoStore { .. }) => return Err(Error::NoTrustedKey { why: "no store" }),
        store => store_keys(&*store?)?,
    };
    if keys.is_empty() {
        return Err(Error::NoTrustedKey {
            why: "the store has recorded no key rotation",
        });
    }
    Ok(keys)
}

/// Refuses to sign the store's documents with `key` when the store has recorded rotations
/// and `key` is not its current key (a retired key, or one outside the chain): what it signs
/// would be refused by a verifier given the store's keys.
///
/// # Errors
///
/// As [`rotations`]; [`Error::Stage`] (stage `signing key`) naming the key and the current
/// one.
pub fn check_signing_key(store: &dyn Store, key: &VerifyingKey) -> Result<(), Error> {
    let keys = store_keys(store)?;
    let Some(current) = keys.last() else {
        return Ok(());
    };
    if current.key == *key {
        return Ok(());
    }
    let why = match keys.iter().find(|k| k.key == *key).and_then(|k| k.retired) {
        Some((at, by)) => format!("was retired at {at} (rotated to {by})"),
        None => "is not a key of the store".to_owned(),
    };
    Err(Error::Stage {
        stage: "signing key",
        message: format!(
            "key id {} {why}: sign with the store's current key {} (lcm key list)",
            key.key_id(),
            current.key.key_id()
        ),
    })
}

/// What `lcm key list` prints: with `--json`, the object that `lcm verify --trusted-keys`
/// reads as a trusted-key set (`keys`: each `key_id`, `public_key`, `since`, `retired_at`,
/// `retired_by`, `current`; `current`: the current key's id or null); as text, a line per key.
#[must_use]
pub fn key_list(keys: &[TrustedKey]) -> (Value, String) {
    let time = |t: Option<Timestamp>| t.map(|t| t.to_string());
    let entries: Vec<Value> = keys
        .iter()
        .enumerate()
        .map(|(n, k)| {
            json!({
                "key_id": k.key.key_id().to_hex(),
                "public_key": k.key.to_hex(),
                "since": time(k.since),
                "retired_at": time(k.retired.map(|r| r.0)),
                "retired_by": k.retired.map(|r| r.1.to_hex()),
                "current": n + 1 == keys.len(),
            })
        })
        .collect();
    let current = keys.last().map(|k| k.key.key_id().to_hex());
    let text = if keys.is_empty() {
        "no key rotation recorded (lcm key rotate --key OLD --new-key NEW records one)".to_owned()
    } else {
        keys.iter()
            .enumerate()
            .map(|(n, k)| {
                let since = k
                    .since
                    .map_or_else(|| "first key".to_owned(), |t| format!("since {t}"));
                let state = k.retired.map_or_else(
                    || "current".to_owned(),
                    |(at, by)| format!("retired {at} (rotated to {by})"),
                );
                format!("{n}  {}  {since}  {state}", k.key.key_id())
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    (
        json!({"kind": "keys", "keys": entries, "current": current}),
        text,
    )
}

/// What `lcm key rotate` prints: the statement (with `--json`) and a line.
#[must_use]
pub fn rotated(rotation: &KeyRotation) -> (Value, String) {
    let s = &rotation.statement;
    let value = json!({
        "kind": "key-rotation",
        "sequence": s.sequence,
        "old_key_id": s.old_key_id.to_hex(),
        "new_key_id": s.new_key_id.to_hex(),
        "rotated_at": s.rotated_at.to_string(),
        "statement": rotation,
    });
    let text = format!(
        "rotated the store's signing key: {} retired at {}, {} is current (rotation {})",
        s.old_key_id, s.rotated_at, s.new_key_id, s.sequence
    );
    (value, text)
}

/// Reads a trusted-key set in the form [`key_list`] writes (`lcm key list --json`): every
/// key with its times, each key id checked against its public key.
///
/// # Errors
///
/// What is wrong, naming the entry.
pub fn parse_key_list(text: &str) -> Result<Vec<TrustedKey>, String> {
    #[derive(Deserialize)]
    struct Entry {
        key_id: KeyId,
        public_key: VerifyingKey,
        since: Option<Timestamp>,
        retired_at: Option<Timestamp>,
        retired_by: Option<KeyId>,
    }
    #[derive(Deserialize)]
    struct List {
        keys: Vec<Entry>,
    }
    let list: List = serde_json::from_str(text)
        .map_err(|e| format!("not a key list (lcm key list --json): {e}"))?;
    list.keys
        .into_iter()
        .enumerate()
        .map(|(n, e)| {
            e.public_key
                .check_key_id(&e.key_id)
                .map_err(|err| format!("keys[{n}]: {err}"))?;
            let retired = match (e.retired_at, e.retired_by) {
                (Some(at), Some(by)) => Some((at, by)),
                (None, None) => None,
                _ => {
                    return Err(format!("keys[{n}]: retired_at and retired_by go together"));
                }
            };
            Ok(TrustedKey {
                key: e.public_key,
                since: e.since,
                retired,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests;
