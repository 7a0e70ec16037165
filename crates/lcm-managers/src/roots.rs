//! [`RootManager`]: test evaluation anchors and the three kinds of root — training session,
//! release and inference batch (the seed's `LCMRootManager`).
//!
//! Every root is an RFC 9162 Merkle root over full 32-byte digests (each digest one leaf) under
//! the policy's hash algorithm.
//!
//! # Examples
//!
//! ```
//! use std::collections::BTreeMap;
//!
//! use lcm_crypto::Digest;
//! use lcm_managers::{Context, RootManager};
//!
//! let mut roots = RootManager::new(Context::default());
//! let test_dataset = Digest::from_bytes([4; 32]); // the test split anchor's digest
//! let test = roots.create_test_evaluation_anchor(
//!     "test_001",
//!     &test_dataset,
//!     "pre_deploy",
//!     &BTreeMap::from([("accuracy".to_owned(), 0.885), ("f1_score".to_owned(), 0.885)]),
//! )?;
//! test.record().verify_metrics_digest(roots.policy())?;
//!
//! let batch = roots.compute_inference_batch_root("batch_001", &[Digest::from_bytes([5; 32])])?;
//! assert_eq!(batch.record().size, 1);
//! assert!(roots.compute_inference_batch_root("batch_002", &[]).is_err());
//! # Ok::<(), lcm_managers::Error>(())
//! ```

use std::collections::BTreeMap;

use lcm_crypto::Digest;
use lcm_model::records::deployment::{DeploymentAnchor, PreDeploymentAnchor};
use lcm_model::records::roots::{InferenceBatchRoot, ReleaseRoot, TestEvaluationAnchor};
use lcm_model::records::training::TrainingSnapshot;
use lcm_model::{Claimed, Finite, Policy, Seal, Sealed, verify};

use crate::deployment::non_empty;
use crate::restore::{adopt, check_seal, fresh_id, new_id, same_digest};
use crate::{Context, Error};

const TEST_EVALUATION: &str = "test evaluation anchor";
const BATCH_ROOT: &str = "inference batch root";
const RELEASE: &str = "release root";

/// Creates test evaluation anchors and computes roots; keeps both (the seed's
/// `test_evaluations` and `computed_roots`).
#[derive(Debug, Clone, Default)]
pub struct RootManager {
    ctx: Context,
    test_evaluations: BTreeMap<String, Sealed<TestEvaluationAnchor>>,
    release_roots: BTreeMap<String, Sealed<ReleaseRoot>>,
    batch_roots: BTreeMap<String, Sealed<InferenceBatchRoot>>,
}

impl RootManager {
    /// A manager working under `ctx`.
    pub fn new(ctx: Context) -> Self {
        Self {
            ctx,
            test_evaluations: BTreeMap::new(),
            release_roots: BTreeMap::new(),
            batch_roots: BTreeMap::new(),
        }
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        self.ctx.policy()
    }

    /// Records the evaluation of a model on a test dataset (the seed's
    /// `create_test_evaluation_anchor`; `test_dataset` is its `test_dataset_ref`, by full
    /// digest). The metrics digest is computed here, from the metrics; no digest is accepted
    /// from the caller.
    ///
    /// # Errors
    ///
    /// [`Error::Empty`] for an empty id, evaluation type or metric name;
    /// [`lcm_model::Error::DuplicateId`]; [`lcm_model::Error::NonFiniteMetric`] naming the metric for a NaN or
    /// infinite value.
    pub fn create_test_evaluation_anchor(
        &mut self,
        test_id: &str,
        test_dataset: &Digest,
        evaluation_type: &str,
        metrics: &BTreeMap<String, f64>,
    ) -> Result<Sealed<TestEvaluationAnchor>, Error> {
        new_id(TEST_EVALUATION, "test_id", test_id, &self.test_evaluations)?;
        non_empty(TEST_EVALUATION, test_id, "evaluation_type", evaluation_type)?;
        let mut finite = BTreeMap::new();
        for (name, &value) in metrics {
            non_empty(TEST_EVALUATION, test_id, "metrics", name)?;
            let v = Finite::new(value).map_err(|_| {
                Error::Model(lcm_model::Error::NonFiniteMetric {
                    kind: TEST_EVALUATION,
                    id: test_id.to_owned(),
                    metric: name.clone(),
                    value: value.to_string(),
                })
            })?;
            finite.insert(name.clone(), v);
        }
        let policy = self.ctx.policy();
        let metrics_digest = TestEvaluationAnchor::compute_metrics_digest(
            test_dataset,
            evaluation_type,
            &finite,
            policy,
        )?;
        let anchor = TestEvaluationAnchor {
            test_id: test_id.to_owned(),
            test_dataset: *test_dataset,
            evaluation_type: evaluation_type.to_owned(),
            metrics: finite,
            metrics_digest,
            created_at: self.ctx.now(),
        };
        let sealed = Sealed::seal(anchor, policy)?;
        self.test_evaluations
            .insert(test_id.to_owned(), sealed.clone());
        Ok(sealed)
    }

    /// Adopts a test evaluation anchor made earlier (for example by another process and read
    /// back from storage), so that [`Self::test_evaluation`] returns it.
    ///
    /// Nothing given is trusted. Recomputed: the seal under this manager's policy, the metrics
    /// digest from the dataset, evaluation type and metrics, and the create path's checks
    /// (non-empty id, evaluation type and metric names). This does not panic.
    ///
    /// # Errors
    ///
    /// [`Error::Empty`] for an empty id, evaluation type or metric name;
    /// [`lcm_model::Error::DuplicateId`] for an id already held; [`lcm_model::Error::SealMismatch`] for a seal or
    /// metrics digest that does not match the record.
    pub fn restore_test_evaluation(
        &mut self,
        anchor: Claimed<TestEvaluationAnchor>,
    ) -> Result<(), Error> {
        let a = &anchor.record();
        let id = a.test_id.as_str();
        let taken = self.test_evaluations.contains_key(id);
        let anchor = adopt(&self.ctx, TEST_EVALUATION, "test_id", id, taken, &anchor)?;
        non_empty(TEST_EVALUATION, id, "evaluation_type", &a.evaluation_type)?;
        if a.metrics.keys().any(String::is_empty) {
            return Err(Error::Empty {
                kind: TEST_EVALUATION,
                id: id.to_owned(),
                field: "metrics",
            });
        }
        let recomputed = TestEvaluationAnchor::compute_metrics_digest(
            &a.test_dataset,
            &a.evaluation_type,
            &a.metrics,
            self.ctx.policy(),
        )?;
        same_digest(
            "test evaluation anchor metrics_digest",
            id,
            a.metrics_digest,
            recomputed,
        )?;
        self.test_evaluations.insert(id.to_owned(), anchor);
        Ok(())
    }

    /// Adopts the release root of `deployment` made earlier, so that [`Self::release_root`]
    /// returns it under the deployment's id. The release root record names its deployment by
    /// digest only, so the deployment anchor is given too (it keys the root). Its test
    /// evaluation must have been made here or restored first
    /// ([`Self::restore_test_evaluation`]).
    ///
    /// Nothing given is trusted. Recomputed: the seals of both records under this manager's
    /// policy, that the root's `deployment` leaf is the deployment anchor's digest and its
    /// `predeployment` leaf the pre-deployment digest the anchor binds, the root over its
    /// four leaves ([`verify::verify_release_root`]), and that its `test_evaluation` leaf is
    /// the digest of a test evaluation held. The training session root leaf is not resolved
    /// here (this manager holds no training sessions). This does not panic.
    ///
    /// # Errors
    ///
    /// [`lcm_model::Error::DuplicateId`] for a deployment whose release root is already held;
    /// [`lcm_model::Error::SealMismatch`] for a seal that does not match its record; [`lcm_model::Error::UnexpectedValue`]
    /// naming `deployment` for a root of another deployment or `predeployment` for a root of
    /// another pre-deployment than the deployment carries out; [`Error::Model`] with
    /// [`lcm_model::Error::RootMismatch`] for a root that its leaves do not reproduce;
    /// [`Error::UnknownReference`] naming `test_evaluation` for a test evaluation not held.
    pub fn restore_release_root(
        &mut self,
        deployment: &Claimed<DeploymentAnchor>,
        root: Claimed<ReleaseRoot>,
    ) -> Result<(), Error> {
        let id = deployment.record().deployment_id.as_str();
        fresh_id(RELEASE, id, self.release_roots.contains_key(id))?;
        check_seal(&self.ctx, "deployment anchor", id, deployment)?;
        let root = check_seal(&self.ctx, RELEASE, id, &root)?;
        if root.record().deployment != deployment.digest() {
            return Err(Error::unexpected(
                RELEASE,
                id.to_owned(),
                "deployment",
                deployment.digest().to_string(),
                root.record().deployment.to_string(),
            ));
        }
        // The create path releases the pre-deployment the deployment carries out
        // (`verify::compute_release_root`); the anchor binds it, so a root naming another is
        // refused here too.
        if root.record().predeployment != deployment.record().predeployment {
            return Err(Error::unexpected(
                RELEASE,
                id.to_owned(),
                "predeployment",
                deployment.record().predeployment.to_string(),
                root.record().predeployment.to_string(),
            ));
        }
        verify::verify_release_root(self.ctx.policy(), root.record())?;
        // The create path releases a sealed test evaluation; a root naming none held is not
        // one it made.
        let test = root.record().test_evaluation;
        if !self.test_evaluations.values().any(|t| t.digest() == test) {
            return Err(Error::unknown_reference(
                RELEASE,
                id,
                "test_evaluation",
                test.to_string(),
            ));
        }
        self.release_roots.insert(id.to_owned(), root);
        Ok(())
    }

    /// The test evaluation anchor with this id.
    pub fn test_evaluation(&self, test_id: &str) -> Option<&Sealed<TestEvaluationAnchor>> {
        self.test_evaluations.get(test_id)
    }

    /// The root of a completed training session (the seed's
    /// `compute_training_session_root`), from its snapshot: see
    /// [`lcm_model::verify::compute_training_session_root`], which this delegates to.
    ///
    /// # Errors
    ///
    /// [`Error::Model`] as [`lcm_model::verify::compute_training_session_root`] (a snapshot
    /// whose seal does not verify).
    pub fn compute_training_session_root(
        &self,
        snapshot: &Sealed<TrainingSnapshot>,
    ) -> Result<Digest, Error> {
        Ok(verify::compute_training_session_root(
            self.ctx.policy(),
            snapshot,
        ))
    }

    /// The root of a release (the seed's `compute_release_root`): the RFC 9162 root over the
    /// training session root and the full digests of the pre-deployment, deployment and test
    /// evaluation anchors, in that order.
    ///
    /// Every anchor's digest is recomputed (they may be sealed or claimed), the test
    /// evaluation's metrics digest is recomputed, and the deployment must carry out this pre-deployment: the computation is
    /// [`lcm_model::verify::compute_release_root`]; this seals and keeps the result.
    ///
    /// # Errors
    ///
    /// [`Error::Model`] as [`lcm_model::verify::compute_release_root`]: `SealMismatch` for an
    /// anchor whose digest does not match its content, `DigestMismatch` for a test evaluation
    /// whose metrics digest does not match, `UnexpectedValue` when the deployment references
    /// another pre-deployment.
    pub fn compute_release_root<P, D, T>(
        &mut self,
        training_session_root: &Digest,
        predeployment: &P,
        deployment: &D,
        test_evaluation: &T,
    ) -> Result<Sealed<ReleaseRoot>, Error>
    where
        P: Seal<Record = PreDeploymentAnchor>,
        D: Seal<Record = DeploymentAnchor>,
        T: Seal<Record = TestEvaluationAnchor>,
    {
        let policy = self.ctx.policy();
        let release = verify::compute_release_root(
            policy,
            training_session_root,
            predeployment,
            deployment,
            test_evaluation,
        )?;
        let sealed = Sealed::seal(release, policy)?;
        self.release_roots
            .insert(deployment.record().deployment_id.clone(), sealed.clone());
        Ok(sealed)
    }

    /// The root of a window of inference receipts (the seed's
    /// `compute_inference_batch_root`): the RFC 9162 root over the receipt digests, in order
    /// (see [`lcm_model::verify::compute_inference_batch_root`]).
    ///
    /// # Errors
    ///
    /// [`Error::Empty`] for an empty window id; [`Error::Model`] with
    /// [`lcm_model::Error::EmptyCollection`] for no digests (an empty batch is an error, not a
    /// sentinel).
    pub fn compute_inference_batch_root(
        &mut self,
        window_id: &str,
        receipt_digests: &[Digest],
    ) -> Result<Sealed<InferenceBatchRoot>, Error> {
        non_empty(BATCH_ROOT, window_id, "window_id", window_id)?;
        let root =
            verify::compute_inference_batch_root(self.ctx.policy(), window_id, receipt_digests)?;
        let sealed = Sealed::seal(root, self.ctx.policy())?;
        self.batch_roots
            .insert(window_id.to_owned(), sealed.clone());
        Ok(sealed)
    }

    /// The release root computed for this deployment id.
    pub fn release_root(&self, deployment_id: &str) -> Option<&Sealed<ReleaseRoot>> {
        self.release_roots.get(deployment_id)
    }

    /// The inference batch root computed for this window.
    pub fn inference_batch_root(&self, window_id: &str) -> Option<&Sealed<InferenceBatchRoot>> {
        self.batch_roots.get(window_id)
    }
}

#[cfg(test)]
mod tests;
