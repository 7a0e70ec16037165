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
//! reference's profile, [`lcm_model::Policy::pyciaf_compat`] (its `commitments` and `domains`
//! may be changed: they are the reference's `LCMPolicy.commitments` and `domains`). The native
//! default policy is refused here, and the profile is refused everywhere else:
//! [`lcm_model::Policy::validate`] and therefore [`crate::Context::new`], the native managers
//! and native capsule verification never accept it. The records here are plain structs with the
//! reference's field names and hex digests; none implements [`lcm_model::Record`] and none
//! converts into a native `Sealed` value.
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
//! Every digest comes from [`lcm_model::compat::pyciaf`], the pure functions that reproduce the
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
//! use lcm_managers::compat::pyciaf::{InferenceManager, InferenceRequest, PyciafContext};
//! use lcm_model::{FixedClock, Policy, Timestamp};
//! use lcm_model::compat::pyciaf as rules;
//!
//! let mut policy = Policy::pyciaf_compat();
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
//! // The native managers refuse the same policy.
//! assert!(lcm_managers::Context::with_policy(Policy::pyciaf_compat()).is_err());
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

use lcm_crypto::{CommitmentScheme, HashAlgorithm, OsRandom, RandomSource};
use lcm_model::compat::pyciaf as rules;
use lcm_model::policy::{Canonicalization, DomainType, MerkleConstruction};
use lcm_model::{Clock, Policy, SystemClock, Timestamp};

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
pub use lcm_model::compat::pyciaf::{ModelDigests, ModelInputs};

/// The error of a reference rule ([`lcm_model::compat::pyciaf::Error`]).
pub use lcm_model::compat::pyciaf::Error as RuleError;

/// What the compatibility managers refuse.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The policy is not the reference's profile ([`Policy::pyciaf_compat`]).
    #[error(
        "expected the pyciaf profile's {field} {expected} (Policy::pyciaf_compat), got {actual}"
    )]
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
    /// Only [`Policy::pyciaf_compat`] is accepted, with any `commitments` and `domains` (the
    /// reference's `LCMPolicy.commitments` and `domains`); every other field must be the
    /// profile's. The native default policy is refused.
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
    let profile = Policy::pyciaf_compat();
    let differ = |field: &'static str, expected: String, actual: String| {
        Err(Error::NotThePyciafProfile {
            field,
            expected,
            actual,
        })
    };
    if policy.canonicalization != Canonicalization::PyciafJson {
        return differ(
            "canonicalization",
            profile.canonicalization.name().to_owned(),
            policy.canonicalization.name().to_owned(),
        );
    }
    if policy.merkle != MerkleConstruction::PyciafDuplicateLast {
        return differ(
            "merkle",
            profile.merkle.name().to_owned(),
            policy.merkle.name().to_owned(),
        );
    }
    if policy.hash_algorithm != HashAlgorithm::Sha256 {
        return differ(
            "hash_algorithm",
            format!("{:?}", HashAlgorithm::Sha256),
            format!("{:?}", policy.hash_algorithm),
        );
    }
    if policy.kdf_iterations != rules::PBKDF2_ITERATIONS {
        return differ(
            "kdf_iterations",
            rules::PBKDF2_ITERATIONS.to_string(),
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
// The reference hashes Python values; the rules in `lcm_model::compat::pyciaf` take them as JSON
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
mod tests {
    use lcm_crypto::{Seed, SeededRandom};
    use lcm_model::FixedClock;

    use super::*;

    /// The inputs of a minimal model `m` version `v`.
    fn small_model() -> ModelInputs<'static> {
        ModelInputs {
            model_name: "m",
            version: "v",
            architecture_json: r#"{"type": "t"}"#,
            hyperparameters_json: "{}",
            environment_json: r#"{"framework": "f", "framework_version": "1"}"#,
            trainer_commit: "unknown",
            authorized_datasets: &[],
        }
    }

    pub(super) fn ctx_with(commitments: CommitmentScheme) -> PyciafContext {
        let mut policy = Policy::pyciaf_compat();
        policy.commitments = commitments;
        let start: Timestamp = "2026-01-02T03:04:05.678901Z".parse().unwrap();
        PyciafContext::new(
            policy,
            Arc::new(FixedClock::new(start, 0)),
            SeededRandom::new(&Seed::from_bytes([3; 32])),
        )
        .unwrap()
    }

    #[test]
    fn only_the_profile_opens_a_context() {
        assert!(matches!(
            PyciafContext::with_policy(Policy::default()),
            Err(Error::NotThePyciafProfile {
                field: "canonicalization",
                ..
            })
        ));
        let mut p = Policy::pyciaf_compat();
        p.kdf_iterations = 600_000;
        assert!(matches!(
            PyciafContext::with_policy(p),
            Err(Error::NotThePyciafProfile {
                field: "kdf_iterations",
                ..
            })
        ));
        let mut p = Policy::pyciaf_compat();
        p.merkle = MerkleConstruction::Rfc9162;
        assert!(matches!(
            PyciafContext::with_policy(p),
            Err(Error::NotThePyciafProfile {
                field: "merkle",
                ..
            })
        ));
        let mut p = Policy::pyciaf_compat();
        p.hash_algorithm = HashAlgorithm::Blake3;
        assert!(PyciafContext::with_policy(p).is_err());
        assert!(PyciafContext::with_policy(Policy::pyciaf_compat()).is_ok());
        // The other way round: the native managers refuse the profile.
        assert!(crate::Context::with_policy(Policy::pyciaf_compat()).is_err());
    }

    #[test]
    fn isoformat_is_pythons() {
        let ctx = ctx_with(CommitmentScheme::Salted);
        assert_eq!(ctx.now_isoformat(), "2026-01-02T03:04:05.678901");
        let ctx = ctx.with_utc_offset_minutes(-90).unwrap();
        assert_eq!(ctx.now_isoformat(), "2026-01-02T01:34:05.678901");
        assert!(ctx.with_utc_offset_minutes(1441).is_err());
        let whole: Timestamp = "2026-01-02T03:04:05.000000Z".parse().unwrap();
        assert_eq!(python_isoformat(whole), "2026-01-02T03:04:05");
    }

    #[test]
    fn policy_digest_is_the_references() {
        // The reference's default policy digest (research note section 2.1).
        let ctx = ctx_with(CommitmentScheme::Salted);
        assert_eq!(
            ctx.policy_digest().unwrap(),
            "1ab676cec1a460b9aff461a9a64dd7c93b0c0ff482c0a391ce0eea869d7792bb"
        );
        assert_ne!(
            ctx_with(CommitmentScheme::Plaintext)
                .policy_digest()
                .unwrap(),
            ctx.policy_digest().unwrap()
        );
    }

    #[test]
    fn json_text_helpers() {
        assert_eq!(jfloat(1.0), "1.0");
        assert_eq!(jfloat(1e-5), "1e-5");
        assert_eq!(rules::canonical_json(&jfloat(1e-5)).unwrap(), "1e-05");
        assert_eq!(rules::canonical_json(&jfloat(1e16)).unwrap(), "1e+16");
        assert_eq!(rules::canonical_json(&jfloat(f64::NAN)).unwrap(), "NaN");
        assert_eq!(
            rules::canonical_json(&jfloat(f64::NEG_INFINITY)).unwrap(),
            "-Infinity"
        );
        assert_eq!(
            rules::canonical_json(&jstr("a\"\\\n\u{e9}")).unwrap(),
            r#""a\"\\\n\u00e9""#
        );
        let canon = r#"{"a":{"b":[1,"x,y:z"]},"b\"":"q","c":null,"d":[{"e":1}]}"#;
        assert_eq!(member(canon, "a"), Some(r#"{"b":[1,"x,y:z"]}"#));
        assert_eq!(member(canon, "b\""), Some(r#""q""#));
        assert_eq!(member(canon, "b"), None);
        assert_eq!(member(canon, "c"), Some("null"));
        assert_eq!(member(canon, "d"), Some(r#"[{"e":1}]"#));
        assert_eq!(member(canon, "e"), None);
        assert_eq!(
            with_default_separators(canon),
            r#"{"a": {"b": [1, "x,y:z"]}, "b\"": "q", "c": null, "d": [{"e": 1}]}"#
        );
    }

    #[test]
    fn family_simulation_follows_the_reference() {
        let mut f = DatasetFamilyManager::new(ctx_with(CommitmentScheme::Salted));
        let meta = r#"{"name": "n", "version": "v2", "owner": "o", "license": "l"}"#;
        let configs = [
            FamilySplitConfig {
                split: FamilySplit::Train,
                config_json: r#"{"ratio": 1, "stratify_by": ["label"]}"#,
                rng_seed: 7,
            },
            FamilySplitConfig {
                split: FamilySplit::Test,
                config_json: r#"{"selection": "random"}"#,
                rng_seed: 8,
            },
        ];
        let fam = f.create_dataset_family("ds", meta, &configs).unwrap();
        assert_eq!(fam.dataset_content_root, sha256_hex("ds_v2_content"));
        assert_eq!(
            fam.family_anchor,
            rules::family_anchor(meta, &sha256_hex("ds_v2_content")).unwrap()
        );
        let splits = f.get_all_splits("ds");
        assert_eq!(splits.len(), 2);
        let train = &splits[0];
        assert_eq!(train.sample_hashes.len(), 100);
        assert_eq!(train.sample_hashes[0], sha256_hex("ds_record_0_data"));
        let ids: Vec<String> = (0..100).map(|i| format!("ds_record_{i}")).collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let expected_meta = format!(
            r#"{{"dataset_id": "ds", "split_name": "train", "split_selection_rules": {{"ratio": 1, "stratify_by": ["label"]}},
            "split_stats": {{"ratio": 1}}, "sample_count": 0, "rng_seed": 7, "rng_source": "random",
            "stratify_by": ["label"], "split_assignment_digest": "{}"}}"#,
            rules::split_assignment_digest(&refs, None)
        );
        assert_eq!(
            train.split_anchor,
            rules::split_anchor(&expected_meta, &sha256_hex("ds_train_content")).unwrap()
        );
        assert!(train.anchor_id.starts_with("d_s_train_"));
        // No ratio in the configuration: the reference's `config.get("ratio", 0.0)`.
        let test = &splits[1];
        assert_eq!(test.sample_hashes.len(), 20);
        assert_eq!(
            member(&test.split_metadata, "split_stats"),
            Some(r#"{"ratio":0.0}"#)
        );
        assert_eq!(member(&test.split_metadata, "stratify_by"), Some("null"));
        // A version that is not a string is refused, as pydantic refuses it.
        assert!(matches!(
            f.create_dataset_family(
                "x",
                r#"{"name": "n", "version": 2, "owner": "o", "license": "l"}"#,
                &configs
            ),
            Err(Error::Field {
                field: "version",
                ..
            })
        ));
        assert!(matches!(
            f.add_sample_hash("nobody", FamilySplit::Train, "ab"),
            Err(Error::Unknown { .. })
        ));
    }

    #[test]
    fn dataset_and_model_commitments_use_their_anchors() {
        let ctx = ctx_with(CommitmentScheme::Hmac);
        let mut d = DatasetManager::new(ctx.clone());
        let a = d
            .create_dataset_anchor(
                "ds",
                DatasetSplit::Validation,
                r#"{"name": "d"}"#,
                "pw",
                Some(&[5; 16]),
            )
            .unwrap();
        assert!(a.anchor_id.starts_with("v_"));
        assert!(!format!("{a:?}").contains(&a.expose_dataset_anchor_hex()));
        let key = lcm_crypto::hex::decode(&a.expose_dataset_anchor_hex()).unwrap();
        assert_eq!(
            d.create_commitment("ds", DatasetSplit::Validation, r#"{"a": 1}"#)
                .unwrap(),
            rules::commitment("HMAC-SHA256", r#"{"a": 1}"#, &key).unwrap()
        );
        assert!(d.create_commitment("ds", DatasetSplit::Test, "1").is_err());
        // An empty salt is Python-falsy: a salt is drawn instead.
        let drawn = d
            .create_dataset_anchor(
                "ds",
                DatasetSplit::Full,
                r#"{"name": "d"}"#,
                "pw",
                Some(&[]),
            )
            .unwrap();
        assert_eq!(drawn.master_salt.len(), 16);
        assert!(drawn.anchor_id.starts_with("f_"));

        let mut m = ModelManager::new(ctx);
        let inputs = |version| ModelInputs {
            model_name: "m",
            version,
            architecture_json: r#"{"type": "t"}"#,
            hyperparameters_json: "{}",
            environment_json: r#"{"framework": "f", "framework_version": "1"}"#,
            trainer_commit: "unknown",
            authorized_datasets: &["b", "a"],
        };
        m.create_model_anchor(&inputs("1.0.0"), None, Some(&[1; 16]))
            .unwrap();
        m.create_model_anchor(&inputs("2.0.0"), None, Some(&[1; 16]))
            .unwrap();
        assert_eq!(m.get_model_anchor("m", None).unwrap().version, "2.0.0");
        assert_eq!(m.list_models().collect::<Vec<_>>(), ["m_1.0.0", "m_2.0.0"]);
        let anchor = m.get_model_anchor("m", Some("1.0.0")).unwrap();
        assert_eq!(anchor.authorized_dataset_refs(), ["ref_b", "ref_a"]);
        let key = lcm_crypto::hex::decode(&anchor.expose_model_anchor_hex()).unwrap();
        assert_eq!(
            m.create_commitment("m", "1.0.0", "\"x\"").unwrap(),
            rules::commitment("HMAC-SHA256", "\"x\"", &key).unwrap()
        );
        assert!(m.create_commitment("m", "3.0.0", "1").is_err());
    }

    #[test]
    fn training_states_and_config_merge() {
        let ctx = ctx_with(CommitmentScheme::Salted);
        let mut m = ModelManager::new(ctx.clone());
        let model = m
            .create_model_anchor(&small_model(), Some("pw"), Some(&[1; 16]))
            .unwrap();
        let mut t = TrainingManager::new(ctx);
        assert!(
            t.create_training_session("s", model, "ab", "[]", &[], None)
                .is_err()
        );
        let s = t
            .create_training_session(
                "s",
                model,
                "not hex",
                r#"{"checkpoints_count": 99, "x": 1}"#,
                &[],
                Some(""),
            )
            .unwrap();
        assert_eq!(s.split_map_digest, "sm_mock_digest");
        assert!(matches!(
            s.get_training_snapshot_anchor(),
            Err(Error::NotCompleted { .. })
        ));
        t.add_checkpoint(
            "s",
            TrainingCheckpoint {
                checkpoint_id: "cp".to_owned(),
                epoch: 1,
                step: 2,
                metrics: vec![],
                model_state_digest: "m".to_owned(),
                optimizer_state_digest: "o".to_owned(),
                timestamp: None,
            },
        )
        .unwrap();
        assert!(
            t.add_checkpoint(
                "nope",
                t.get_training_session("s").unwrap().checkpoints[0].clone()
            )
            .is_err()
        );
        let snap = t.complete_training("s", &[]).unwrap();
        // The session's values replace the config's (`dict.update`).
        assert_eq!(
            member(&snap.training_parameters, "checkpoints_count"),
            Some("1")
        );
        assert_eq!(member(&snap.training_parameters, "x"), Some("1"));
        assert_eq!(
            member(&snap.training_parameters, "metrics_digest"),
            Some(r#""none""#)
        );
        assert_eq!(snap.merkle_root_hash, rules::merkle_root(&[]).unwrap());
        let s = t.get_training_session("s").unwrap();
        assert!(s.get_training_snapshot_anchor().unwrap().starts_with("tr_"));
        // A datasets root that is not hex fails as `bytes.fromhex` does.
        assert!(matches!(s.get_training_session_root(), Err(Error::Rule(_))));
        assert!(t.complete_training("nope", &[]).is_err());
    }

    #[test]
    fn empty_plaintext_commitments_are_refused() {
        let mut i = InferenceManager::new(ctx_with(CommitmentScheme::Plaintext));
        let r = InferenceRequest::new("c", "r", "m", "d", "q", "", "out");
        assert!(matches!(
            i.perform_inference_with_audit(&r),
            Err(Error::Field { field: "query", .. })
        ));
        // Nothing was appended.
        assert!(i.get_inference_connections("c").is_none());
        let r = InferenceRequest { query: "in", ..r };
        let first = i.perform_inference_with_audit(&r).unwrap().clone();
        assert_eq!(first.input_commitment.commitment_value, "in");
        assert_eq!(first.prev_connections_digest, None);
        // Re-creating a chain starts it again from "genesis".
        i.create_inference_connections("c");
        let again = i.perform_inference_with_audit(&r).unwrap();
        assert_eq!(again.prev_connections_digest, None);
    }

    #[test]
    fn capsule_stage_h_and_empty_header() {
        let c = CapsuleManager::new(ctx_with(CommitmentScheme::Salted));
        let empty = c
            .create_capsule_header(&CapsuleHeaderInputs::default())
            .unwrap();
        assert_eq!(member(&empty.compact_json, "stage_h_roots"), Some("null"));
        assert_eq!(
            member(&empty.compact_json, "generated_at"),
            Some(r#""2026-01-02T03:04:05.678901""#)
        );
        let one = c
            .create_capsule_header(&CapsuleHeaderInputs {
                release_root: Some("0123456789abcdef"),
                ..CapsuleHeaderInputs::default()
            })
            .unwrap();
        assert_eq!(
            member(&one.compact_json, "stage_h_roots"),
            Some(
                r#"{"description":"Merkle Roots & Publication","evidence_id":"null","inference_batch_root":null,"release_root":"01234567...","stage":"H","timestamp_authority":"not_set","training_session_root":null}"#
            )
        );
    }

    #[test]
    fn the_other_receipt_path_uses_full_salted_digests() {
        let ctx = ctx_with(CommitmentScheme::Salted);
        let mut m = ModelManager::new(ctx.clone());
        let model = m
            .create_model_anchor(&small_model(), Some("pw"), Some(&[1; 16]))
            .unwrap();
        let mut d = DeploymentManager::new(ctx.clone());
        let artifact = BuildArtifact {
            artifact_type: "t".to_owned(),
            artifact_digest: "a".to_owned(),
            build_timestamp: "b".to_owned(),
            builder_info: "c".to_owned(),
            size_bytes: 0,
        };
        let sbom = Sbom {
            dependencies: vec![],
            security_scan_digest: "s".to_owned(),
            vulnerability_count: 0,
            compliance_status: "unknown".to_owned(),
        };
        d.create_predeployment_anchor(&PreDeploymentInputs {
            predeployment_id: "p",
            build_artifact: &artifact,
            sbom: &sbom,
            approval_ticket_id: "t",
            intended_env: "e",
            intended_region: "r",
            rollout_plan_digest: Some("plan"),
        })
        .unwrap();
        let dep = d
            .create_deployment_anchor("dep", "p", &DeploymentInputs::default())
            .unwrap();
        // The context's randomness, replayed: the first 16 bytes salt the query.
        let mut replay = SeededRandom::new(&Seed::from_bytes([3; 32]));
        let (mut s1, mut s2) = ([0u8; 16], [0u8; 16]);
        replay.fill(&mut s1).unwrap();
        replay.fill(&mut s2).unwrap();
        let mut i = InferenceManager::new(ctx);
        let r = i
            .create_inference_receipt("inf", model, dep, "What is AI?", "AI is.", Some("ab"))
            .unwrap()
            .clone();
        let expected_in = sha256_hex(&format!("{}What is AI?", lcm_crypto::hex::encode(&s1)));
        assert_eq!(r.input_commitment.commitment_value, expected_in);
        let expected_out = sha256_hex(&format!("{}AI is.", lcm_crypto::hex::encode(&s2)));
        assert_eq!(r.output_commitment.commitment_value, expected_out);
        assert_eq!(r.model_anchor_ref, model.anchor_id);
        assert_eq!(r.request_id, "inf");
        assert_eq!(
            r.connections_digest,
            rules::connections_digest(Some("ab"), &r.receipt_digest)
        );
        assert!(i.get_inference_receipt("inf").is_some());
        // It joins no chain, so no batch covers it.
        assert_eq!(
            i.create_inference_batch_root("w", &["inf"]).unwrap(),
            rules::EMPTY_BATCH
        );
        assert!(
            i.create_inference_receipt("x", model, dep, "q", "", None)
                .is_err()
        );
    }
}
