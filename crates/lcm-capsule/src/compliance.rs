//! Policy compliance: requirements a deployer states, checked against a signed header (and,
//! by the bundle verifier, against every record).

use std::fmt::Display;

use lcm_crypto::{CommitmentScheme, HashAlgorithm, KeyId};

use crate::CapsuleHeader;
use crate::header::key_id_check;
use crate::report::{CheckError, Report, Stage, VerificationFailed};

/// What a deployer requires of a lifecycle (the seed's `validate_lcm_policy` requirements).
///
/// Every field is optional; [`PolicyRequirements::default`] requires nothing.
///
/// # Examples
///
/// ```
/// use lcm_capsule::PolicyRequirements;
/// use lcm_crypto::HashAlgorithm;
///
/// let req = PolicyRequirements {
///     hash_algorithm: Some(HashAlgorithm::Sha256),
///     no_plaintext_with_pii: true,
///     min_kdf_iterations: Some(600_000),
///     required_frameworks: vec!["HIPAA".into()],
///     ..PolicyRequirements::default()
/// };
/// assert!(req.signing_key.is_none());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyRequirements {
    /// The hash algorithm every digest must use.
    pub hash_algorithm: Option<HashAlgorithm>,
    /// When the dataset contains personal data, no commitment may be plaintext (neither the
    /// policy's scheme nor, in a bundle, any receipt's).
    pub no_plaintext_with_pii: bool,
    /// The commitment scheme the policy must declare (`lcm verify --require-commitments`).
    pub commitments: Option<CommitmentScheme>,
    /// The lowest acceptable PBKDF2 cost, for the policy and every anchor.
    pub min_kdf_iterations: Option<u32>,
    /// Compliance frameworks the dataset must declare (for example `"HIPAA"`).
    pub required_frameworks: Vec<String>,
    /// The one key allowed to sign the header.
    pub signing_key: Option<KeyId>,
}

/// The commitment scheme a requirement names: `salted`, `hmac` or `plaintext` (as
/// `lcm verify --require-commitments` takes it), or a wire name (`HMAC-SHA256`).
///
/// # Examples
///
/// ```
/// use lcm_capsule::required_scheme;
/// use lcm_crypto::CommitmentScheme;
///
/// assert_eq!(required_scheme("hmac"), Some(CommitmentScheme::Hmac));
/// assert_eq!(required_scheme("HMAC-SHA256"), Some(CommitmentScheme::Hmac));
/// assert_eq!(required_scheme("sha256"), None);
/// ```
#[must_use]
pub fn required_scheme(name: &str) -> Option<CommitmentScheme> {
    match name {
        "hmac" => Some(CommitmentScheme::Hmac),
        other => other.parse().ok(),
    }
}

/// Checks a header against `requirements` (the seed's `validate_lcm_policy`): one check per
/// stated requirement, each naming the header field it is about.
///
/// The header's signature is not checked here (see [`crate::verify_header`]); a pinned
/// signing key is compared with the key id the header names.
///
/// This does not panic.
///
/// # Errors
///
/// [`VerificationFailed`] with the report when a requirement is not met.
pub fn validate_lcm_policy(
    header: &CapsuleHeader,
    requirements: &PolicyRequirements,
) -> Result<Report, VerificationFailed> {
    Report::collect(|report| policy_checks(report, header, requirements, ""))
}

/// One header check that the policy's field `requirement` has the `required` value.
fn equal<T: PartialEq + Display>(
    report: &mut Report,
    prefix: &str,
    name: &'static str,
    requirement: &'static str,
    required: T,
    actual: T,
) {
    report.push(
        name,
        Stage::Header,
        "policy requirements",
        format!("{prefix}/policy/{requirement}"),
        if required == actual {
            Ok(())
        } else {
            Err(CheckError::Policy {
                requirement,
                expected: required.to_string(),
                actual: actual.to_string(),
            })
        },
    );
}

pub(crate) fn policy_checks(
    report: &mut Report,
    header: &CapsuleHeader,
    req: &PolicyRequirements,
    prefix: &str,
) {
    let label = "policy requirements";
    let policy = &header.policy;
    if let Some(alg) = req.hash_algorithm {
        let name = "required hash algorithm";
        equal(
            report,
            prefix,
            name,
            "hash_algorithm",
            alg,
            policy.hash_algorithm,
        );
    }
    if let Some(scheme) = req.commitments {
        let name = "required commitment scheme";
        equal(
            report,
            prefix,
            name,
            "commitments",
            scheme,
            policy.commitments,
        );
    }
    if req.no_plaintext_with_pii {
        let pii = header
            .stage_a_dataset
            .as_ref()
            .is_some_and(|a| a.contains_pii);
        report.push(
            "no plaintext commitments with personal data",
            Stage::Header,
            label,
            format!("{prefix}/policy/commitments"),
            if pii && policy.commitments == CommitmentScheme::Plaintext {
                Err(CheckError::Policy {
                    requirement: "no_plaintext_with_pii",
                    expected: "hmac or salted commitments for a dataset with personal data"
                        .to_owned(),
                    actual: policy.commitments.to_string(),
                })
            } else {
                Ok(())
            },
        );
    }
    if let Some(min) = req.min_kdf_iterations {
        let mut costs = vec![(
            Stage::Header,
            format!("{prefix}/policy/kdf_iterations"),
            policy.kdf_iterations,
        )];
        if let Some(a) = &header.stage_a_dataset {
            costs.push((
                Stage::Dataset,
                format!("{prefix}/stage_a_dataset/kdf_iterations"),
                a.kdf_iterations,
            ));
        }
        if let Some(b) = &header.stage_b_model {
            costs.push((
                Stage::Model,
                format!("{prefix}/stage_b_model/kdf_iterations"),
                b.kdf_iterations,
            ));
        }
        for (stage, field, cost) in costs {
            report.push(
                "minimum kdf cost",
                stage,
                label,
                field,
                if cost >= min {
                    Ok(())
                } else {
                    Err(CheckError::Policy {
                        requirement: "min_kdf_iterations",
                        expected: format!("at least {min}"),
                        actual: cost.to_string(),
                    })
                },
            );
        }
    }
    for framework in &req.required_frameworks {
        let declared = header
            .stage_a_dataset
            .as_ref()
            .map(|a| a.compliance_frameworks.as_slice())
            .unwrap_or_default();
        report.push(
            "required compliance framework",
            Stage::Dataset,
            label,
            format!("{prefix}/stage_a_dataset/compliance_frameworks"),
            if declared.contains(framework) {
                Ok(())
            } else {
                Err(CheckError::Policy {
                    requirement: "required_frameworks",
                    expected: framework.clone(),
                    actual: format!("{declared:?}"),
                })
            },
        );
    }
    if let Some(pinned) = req.signing_key {
        key_id_check(report, "pinned signing key", label, header, pinned, prefix);
    }
}
