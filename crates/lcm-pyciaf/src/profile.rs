//! [`PyciafPolicy`]: the reference's values of the specification's policy fields.
//!
//! The native [`lcm_model::Policy`] declares what the native formats do (canonical JSON
//! `lcm-json/1`, RFC 9162 trees). The reference fills the same fields with other values: its
//! `json.dumps` canonicalization and its duplicate-last tree. Those values exist only here, in
//! types of their own, so the native policy cannot even name them and no native path can run
//! under them.

use lcm_crypto::{CommitmentScheme, HashAlgorithm};
use lcm_model::DomainType;
use lcm_model::policy::SCHEMA_VERSION;
use serde::{Deserialize, Serialize};

use crate::PBKDF2_ITERATIONS;

/// The reference's canonicalization: `json.dumps(sort_keys=True, separators=(",", ":"))` with
/// `ensure_ascii`, Python float `repr` and bare `NaN` ([`crate::canonical_json`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub enum PyciafCanonicalization {
    /// Python's `json.dumps` as the reference calls it.
    #[default]
    #[serde(rename = "pyciaf-json")]
    PythonJson,
}

impl PyciafCanonicalization {
    /// The wire name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::PythonJson => "pyciaf-json",
        }
    }
}

/// The reference's Merkle construction: raw leaves, `H(left || right)` nodes, the last node of
/// an odd level paired with itself ([`crate::tree`]; insecure).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub enum PyciafMerkle {
    /// The duplicate-last tree.
    #[default]
    #[serde(rename = "pyciaf-duplicate-last")]
    DuplicateLast,
}

impl PyciafMerkle {
    /// The wire name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::DuplicateLast => "pyciaf-duplicate-last",
        }
    }
}

/// The policy the reference's records were made under: the specification's fields with the
/// reference's values.
///
/// <div class="warning">
///
/// **Insecure, and never a native policy.** It is a type of its own: the native managers, the
/// process-wide default of the `lcm` facade and native capsule verification all take an
/// [`lcm_model::Policy`], which cannot hold the reference's canonicalization or tree, and the
/// wire form below does not parse as one.
///
/// </div>
///
/// # Examples
///
/// ```
/// let compat = lcm_pyciaf::policy();
/// assert_eq!(compat.kdf_iterations, 100_000);
/// // Its wire form names the profile; a native policy refuses to parse it.
/// let json = serde_json::to_string(&compat)?;
/// assert!(json.contains("pyciaf-json") && json.contains("pyciaf-duplicate-last"));
/// assert!(serde_json::from_str::<lcm_model::Policy>(&json).is_err());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PyciafPolicy {
    /// The hash function (the reference's `SHA-256`; nothing else opens a context).
    pub hash_algorithm: HashAlgorithm,
    /// How records become bytes: always the reference's `json.dumps`.
    pub canonicalization: PyciafCanonicalization,
    /// How roots are built: always the duplicate-last tree.
    pub merkle: PyciafMerkle,
    /// The reference's `LCMPolicy.commitments` (any of its three kinds).
    pub commitments: CommitmentScheme,
    /// PBKDF2 iterations (the reference's 100,000; nothing else opens a context).
    pub kdf_iterations: u32,
    /// The record schema version (the native one; nothing else opens a context).
    pub schema_version: u32,
    /// The reference's `LCMPolicy.domains`; empty means all.
    pub domains: Vec<DomainType>,
}

impl Default for PyciafPolicy {
    fn default() -> Self {
        policy()
    }
}

/// The reference's profile (DenzilGreenwood/pyciaf 1.7.0): its canonical JSON, its
/// duplicate-last Merkle tree, salted commitments and PBKDF2 at 100,000 iterations. It names the
/// rules under which this crate recomputes the reference's digests from the same inputs, to
/// check old records; `docs/COMPAT.md` lists them rule by rule.
///
/// (It was `lcm_model::Policy::pyciaf_compat()` before the native policy stopped naming the
/// reference's values.)
pub fn policy() -> PyciafPolicy {
    PyciafPolicy {
        hash_algorithm: HashAlgorithm::Sha256,
        canonicalization: PyciafCanonicalization::PythonJson,
        merkle: PyciafMerkle::DuplicateLast,
        commitments: CommitmentScheme::Salted,
        kdf_iterations: PBKDF2_ITERATIONS,
        schema_version: SCHEMA_VERSION,
        domains: Vec::new(),
    }
}
