//! Deployment records (seed §5): the build artifact and SBOM of a release, the pre-deployment
//! anchor (what is about to be deployed, where, and on whose approval), the deployment anchor
//! (what was actually deployed), and the hash-chained history of rollout status changes.
//!
//! Differences from the Python reference, on purpose:
//!
//! - the pre-deployment anchor binds the model anchor and the training snapshot it releases,
//!   by full digest (the reference binds neither);
//! - the deployment anchor binds the pre-deployment anchor's full digest (the reference's
//!   deployment hash omits it);
//! - artifact digests must be well-formed `"<algorithm>:<hex>"` strings of the right length;
//! - an absent rollout plan is `null`, not the sentinel string `"default_rollout"`;
//! - status changes are appended to a hash chain ([`DeploymentStatusEvent`]), never
//!   overwritten.

use std::collections::BTreeMap;

use lcm_crypto::Digest;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::non_empty;
use crate::{Error, Policy, Record, Timestamp};

/// A built, deployable artifact (a container image, a model archive, ...): the seed's
/// `BuildArtifact`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct BuildArtifact {
    /// The kind of artifact, for example `"docker"`.
    pub artifact_type: String,
    /// The artifact's content digest as its build system reports it: `"<algorithm>:<hex>"`,
    /// for example an OCI image digest `"sha256:<64 hex>"`. See
    /// [`BuildArtifact::validate`] for the accepted algorithms. In an input file (inside
    /// [`crate::reading_input`]) 64 hex characters alone read as `"sha256:<hex>"`.
    #[serde(deserialize_with = "artifact_digest_notation")]
    #[cfg_attr(
        feature = "schema",
        schemars(pattern(r"^((sha256|blake3):[0-9a-f]{64}|sha384:[0-9a-f]{96}|sha512:[0-9a-f]{128}|[0-9a-f]{64})$"))
    )]
    pub artifact_digest: String,
    /// When the artifact was built.
    pub build_timestamp: Timestamp,
    /// The builder (for example `"jenkins-v2.401"`).
    pub builder_info: String,
    /// The artifact's size in bytes.
    pub size_bytes: u64,
}

/// The digest algorithms accepted in [`BuildArtifact::artifact_digest`], with the length of
/// their lowercase hex encoding.
pub const ARTIFACT_DIGEST_ALGORITHMS: &[(&str, usize)] = &[
    ("blake3", 64),
    ("sha256", 64),
    ("sha384", 96),
    ("sha512", 128),
];

impl BuildArtifact {
    /// Checks the required fields and the shape of the artifact digest.
    ///
    /// # Errors
    ///
    /// [`Error::EmptyField`] for an empty `artifact_type` or `builder_info`;
    /// [`Error::InvalidField`] for an `artifact_digest` that is not `"<algorithm>:<hex>"` with
    /// an algorithm of [`ARTIFACT_DIGEST_ALGORITHMS`] and exactly as many lowercase hex
    /// characters as that algorithm's output.
    ///
    /// # Examples
    ///
    /// ```
    /// use lcm_model::Timestamp;
    /// use lcm_model::records::deployment::BuildArtifact;
    ///
    /// let mut artifact = BuildArtifact {
    ///     artifact_type: "docker".into(),
    ///     artifact_digest: format!("sha256:{}", "ab".repeat(32)),
    ///     build_timestamp: Timestamp::from_unix_micros(0),
    ///     builder_info: "jenkins-v2.401".into(),
    ///     size_bytes: 500 << 20,
    /// };
    /// artifact.validate()?;
    /// artifact.artifact_digest = "sha256:abc".into(); // the seed's placeholder
    /// assert!(artifact.validate().is_err());
    /// # Ok::<(), lcm_model::Error>(())
    /// ```
    pub fn validate(&self) -> Result<(), Error> {
        non_empty(Self::KIND, "artifact_type", &self.artifact_type)?;
        non_empty(Self::KIND, "builder_info", &self.builder_info)?;
        validate_artifact_digest(&self.artifact_digest)
    }
}

/// An artifact digest as written: in an input file, 64 characters without a prefix are a
/// SHA-256 digest and get its prefix (checked later by [`BuildArtifact::validate`]).
fn artifact_digest_notation<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let value = String::deserialize(d)?;
    if Digest::is_accepting_input() && value.len() == 64 && !value.contains(':') {
        Ok(format!("sha256:{value}"))
    } else {
        Ok(value)
    }
}

fn validate_artifact_digest(value: &str) -> Result<(), Error> {
    let invalid = |expected: &'static str| Error::InvalidField {
        record: BuildArtifact::KIND,
        field: "artifact_digest",
        expected,
        actual: truncate(value),
    };
    let (algorithm, hex) = value
        .split_once(':')
        .ok_or_else(|| invalid("\"<algorithm>:<hex>\", for example \"sha256:<64 hex>\""))?;
    let len = ARTIFACT_DIGEST_ALGORITHMS
        .iter()
        .find(|(name, _)| *name == algorithm)
        .map(|(_, len)| *len)
        .ok_or_else(|| invalid("an algorithm among blake3, sha256, sha384, sha512"))?;
    if hex.len() != len {
        return Err(invalid(match len {
            64 => "64 hex characters after the algorithm",
            96 => "96 hex characters after the algorithm",
            _ => "128 hex characters after the algorithm",
        }));
    }
    if !hex
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(invalid("lowercase hex characters after the algorithm"));
    }
    Ok(())
}

impl Record for BuildArtifact {
    const KIND: &'static str = "build-artifact";
}

/// The outcome of an SBOM's compliance check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ComplianceStatus {
    /// The check failed.
    Failed,
    /// The check passed.
    Passed,
    /// The check passed with warnings.
    PassedWithWarnings,
    /// No check was run (the seed's default).
    #[default]
    Unknown,
}

/// A software bill of materials: the seed's `SBOM`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Sbom {
    /// Package name to version.
    pub dependencies: BTreeMap<String, String>,
    /// The full digest of the security scan report.
    #[cfg_attr(feature = "schema", schemars(with = "crate::schema::InputDigest"))]
    pub security_scan_digest: Digest,
    /// Known vulnerabilities found by the scan.
    pub vulnerability_count: u64,
    /// The compliance check's outcome.
    pub compliance_status: ComplianceStatus,
}

impl Sbom {
    /// The SBOM's digest under `policy` (the seed's `compute_sbom_digest()`): its canonical
    /// JSON hashed under the `sbom` record tag, so every dependency, the scan digest, the count
    /// and the status are bound.
    ///
    /// # Errors
    ///
    /// As [`Record::digest`].
    pub fn compute_sbom_digest(&self, policy: &Policy) -> Result<Digest, Error> {
        self.digest(policy)
    }

    /// Checks that no dependency has an empty name or version.
    ///
    /// # Errors
    ///
    /// [`Error::EmptyField`] naming `dependencies`.
    pub fn validate(&self) -> Result<(), Error> {
        if self
            .dependencies
            .iter()
            .any(|(k, v)| k.is_empty() || v.is_empty())
        {
            return Err(Error::EmptyField {
                record: Self::KIND,
                field: "dependencies",
            });
        }
        Ok(())
    }
}

impl Record for Sbom {
    const KIND: &'static str = "sbom";
}

/// The rollout status of a deployment (the seed's `DeploymentStatus`, same wire names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DeploymentStatus {
    /// Built, scanned and approved, not yet deployed (a pre-deployment anchor).
    Prepared,
    /// Running.
    Deployed,
    /// The rollout failed.
    Failed,
    /// Rolled back; terminal.
    #[serde(rename = "rollback")]
    RolledBack,
}

impl DeploymentStatus {
    /// The wire name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Prepared => "prepared",
            Self::Deployed => "deployed",
            Self::Failed => "failed",
            Self::RolledBack => "rollback",
        }
    }
}

/// What is about to be deployed, where, and on whose approval: the seed's
/// `LCMPreDeploymentAnchor`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreDeploymentAnchor {
    /// The user-facing id, for example `"predeploy_001"`.
    pub predeployment_id: String,
    /// The full digest of the model anchor this release deploys.
    pub model_anchor: Digest,
    /// The full digest of the training snapshot that produced the released weights.
    pub training_snapshot: Digest,
    /// The artifact being deployed.
    pub build_artifact: BuildArtifact,
    /// [`Sbom::compute_sbom_digest`] of the artifact's SBOM.
    pub sbom_digest: Digest,
    /// The change-approval ticket.
    pub approval_ticket_id: String,
    /// The environment it is meant for (for example `"production"`).
    pub intended_env: String,
    /// The region it is meant for (for example `"us-east-1"`).
    pub intended_region: String,
    /// The digest of the rollout plan, if there is one (`null` otherwise; no sentinel).
    pub rollout_plan_digest: Option<Digest>,
    /// When the anchor was made.
    pub created_at: Timestamp,
}

impl Record for PreDeploymentAnchor {
    const KIND: &'static str = "predeployment-anchor";
}

/// What was actually deployed: the seed's `LCMDeploymentAnchor`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploymentAnchor {
    /// The user-facing id, for example `"deploy_001"`.
    pub deployment_id: String,
    /// The id of the pre-deployment anchor, for display.
    pub predeployment_id: String,
    /// The full digest of the pre-deployment anchor this deployment carries out.
    pub predeployment: Digest,
    /// Infrastructure configuration (cluster, namespace, replicas, limits, ...).
    pub infrastructure: Map<String, Value>,
    /// Network configuration (load balancer, security groups, ...).
    pub network_config: Map<String, Value>,
    /// Who deployed it.
    pub deployed_by: String,
    /// When it was deployed.
    pub deployed_at: Timestamp,
}

impl Record for DeploymentAnchor {
    const KIND: &'static str = "deployment-anchor";
}

/// One rollout status change of a deployment, chained to the previous change.
///
/// The history of a deployment is a list of events whose `sequence` counts from 0 and whose
/// `prev_event` is the full digest of the previous event (`None` only for the first). The
/// first event of every deployment is [`DeploymentStatus::Deployed`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploymentStatusEvent {
    /// The deployment's id, for display.
    pub deployment_id: String,
    /// The full digest of the deployment anchor.
    pub deployment: Digest,
    /// The position in the deployment's history, from 0.
    pub sequence: u64,
    /// The new status.
    pub status: DeploymentStatus,
    /// Why the status changed (free text, may be empty).
    pub reason: String,
    /// When it changed.
    pub at: Timestamp,
    /// The digest of the previous event; `None` only for the first.
    pub prev_event: Option<Digest>,
}

impl Record for DeploymentStatusEvent {
    const KIND: &'static str = "deployment-status-event";
}

/// At most 80 characters of `s`, for error messages.
fn truncate(s: &str) -> String {
    s.chars().take(80).collect()
}

#[cfg(test)]
mod tests;
