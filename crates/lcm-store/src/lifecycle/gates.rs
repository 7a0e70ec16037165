//! Policy gates: what a stage may not record unless someone says why.
//!
//! - a dataset family whose metadata says `contains_pii` under a policy whose commitments are
//!   `plaintext` (its queries and outputs would be stored and exported in the clear);
//! - a deployment of a pre-deployment whose SBOM records a failed security and compliance
//!   check (`compliance_status: failed`).
//!
//! Each gate is passed only with an explicit override, which is recorded as a sealed
//! [`PolicyOverride`] record (kind `policy-override`, id `RULE/SUBJECT`) next to what it
//! allowed, in the same transaction, so the store keeps who was allowed what and why.

use lcm_crypto::CommitmentScheme;
use lcm_model::records::{ComplianceStatus, DatasetFamilyAnchor, DeploymentAnchor, Sbom};
use lcm_model::{Policy, Record, Timestamp, canonical};
use serde::{Deserialize, Serialize};

use super::{SBOM, Staged};
use crate::{Store, StoredEvidence, StoredRecord};

/// The rule an override lifts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Gate {
    /// A dataset with personal data under plaintext commitments.
    PlaintextPii,
    /// A deployment whose pre-deployment's security and compliance check failed.
    FailedSecurityScan,
}

impl Gate {
    /// The rule's name, as in a record id and on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            Self::PlaintextPii => "plaintext-pii",
            Self::FailedSecurityScan => "failed-security-scan",
        }
    }
}

/// A recorded decision to pass a policy gate, with its reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyOverride {
    /// The rule lifted.
    pub rule: Gate,
    /// What it was lifted for: the dataset family id, or the deployment id.
    pub subject: String,
    /// Why, in the words of whoever lifted it.
    pub reason: String,
    /// When.
    pub recorded_at: Timestamp,
}

impl Record for PolicyOverride {
    const KIND: &'static str = "policy-override";
}

/// A lifecycle recorded as synthetic demonstration data (`lcm demo`): every header and
/// bundle exported of it carries [`SyntheticMarker::note`] in its signed
/// `synthetic` field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyntheticMarker {
    /// The deployment whose lifecycle it is.
    pub deployment_id: String,
    /// What the headers say.
    pub note: String,
}

impl Record for SyntheticMarker {
    const KIND: &'static str = "synthetic-lifecycle";
}

/// The marker of `deployment`'s lifecycle, as a record to store.
///
/// # Errors
///
/// Encoding failures.
pub fn synthetic_marker(
    policy: &Policy,
    deployment: &str,
    note: &str,
) -> Result<StoredRecord, crate::Error> {
    let record = SyntheticMarker {
        deployment_id: deployment.to_owned(),
        note: note.to_owned(),
    };
    Ok(StoredRecord {
        kind: SyntheticMarker::KIND.to_owned(),
        id: deployment.to_owned(),
        digest: record.digest(policy)?,
        json: canonical::to_string(&record)?,
    })
}

/// The note of `deployment`'s lifecycle if it is synthetic.
///
/// # Errors
///
/// Read and parse failures.
pub fn synthetic_note(store: &dyn Store, deployment: &str) -> Result<Option<String>, crate::Error> {
    store
        .record(SyntheticMarker::KIND, deployment)?
        .map(|r| Ok(serde_json::from_str::<SyntheticMarker>(&r.json)?.note))
        .transpose()
}

/// The reasons given for lifting gates (none by default: every gate holds).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// Why a dataset with personal data may be recorded under plaintext commitments.
    pub plaintext_pii: Option<String>,
    /// Why a deployment may carry out a pre-deployment whose security scan failed.
    pub failed_security_scan: Option<String>,
}

fn refused(stage: &'static str, message: String) -> crate::Error {
    crate::Error::Stage { stage, message }
}

/// Applies the gates to what a stage made: refuses what a gate holds unless `overrides`
/// gives a reason, and adds a sealed [`PolicyOverride`] for each gate so passed.
///
/// # Errors
///
/// [`crate::Error::Stage`] naming the field and the override that would pass it; read and
/// parse failures.
pub fn apply(
    store: &dyn Store,
    policy: &Policy,
    overrides: &Overrides,
    staged: &mut Staged,
) -> Result<(), crate::Error> {
    let mut added = Vec::new();
    for r in &staged.records {
        if r.kind == DatasetFamilyAnchor::KIND && policy.commitments == CommitmentScheme::Plaintext
        {
            let family: DatasetFamilyAnchor = serde_json::from_str(&r.json)?;
            if family.metadata.contains_pii {
                let Some(reason) = &overrides.plaintext_pii else {
                    return Err(refused(
                        "dataset",
                        format!(
                            "field metadata.contains_pii: dataset family {} contains personal \
                             data and the store's policy commits in plaintext (queries and \
                             outputs would be stored in the clear); use a salted policy, or \
                             pass --allow-plaintext-pii REASON to record why",
                            r.id
                        ),
                    ));
                };
                added.push(sealed_override(policy, Gate::PlaintextPii, &r.id, reason)?);
            }
        }
        if r.kind == DeploymentAnchor::KIND {
            let dep: DeploymentAnchor = serde_json::from_str(&r.json)?;
            let sbom = sbom_of(store, &staged.evidence, &dep.predeployment_id)?;
            if sbom.is_some_and(|s| s.compliance_status == ComplianceStatus::Failed) {
                let Some(reason) = &overrides.failed_security_scan else {
                    return Err(refused(
                        "deployment",
                        format!(
                            "field sbom.compliance_status: pre-deployment {} records a failed \
                             security and compliance check, so deployment {} is refused; pass \
                             --allow-failed-security-scan REASON to record why it proceeds",
                            dep.predeployment_id, r.id
                        ),
                    ));
                };
                added.push(sealed_override(
                    policy,
                    Gate::FailedSecurityScan,
                    &r.id,
                    reason,
                )?);
            }
        }
    }
    staged.records.extend(added);
    Ok(())
}

/// The SBOM of a pre-deployment: made by the same stage, or stored.
fn sbom_of(
    store: &dyn Store,
    staged: &[StoredEvidence],
    predeployment: &str,
) -> Result<Option<Sbom>, crate::Error> {
    let json = match staged
        .iter()
        .find(|e| e.kind == SBOM && e.id == predeployment)
    {
        Some(e) => Some(e.json.clone()),
        None => store.evidence_of(SBOM, predeployment)?.map(|e| e.json),
    };
    // The pre-deployment anchor binds the SBOM's digest; `lcm check` compares them.
    Ok(json.map(|j| serde_json::from_str(&j)).transpose()?)
}

fn sealed_override(
    policy: &Policy,
    rule: Gate,
    subject: &str,
    reason: &str,
) -> Result<StoredRecord, crate::Error> {
    lcm_model::strict::check_id("reason", reason)
        .map_err(|e| refused("override", e.to_string()))?;
    let record = PolicyOverride {
        rule,
        subject: subject.to_owned(),
        reason: reason.to_owned(),
        recorded_at: Timestamp::now(),
    };
    Ok(StoredRecord {
        kind: PolicyOverride::KIND.to_owned(),
        id: format!("{}/{subject}", rule.name()),
        digest: record.digest(policy)?,
        json: canonical::to_string(&record)?,
    })
}
