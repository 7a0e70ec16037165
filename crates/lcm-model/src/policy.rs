//! [`Policy`]: the cryptographic choices a lifecycle is recorded under, honoured everywhere.
//!
//! In the Python reference most policy fields are labels that change nothing. Here every field
//! governs something that a digest depends on:
//!
//! | field | governs |
//! |---|---|
//! | `hash_algorithm` | every record digest, every Merkle tree, salted/plaintext commitments |
//! | `canonicalization` | the bytes a record digest is taken over |
//! | `merkle` | how every root is built |
//! | `commitments` | how queries, outputs and other private values are committed |
//! | `kdf_iterations` | the PBKDF2 cost of every anchor derived from a master password |
//! | `schema_version` | the domain tag of every record digest (`lcm/<version>/<kind>`) |
//! | `domains` | which record kinds may be created (empty = all) |
//!
//! A policy is embedded in every capsule header together with its [`Policy::digest`].
//!
//! The policy is always passed explicitly: nothing in the library crates reads a process-wide
//! default (the specification's `get_default_policy`/`set_default_policy` are a convenience of
//! the `lcm` facade). The enums name only what the native formats do; other systems' values of
//! the same fields (a compatibility profile) are types of their own, outside the native crates,
//! so no native path can run under them and their wire form does not parse as a [`Policy`].

use std::fmt;

use lcm_crypto::CommitmentScheme;
use lcm_crypto::{Digest, HashAlgorithm, hash_domain};
use serde::{Deserialize, Serialize};

use crate::{Error, canonical};

/// The lowest PBKDF2 iteration count a policy accepts (the Python reference's value, kept for
/// compatibility).
pub const MIN_KDF_ITERATIONS: u32 = 100_000;

/// The default PBKDF2 iteration count (OWASP's 2023 figure for PBKDF2-HMAC-SHA256).
pub const DEFAULT_KDF_ITERATIONS: u32 = 600_000;

/// The current record schema version.
pub const SCHEMA_VERSION: u32 = 1;

/// How records are turned into bytes before hashing.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Canonicalization {
    /// Canonical JSON as described in [`crate::canonical`] (sorted keys, no whitespace, one
    /// number form, NaN rejected).
    #[default]
    #[serde(rename = "lcm-json/1")]
    LcmJson1,
}

impl Canonicalization {
    /// The wire name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::LcmJson1 => "lcm-json/1",
        }
    }
}

/// How Merkle roots are built.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub enum MerkleConstruction {
    /// RFC 9162 (Certificate Transparency v2): leaf `H(0x00 || leaf)`, node
    /// `H(0x01 || left || right)`, no duplication of odd nodes.
    #[default]
    #[serde(rename = "rfc9162")]
    Rfc9162,
}

impl MerkleConstruction {
    /// The wire name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Rfc9162 => "rfc9162",
        }
    }
}

/// The kinds of record a lifecycle holds; a policy may restrict which are allowed.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DomainType {
    /// Dataset anchors.
    Dataset,
    /// Dataset family anchors.
    DatasetFamily,
    /// Dataset split anchors.
    DatasetSplit,
    /// Deployment and pre-deployment anchors.
    Deployment,
    /// Inference receipts and batches.
    Inference,
    /// Model anchors.
    Model,
    /// Training sessions, checkpoints and snapshots.
    Training,
}

/// The cryptographic policy of a lifecycle.
///
/// # Examples
///
/// ```
/// use lcm_model::Policy;
/// use lcm_crypto::HashAlgorithm;
///
/// let p = Policy::default();
/// let mut b = p.clone();
/// b.hash_algorithm = HashAlgorithm::Blake3;
/// assert_ne!(p.digest()?, b.digest()?);
/// println!("{}", p.format_policy_line()?);
/// # Ok::<(), lcm_model::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// The hash function of every digest and tree.
    #[cfg_attr(feature = "schema", schemars(with = "crate::schema::PolicyHash"))]
    pub hash_algorithm: HashAlgorithm,
    /// How records become bytes.
    pub canonicalization: Canonicalization,
    /// How roots are built.
    pub merkle: MerkleConstruction,
    /// How private values are committed.
    #[cfg_attr(
        feature = "schema",
        schemars(with = "crate::schema::PolicyCommitments")
    )]
    pub commitments: CommitmentScheme,
    /// PBKDF2-HMAC-SHA256 iterations for anchors derived from master passwords.
    pub kdf_iterations: u32,
    /// The record schema version, part of every record's domain tag.
    pub schema_version: u32,
    /// The record kinds that may be created; empty means all.
    pub domains: Vec<DomainType>,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            hash_algorithm: HashAlgorithm::Sha256,
            canonicalization: Canonicalization::LcmJson1,
            merkle: MerkleConstruction::Rfc9162,
            commitments: CommitmentScheme::Salted,
            kdf_iterations: DEFAULT_KDF_ITERATIONS,
            schema_version: SCHEMA_VERSION,
            domains: Vec::new(),
        }
    }
}

impl Policy {
    /// Checks that the policy can be used for native records.
    ///
    /// # Errors
    ///
    /// [`Error::Policy`] for a KDF cost below [`MIN_KDF_ITERATIONS`], an unknown schema
    /// version, or a canonicalization or Merkle construction that is not native (kept for the
    /// variants a future schema may add; today the enums hold only the native ones).
    pub fn validate(&self) -> Result<(), Error> {
        if self.canonicalization != Canonicalization::LcmJson1 {
            return Err(Error::Policy {
                field: "canonicalization",
                expected: Canonicalization::LcmJson1.name().to_owned(),
                actual: self.canonicalization.name().to_owned(),
            });
        }
        if self.merkle != MerkleConstruction::Rfc9162 {
            return Err(Error::Policy {
                field: "merkle",
                expected: MerkleConstruction::Rfc9162.name().to_owned(),
                actual: self.merkle.name().to_owned(),
            });
        }
        if self.kdf_iterations < MIN_KDF_ITERATIONS {
            return Err(Error::Policy {
                field: "kdf_iterations",
                expected: format!("at least {MIN_KDF_ITERATIONS}"),
                actual: self.kdf_iterations.to_string(),
            });
        }
        if self.schema_version != SCHEMA_VERSION {
            return Err(Error::Policy {
                field: "schema_version",
                expected: SCHEMA_VERSION.to_string(),
                actual: self.schema_version.to_string(),
            });
        }
        Ok(())
    }

    /// Whether records of `domain` may be created under this policy.
    pub fn allows(&self, domain: DomainType) -> bool {
        self.domains.is_empty() || self.domains.contains(&domain)
    }

    /// The domain tag under which records of `kind` are hashed: `lcm/<schema_version>/<kind>`.
    pub fn domain_tag(&self, kind: &str) -> String {
        format!("lcm/{}/{kind}", self.schema_version)
    }

    /// The canonical JSON of the policy.
    ///
    /// # Errors
    ///
    /// [`Error::Json`] only if serialization fails, which a valid policy never does.
    pub fn canonical_json(&self) -> Result<String, Error> {
        canonical::to_string(self)
    }

    /// The policy's digest: its canonical JSON hashed under the tag `lcm/policy` with the
    /// policy's own hash algorithm.
    ///
    /// # Errors
    ///
    /// As [`Policy::canonical_json`].
    pub fn digest(&self) -> Result<Digest, Error> {
        let bytes = canonical::to_vec(self)?;
        Ok(hash_domain(self.hash_algorithm, "lcm/policy", &[&bytes]))
    }

    /// A one-line summary, as the seed's `format_policy_line()`.
    ///
    /// # Errors
    ///
    /// As [`Policy::digest`].
    pub fn format_policy_line(&self) -> Result<String, Error> {
        Ok(format!(
            "LCM policy: hash={} canon={} merkle={} commitments={} kdf=PBKDF2-HMAC-SHA256/{} schema={} domains={} digest={}",
            self.hash_algorithm,
            self.canonicalization.name(),
            self.merkle.name(),
            self.commitments,
            self.kdf_iterations,
            self.schema_version,
            self.format_domains(),
            self.digest()?.short(),
        ))
    }
}

impl Policy {
    /// `domains` as the policy line shows it: the list as written in the policy file, and
    /// what an empty one means (`[] (no restriction: every record kind)`).
    fn format_domains(&self) -> String {
        let names: Vec<String> = self
            .domains
            .iter()
            .map(|d| match serde_json::to_value(d) {
                Ok(serde_json::Value::String(name)) => name,
                _ => format!("{d:?}"),
            })
            .collect();
        if names.is_empty() {
            "[] (no restriction: every record kind)".to_owned()
        } else {
            format!("[{}] (only these record kinds)", names.join(","))
        }
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.format_policy_line() {
            Ok(line) => f.write_str(&line),
            Err(_) => f.write_str("LCM policy: <unencodable>"),
        }
    }
}

#[cfg(test)]
mod tests;
