//! Roots: the release root over a training session root and three anchors, and the root of a
//! window of inference receipt digests.

use lcm_crypto::Digest;
use lcm_crypto::merkle::MerkleTree;

use super::check_seal;
use crate::records::{
    DeploymentAnchor, InferenceBatchRoot, PreDeploymentAnchor, ReleaseRoot, TestEvaluationAnchor,
};
use crate::{Error, Policy, Seal};

/// The kind names used in error messages.
const TEST_EVALUATION: &str = "test evaluation anchor";
const RELEASE: &str = "release root";
const BATCH_ROOT: &str = "inference batch root";

/// The RFC 9162 root over full digests, each leaf being the 32 digest bytes.
fn merkle_root(policy: &Policy, leaves: &[Digest]) -> Digest {
    MerkleTree::from_leaves_with(policy.hash_algorithm, leaves.iter().map(|d| d.to_bytes())).root()
}

/// The release root (the seed's `compute_release_root`): the RFC 9162 root over the training
/// session root and the full digests of the pre-deployment, deployment and test evaluation
/// anchors, in that order ([`ReleaseRoot::leaves`]).
///
/// Every anchor's digest is recomputed (they may be sealed or claimed), the test evaluation's metrics digest is recomputed,
/// and the deployment must carry out this pre-deployment.
///
/// This does not panic.
///
/// # Errors
///
/// [`Error::SealMismatch`] for an anchor whose digest does not match its content;
/// [`Error::DigestMismatch`] for a test evaluation whose metrics digest does not match;
/// [`Error::UnexpectedValue`] naming `predeployment` when the deployment references another
/// pre-deployment.
pub fn compute_release_root<P, D, T>(
    policy: &Policy,
    training_session_root: &Digest,
    predeployment: &P,
    deployment: &D,
    test_evaluation: &T,
) -> Result<ReleaseRoot, Error>
where
    P: Seal<Record = PreDeploymentAnchor>,
    D: Seal<Record = DeploymentAnchor>,
    T: Seal<Record = TestEvaluationAnchor>,
{
    let pre_id = &predeployment.record().predeployment_id;
    let dep_id = &deployment.record().deployment_id;
    check_seal(policy, "predeployment anchor", pre_id, predeployment)?;
    check_seal(policy, "deployment anchor", dep_id, deployment)?;
    check_seal(
        policy,
        TEST_EVALUATION,
        &test_evaluation.record().test_id,
        test_evaluation,
    )?;
    test_evaluation.record().verify_metrics_digest(policy)?;
    if deployment.record().predeployment != predeployment.digest() {
        return Err(Error::UnexpectedValue {
            kind: RELEASE,
            id: dep_id.clone(),
            field: "predeployment",
            expected: format!("{} (predeployment {pre_id:?})", predeployment.digest()),
            actual: deployment.record().predeployment.to_string(),
        });
    }
    let mut release = ReleaseRoot {
        training_session_root: *training_session_root,
        predeployment: predeployment.digest(),
        deployment: deployment.digest(),
        test_evaluation: test_evaluation.digest(),
        root: Digest::from_bytes([0; 32]),
    };
    release.root = merkle_root(policy, &release.leaves());
    Ok(release)
}

/// Recomputes a release root from its four leaves.
///
/// This does not panic.
///
/// # Errors
///
/// [`Error::RootMismatch`] (`release root`) when the stored root is not the root
/// of the stored leaves.
pub fn verify_release_root(policy: &Policy, release: &ReleaseRoot) -> Result<(), Error> {
    let recomputed = merkle_root(policy, &release.leaves());
    if recomputed == release.root {
        Ok(())
    } else {
        Err(Error::RootMismatch {
            root: "release root",
            id: release.deployment.short(),
            stored: release.root,
            recomputed,
        })
    }
}

/// The root of a window of inference receipts (the seed's `compute_inference_batch_root`):
/// the RFC 9162 root, under the policy's hash algorithm, over the receipt digests in order,
/// with their number.
///
/// This does not panic.
///
/// # Errors
///
/// [`Error::EmptyCollection`] for no digests (an empty batch is an error, not a sentinel).
pub fn compute_inference_batch_root(
    policy: &Policy,
    window_id: &str,
    receipt_digests: &[Digest],
) -> Result<InferenceBatchRoot, Error> {
    if receipt_digests.is_empty() {
        return Err(Error::EmptyCollection {
            kind: BATCH_ROOT,
            id: window_id.to_owned(),
            field: "receipt_digests",
        });
    }
    let tree = MerkleTree::from_leaves_with(
        policy.hash_algorithm,
        receipt_digests.iter().map(|d| d.to_bytes()),
    );
    Ok(InferenceBatchRoot {
        window_id: window_id.to_owned(),
        size: tree.len(),
        root: tree.root(),
    })
}

#[cfg(test)]
mod tests;
