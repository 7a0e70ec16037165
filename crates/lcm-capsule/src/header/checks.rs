//! The checks of a header on its own: version, policy, digest, key and signature, and
//! [`verify_header`], which runs them.

use super::*;

/// The header's version and policy checks, with pointers under `prefix` (`""` for a header
/// alone, `"/header"` inside a bundle). Returns whether the policy is usable.
pub(crate) fn version_and_policy_checks(
    report: &mut Report,
    header: &CapsuleHeader,
    prefix: &str,
) -> bool {
    let label = "capsule header";
    report.push(
        "header version",
        Stage::Header,
        label,
        format!("{prefix}/capsule_version"),
        version_check(CAPSULE_VERSION, &header.capsule_version),
    );
    match header.policy.validate() {
        Ok(()) => report.push(
            "policy usable",
            Stage::Header,
            label,
            format!("{prefix}/policy"),
            Ok(()),
        ),
        Err(lcm_model::Error::Policy {
            field,
            expected,
            actual,
        }) => report.push(
            "policy usable",
            Stage::Header,
            label,
            format!("{prefix}/policy/{field}"),
            Err(CheckError::Policy {
                requirement: field,
                expected,
                actual,
            }),
        ),
        Err(e) => report.push(
            "policy usable",
            Stage::Header,
            label,
            format!("{prefix}/policy"),
            Err(CheckError::Record(e.to_string())),
        ),
    }
}

/// The policy digest and key id checks.
pub(crate) fn digest_and_key_checks(
    report: &mut Report,
    header: &CapsuleHeader,
    key: &VerifyingKey,
    prefix: &str,
) {
    let label = "capsule header";
    let outcome = recomputed(header.policy.digest(), |d| {
        mismatch(d, header.policy_digest)
    });
    report.push(
        "policy digest",
        Stage::Header,
        label,
        format!("{prefix}/policy_digest"),
        outcome,
    );
    key_id_check(report, "signing key", label, header, key.key_id(), prefix);
}

/// The check `name` that the header's signature names the key `expected` (the verifier's key,
/// or one a deployer pinned).
pub(crate) fn key_id_check(
    report: &mut Report,
    name: &'static str,
    label: &str,
    header: &CapsuleHeader,
    expected: KeyId,
    prefix: &str,
) {
    report.push(
        name,
        Stage::Header,
        label,
        format!("{prefix}/signature/key_id"),
        agree(expected, header.signature.key_id, |expected, actual| {
            CheckError::KeyMismatch { expected, actual }
        }),
    );
}

/// Every check of a header on its own, signature last.
pub(crate) fn header_checks(
    report: &mut Report,
    header: &CapsuleHeader,
    key: &VerifyingKey,
    prefix: &str,
) {
    // An unusable policy is reported; its digest and the key are still checked.
    version_and_policy_checks(report, header, prefix);
    digest_and_key_checks(report, header, key, prefix);
    signature_check(report, header, key, prefix);
}

pub(crate) fn signature_check(
    report: &mut Report,
    header: &CapsuleHeader,
    key: &VerifyingKey,
    prefix: &str,
) {
    let outcome = match header.signing_bytes() {
        Ok(msg) => {
            key.verify(&msg, &header.signature.signature)
                .map_err(|_| CheckError::Signature {
                    key_id: key.key_id(),
                })
        }
        Err(e) => Err(CheckError::Record(e.to_string())),
    };
    // The signature covers every header field: a failure here (with every other check
    // passing) means some header field or the signature itself was altered.
    let field = if prefix.is_empty() {
        String::new()
    } else {
        prefix.to_owned()
    };
    report.push(
        "header signature",
        Stage::Header,
        "capsule header",
        field,
        outcome,
    );
}

/// Verifies a header on its own: its version, that its policy is usable and matches the
/// policy digest, that it names `key`, and its Ed25519 signature under `key`.
///
/// This does not panic.
///
/// # Errors
///
/// [`VerificationFailed`] with the report when a check fails.
///
/// # Examples
///
/// ```
/// use lcm_capsule::{LifecycleRecords, create_capsule_header, verify_header};
/// use lcm_crypto::{Seed, SigningKey};
/// use lcm_model::{Policy, Timestamp};
///
/// let key = SigningKey::from_seed(&Seed::from_bytes([7; 32]));
/// let other = SigningKey::from_seed(&Seed::from_bytes([8; 32]));
/// let mut header = create_capsule_header(
///     &Policy::default(), &LifecycleRecords::default(), Timestamp::from_unix_micros(0), &key)?;
/// assert!(verify_header(&header, &key.verifying_key())?.is_ok());
/// assert!(verify_header(&header, &other.verifying_key()).is_err());
/// header.generated_at = Timestamp::from_unix_micros(1);
/// assert!(verify_header(&header, &key.verifying_key()).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn verify_header(
    header: &CapsuleHeader,
    key: &VerifyingKey,
) -> Result<Report, VerificationFailed> {
    Report::collect(|report| header_checks(report, header, key, ""))
}
