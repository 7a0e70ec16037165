//! The Python reference's managers (DenzilGreenwood/pyciaf 1.7.0), computing its digests for
//! the same inputs and the same sequence of calls.
//!
//! <div class="warning">
//!
//! **Insecure, for reading and reproducing old records only.** The reference cuts digests to
//! 64 and 32 bits, throws its salts away, builds a Merkle tree in which `[a, b, c]` and
//! `[a, b, c, c]` collide, keys datasets and models with the same HMAC over hex text, and leaves
//! the receipt chain out of the receipt digest. This mode reproduces all of that on purpose so
//! that an old record can be recomputed and checked; it must never make a new one.
//!
//! </div>
//!
//! # The opt-in
//!
//! Every manager here takes a [`PyciafContext`], and [`PyciafContext::new`] accepts only the
//! reference's profile, [`crate::policy()`] (its `commitments` and `domains` may be changed: they
//! are the reference's `LCMPolicy.commitments` and `domains`). A native [`lcm_model::Policy`]
//! is not even of the right type here, and the profile is not of the right type anywhere else:
//! the native managers and native capsule verification take an [`lcm_model::Policy`], which
//! cannot hold the reference's canonicalization or tree (nor parse its wire form). The records
//! here are plain structs with the reference's field names and hex digests; none implements
//! [`lcm_model::Record`] and none converts into a native `Sealed` value.
//!
//! # What the managers hold
//!
//! As the reference's managers do, they keep the state that links the stages: the family
//! manager its family and split anchors (for [`DatasetFamilyManager::compute_split_map_digest`]),
//! the dataset manager its dataset anchors per split (for
//! [`DatasetManager::get_datasets_root_anchor`]), the model manager its anchors by
//! `name_version`, the training manager its sessions until [`TrainingManager::complete_training`],
//! the deployment manager its pre-deployment anchors (a deployment names one by id), the
//! inference manager its connections chains, each holding the previous connections digest, and
//! the root manager the roots it computed.
//!
//! Every digest comes from the [crate root](crate)'s rules, the pure functions that reproduce the
//! reference's rules; this module only assembles their inputs in the reference's order and
//! keeps the state between calls.
//!
//! # Examples
//!
//! ```
//! use std::sync::Arc;
//!
//! use lcm_crypto::SeededRandom;
//! use lcm_crypto::Seed;
//! use lcm_pyciaf::managers::{InferenceManager, InferenceRequest, PyciafContext};
//! use lcm_model::FixedClock;
//! use lcm_pyciaf as rules;
//!
//! let mut policy = lcm_pyciaf::policy();
//! policy.commitments = lcm_crypto::CommitmentScheme::Plaintext;
//! let clock = Arc::new(FixedClock::new("2026-01-02T03:04:05.678901Z".parse()?, 0));
//! let ctx = PyciafContext::new(policy, clock, SeededRandom::new(&Seed::from_bytes([7; 32])))?;
//!
//! let mut inference = InferenceManager::new(ctx);
//! let request = InferenceRequest::new("conn", "r1", "m_c1e87289...", "dp_f8fa14db...", "q1", "hello", "world");
//! let first = inference.perform_inference_with_audit(&request)?.connections_digest.clone();
//! let second = inference
//!     .perform_inference_with_audit(&InferenceRequest { receipt_id: "r2", ..request })?
//!     .clone();
//! assert_eq!(
//!     second.connections_digest,
//!     rules::connections_digest(Some(&first), &second.receipt_digest),
//! );
//! // A native policy cannot hold the same values: its wire form does not parse as one.
//! let wire = serde_json::to_value(lcm_pyciaf::policy())?;
//! assert!(serde_json::from_value::<lcm_model::Policy>(wire).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod capsule;
mod dataset;
mod deployment;
mod inference;
mod model;
mod roots;
mod training;

use std::fmt;
use std::sync::{Arc, Mutex};

use crate as rules;
use lcm_crypto::{CommitmentScheme, HashAlgorithm, OsRandom, RandomSource};
use lcm_model::{Clock, DomainType, SystemClock, Timestamp};

use crate::PyciafPolicy as Policy;

pub use self::capsule::{CapsuleHeader, CapsuleHeaderInputs, CapsuleManager};
pub use self::dataset::{
    DatasetAnchor, DatasetFamilyManager, DatasetManager, DatasetSplit, FamilyAnchor, FamilySplit,
    FamilySplitConfig, SplitAnchor,
};
pub use self::deployment::{
    BuildArtifact, DeploymentAnchor, DeploymentInputs, DeploymentManager, PreDeploymentAnchor,
    PreDeploymentInputs, Sbom,
};
pub use self::inference::{
    InferenceCommitment, InferenceConnections, InferenceManager, InferenceReceipt,
    InferenceRequest, verify_connections,
};
pub use self::model::{ModelAnchor, ModelManager};
pub use self::roots::{RootManager, TestEvaluationAnchor};
pub use self::training::{
    TrainingCheckpoint, TrainingManager, TrainingMetrics, TrainingSession, TrainingSnapshot,
};
pub use crate::{ModelDigests, ModelInputs};

/// The error of a reference rule ([`crate::Error`]).
pub use crate::Error as RuleError;

/// What the compatibility managers refuse.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The policy is not the reference's profile ([`crate::policy()`]).
    #[error("expected the pyciaf profile's {field} {expected} (lcm_pyciaf::policy), got {actual}")]
    NotThePyciafProfile {
        /// The policy field that differs.
        field: &'static str,
        /// The profile's value.
        expected: String,
        /// The given value.
        actual: String,
    },
    /// A reference rule refused its input.
    #[error(transparent)]
    Rule(#[from] RuleError),
    /// The randomness source failed.
    #[error(transparent)]
    Crypto(#[from] lcm_crypto::Error),
    /// An id this manager does not hold (the reference raises `ValueError` or returns `None`).
    #[error("expected a known {kind} id, got {id:?}")]
    Unknown {
        /// What was looked up.
        kind: &'static str,
        /// The id given.
        id: String,
    },
    /// A training session asked for its snapshot or root before completion.
    #[error("expected a completed training session, got {session_id:?} not completed yet")]
    NotCompleted {
        /// The session.
        session_id: String,
    },
    /// A value of the wrong shape where the reference's pydantic model requires one.
    #[error("expected {expected} for {field}, got {actual}")]
    Field {
        /// The field.
        field: &'static str,
        /// What the reference requires.
        expected: &'static str,
        /// What came.
        actual: String,
    },
    /// A UTC offset outside a day.
    #[error("expected a UTC offset within 24 hours, got {minutes} minutes")]
    UtcOffset {
        /// The offset given.
        minutes: i32,
    },
}

/// A record the reference keeps in a dict under its own id.
pub(crate) trait Keyed {
    /// The id it is kept under.
    fn key(&self) -> &str;
}

/// Implements [`Keyed`] for record types by the field holding their id.
macro_rules! keyed_by {
    ($($ty:ty => $field:ident),+ $(,)?) => {
        $(impl Keyed for $ty {
            fn key(&self) -> &str {
                &self.$field
            }
        })+
    };
}

keyed_by! {
    FamilyAnchor => dataset_id,
    PreDeploymentAnchor => predeployment_id,
    DeploymentAnchor => deployment_id,
    TrainingSession => session_id,
    TestEvaluationAnchor => test_id,
    InferenceConnections => connections_id,
    InferenceReceipt => receipt_id,
}

/// [`upsert`] under the item's own id.
pub(crate) fn upsert_keyed<T: Keyed>(items: &mut Vec<T>, item: T) -> &T {
    let key = item.key().to_owned();
    upsert(items, |x| x.key() == key, item)
}

/// The stored item kept under `key`.
pub(crate) fn find_keyed<'a, T: Keyed>(items: &'a [T], key: &str) -> Option<&'a T> {
    items.iter().find(|x| x.key() == key)
}

/// Stores `item` in place of the first stored item that `same` picks, or appends it, and
/// returns it: the reference's `dict[key] = value`, which keeps a replaced key at its first
/// insertion position.
pub(crate) fn upsert<T>(items: &mut Vec<T>, same: impl FnMut(&T) -> bool, item: T) -> &T {
    let at = match items.iter().position(same) {
        Some(i) => {
            items[i] = item;
            i
        }
        None => {
            items.push(item);
            items.len() - 1
        }
    };
    &items[at]
}

/// The list stored under `id`, an empty one appended first when there is none: the
/// reference's `dict.setdefault(id, [])`.
pub(crate) fn entry<'a, T>(lists: &'a mut Vec<(String, Vec<T>)>, id: &str) -> &'a mut Vec<T> {
    let at = match lists.iter().position(|(k, _)| k == id) {
        Some(i) => i,
        None => {
            lists.push((id.to_owned(), Vec::new()));
            lists.len() - 1
        }
    };
    &mut lists[at].1
}

/// The list stored under `id`, empty when there is none.
pub(crate) fn listed<'a, T>(lists: &'a [(String, Vec<T>)], id: &str) -> &'a [T] {
    lists
        .iter()
        .find(|(k, _)| k == id)
        .map_or(&[], |(_, items)| items.as_slice())
}

/// The first item that `same` picks in the list stored under `id`.
pub(crate) fn find_in<'a, T>(
    lists: &'a [(String, Vec<T>)],
    id: &str,
    same: impl FnMut(&&'a T) -> bool,
) -> Option<&'a T> {
    listed(lists, id).iter().find(same)
}

/// The first item that `same` picks in the list stored under `id`, to change it.
pub(crate) fn find_in_mut<'a, T>(
    lists: &'a mut [(String, Vec<T>)],
    id: &str,
    mut same: impl FnMut(&T) -> bool,
) -> Option<&'a mut T> {
    lists
        .iter_mut()
        .find(|(k, _)| k == id)
        .and_then(|(_, items)| items.iter_mut().find(|item| same(item)))
}

/// What every compatibility manager needs: the reference's profile, a clock and randomness.
///
/// The reference reads the local wall clock (`datetime.now().isoformat()`, naive, microseconds
/// omitted when zero) and `os.urandom` for salts it then throws away. Both are injected here:
/// with a [`lcm_model::FixedClock`] and a seeded source, every digest is reproducible. The
/// clock gives UTC; [`PyciafContext::with_utc_offset_minutes`] shifts it to the local time the
/// reference's host wrote.
#[derive(Clone)]
pub struct PyciafContext {
    policy: Policy,
    clock: Arc<dyn Clock>,
    random: Arc<Mutex<dyn RandomSource + Send>>,
    utc_offset_minutes: i32,
}

impl PyciafContext {
    /// A context for the reference's profile, with an explicit clock and randomness.
    ///
    /// Only [`crate::policy()`] is accepted, with any `commitments` and `domains` (the
    /// reference's `LCMPolicy.commitments` and `domains`); every other field must be the
    /// profile's. A native policy does not even compile here:
    ///
    /// ```compile_fail
    /// let _ = lcm_pyciaf::managers::PyciafContext::with_policy(lcm_model::Policy::default());
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::NotThePyciafProfile`] naming the first field that differs.
    pub fn new(
        policy: Policy,
        clock: Arc<dyn Clock>,
        random: impl RandomSource + Send + 'static,
    ) -> Result<Self, Error> {
        check_profile(&policy)?;
        Ok(Self {
            policy,
            clock,
            random: Arc::new(Mutex::new(random)),
            utc_offset_minutes: 0,
        })
    }

    /// A context for `policy` with the system clock (read as UTC) and OS randomness.
    ///
    /// # Errors
    ///
    /// As [`PyciafContext::new`].
    pub fn with_policy(policy: Policy) -> Result<Self, Error> {
        Self::new(policy, Arc::new(SystemClock), OsRandom)
    }

    /// The same context with timestamps written in local time `minutes` east of UTC, as the
    /// reference's host wrote them.
    ///
    /// # Errors
    ///
    /// [`Error::UtcOffset`] beyond ±24 hours.
    pub fn with_utc_offset_minutes(mut self, minutes: i32) -> Result<Self, Error> {
        if !(-1440..=1440).contains(&minutes) {
            return Err(Error::UtcOffset { minutes });
        }
        self.utc_offset_minutes = minutes;
        Ok(self)
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The reference's `commitments` value: `"salted"`, `"HMAC-SHA256"` or `"plaintext"`.
    pub fn commitment_kind(&self) -> &'static str {
        self.policy.commitments.name()
    }

    /// `LCMPolicy.policy_digest()` of this policy (the reference never embeds it anywhere).
    ///
    /// # Errors
    ///
    /// [`Error::Field`] for a domain the reference has no `DomainType` for.
    pub fn policy_digest(&self) -> Result<String, Error> {
        let domains = self
            .policy
            .domains
            .iter()
            .map(|d| domain_value(*d))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rules::policy_digest(&domains, self.commitment_kind()))
    }

    /// `datetime.now().isoformat()` from the injected clock: `YYYY-MM-DDTHH:MM:SS.ffffff`, local
    /// and naive, with the fraction left out when it is zero, as Python writes it.
    pub fn now_isoformat(&self) -> String {
        let now = self.clock.now().unix_micros();
        let shifted = now.saturating_add(i64::from(self.utc_offset_minutes) * 60_000_000);
        python_isoformat(Timestamp::from_unix_micros(shifted))
    }

    /// The reference's `derive_anchor_from_master(master_password, dataset_id)`:
    /// `HMAC-SHA256(key=utf8(master_password), msg=utf8(dataset_id))` as hex, **with no key
    /// derivation at all** (the password itself is the key).
    pub fn derive_anchor_from_master(&self, master_password: &str, dataset_id: &str) -> String {
        lcm_crypto::hex::encode(&rules::hmac_anchor(master_password.as_bytes(), dataset_id))
    }

    /// `n` bytes from the injected randomness (the reference's `os.urandom(n)`).
    fn random_bytes(&self, n: usize) -> Result<Vec<u8>, Error> {
        let mut buf = vec![0u8; n];
        let mut guard = match self.random.lock() {
            Ok(g) => g,
            // A panic elsewhere while holding the lock leaves the source usable.
            Err(poisoned) => poisoned.into_inner(),
        };
        guard.fill(&mut buf)?;
        Ok(buf)
    }

    /// The reference's `create_commitment(data, policy.commitments, anchor, rng)`: the salt is
    /// drawn from the injected randomness (and, as in the reference, not kept), the HMAC key is
    /// `anchor`.
    fn commitment(&self, data_json: &str, anchor: &[u8]) -> Result<String, Error> {
        let kind = self.commitment_kind();
        let secret = match self.policy.commitments {
            CommitmentScheme::Salted => self.random_bytes(16)?,
            CommitmentScheme::Hmac => anchor.to_vec(),
            _ => Vec::new(),
        };
        Ok(rules::commitment(kind, data_json, &secret)?)
    }
}

impl fmt::Debug for PyciafContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PyciafContext")
            .field("policy", &self.policy)
            .field("clock", &self.clock)
            .field("utc_offset_minutes", &self.utc_offset_minutes)
            .finish_non_exhaustive()
    }
}

fn check_profile(policy: &Policy) -> Result<(), Error> {
    let profile = crate::policy();
    let differ = |field: &'static str, expected: String, actual: String| {
        Err(Error::NotThePyciafProfile {
            field,
            expected,
            actual,
        })
    };
    if policy.hash_algorithm != profile.hash_algorithm {
        return differ(
            "hash_algorithm",
            format!("{:?}", profile.hash_algorithm),
            format!("{:?}", policy.hash_algorithm),
        );
    }
    if policy.kdf_iterations != profile.kdf_iterations {
        return differ(
            "kdf_iterations",
            profile.kdf_iterations.to_string(),
            policy.kdf_iterations.to_string(),
        );
    }
    if policy.schema_version != profile.schema_version {
        return differ(
            "schema_version",
            profile.schema_version.to_string(),
            policy.schema_version.to_string(),
        );
    }
    Ok(())
}

/// The reference's `DomainType` value of a domain.
fn domain_value(d: DomainType) -> Result<&'static str, Error> {
    Ok(match d {
        DomainType::Dataset => "CIAF|dataset",
        DomainType::DatasetFamily => "CIAF|dataset|family",
        DomainType::DatasetSplit => "CIAF|dataset|split",
        DomainType::Model => "CIAF|model",
        DomainType::Training => "CIAF|train",
        DomainType::Deployment => "CIAF|deployment",
        DomainType::Inference => "CIAF|inference",
        other => {
            return Err(Error::Field {
                field: "domains",
                expected: "a domain the reference has a DomainType for",
                actual: format!("{other:?}"),
            });
        }
    })
}

/// Python's `datetime.isoformat()` of a naive datetime holding `t`'s wall-clock fields.
fn python_isoformat(t: Timestamp) -> String {
    let text = t.to_string();
    let text = text.strip_suffix('Z').unwrap_or(&text);
    text.strip_suffix(".000000").unwrap_or(text).to_owned()
}

// ----- JSON text assembly -----
//
// The reference hashes Python values; the rules at the crate root take them as JSON
// text. These helpers write that text: strings, floats (including `NaN` and `Infinity`, which
// the rules read as Python does), and objects whose values are already JSON text.

/// A JSON string literal. Only `"`, `\` and control characters need escaping for the rules'
/// reader; every other character is read as itself.
fn jstr(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A Python `float` as JSON text the rules read back as the same float: the shortest
/// round-trip text, always with a fraction or an exponent, and `NaN`/`Infinity` bare.
fn jfloat(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    let text = format!("{f:?}");
    if text.contains(['.', 'e', 'E']) {
        text
    } else {
        format!("{text}.0")
    }
}

/// A JSON object from `(key, value JSON text)` pairs, in the given order.
fn jobj(items: &[(&str, String)]) -> String {
    let mut out = String::from("{");
    for (i, (k, v)) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&jstr(k));
        out.push(':');
        out.push_str(v);
    }
    out.push('}');
    out
}

/// A JSON list of strings.
fn jstr_list<S: AsRef<str>>(items: &[S]) -> String {
    let inner: Vec<String> = items.iter().map(|s| jstr(s.as_ref())).collect();
    format!("[{}]", inner.join(","))
}

/// A JSON object of `name -> float`.
fn jfloat_map<S: AsRef<str>>(items: &[(S, f64)]) -> String {
    let pairs: Vec<(&str, String)> = items
        .iter()
        .map(|(k, v)| (k.as_ref(), jfloat(*v)))
        .collect();
    jobj(&pairs)
}

/// The canonical text of a caller's JSON object (the rules' reader checks it is one value).
fn canonical_object(input_json: &str, field: &'static str) -> Result<String, Error> {
    let canon = rules::canonical_json(input_json)?;
    if !canon.starts_with('{') {
        return Err(Error::Field {
            field,
            expected: "a JSON object",
            actual: canon.chars().take(16).collect(),
        });
    }
    Ok(canon)
}

/// The raw JSON text of a top-level member of a canonical (compact, ASCII) JSON object, or
/// `None` when it has no such key.
fn member<'a>(canon_object: &'a str, key: &str) -> Option<&'a str> {
    let b = canon_object.as_bytes();
    let wanted = jstr(key);
    let mut depth = 0usize;
    let mut i = 0usize;
    let mut value_start: Option<usize> = None;
    while let Some(&c) = b.get(i) {
        match c {
            b'"' => {
                let start = i;
                i += 1;
                while let Some(&d) = b.get(i) {
                    match d {
                        b'\\' => i += 2,
                        b'"' => break,
                        _ => i += 1,
                    }
                }
                // `i` is at the closing quote.
                let is_key_position = depth == 1
                    && matches!(
                        start.checked_sub(1).and_then(|p| b.get(p)),
                        Some(b'{' | b',')
                    );
                if is_key_position
                    && value_start.is_none()
                    && canon_object.get(start..=i) == Some(wanted.as_str())
                    && b.get(i + 1) == Some(&b':')
                {
                    value_start = Some(i + 2);
                }
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                if let (1, Some(s)) = (depth, value_start) {
                    return canon_object.get(s..i);
                }
                depth = depth.saturating_sub(1);
            }
            b',' if depth == 1 => {
                if let Some(s) = value_start {
                    return canon_object.get(s..i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The string value of a JSON string literal in canonical text.
fn string_value(raw: &str, field: &'static str) -> Result<String, Error> {
    serde_json::from_str::<String>(raw).map_err(|_| Error::Field {
        field,
        expected: "a string",
        actual: raw.chars().take(32).collect(),
    })
}

/// `json.dumps(x, sort_keys=True)` with the **default** separators `", "` and `": "`, from the
/// compact canonical text of the same value (ASCII, so the only `,` and `:` outside strings are
/// separators).
fn with_default_separators(canon: &str) -> String {
    let mut out = String::with_capacity(canon.len() + canon.len() / 4);
    let mut in_string = false;
    let mut escaped = false;
    for c in canon.chars() {
        out.push(c);
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
        } else if c == ',' || c == ':' {
            out.push(' ');
        }
    }
    out
}

/// `sha256(utf8(text))` as lowercase hex.
fn sha256_hex(text: &str) -> String {
    lcm_crypto::hash(HashAlgorithm::Sha256, text.as_bytes()).to_hex()
}

/// `digest[:8] + "..."`, the reference's truncated form.
fn short(digest: &str) -> String {
    rules::display_id("", digest)
}

#[cfg(test)]
mod tests;
