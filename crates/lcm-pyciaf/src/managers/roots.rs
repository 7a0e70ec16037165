//! The reference's root manager (`LCMRootManager`, `TestEvaluationAnchor`).

use crate as rules;

use super::{
    DeploymentAnchor, Error, PreDeploymentAnchor, PyciafContext, TrainingSession, jfloat_map,
    upsert,
};
use super::{find_keyed, upsert_keyed};

/// A `TestEvaluationAnchor` made by `create_test_evaluation_anchor` (its digest computed, never
/// supplied).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TestEvaluationAnchor {
    /// `test_id`.
    pub test_id: String,
    /// `test_dataset_ref`.
    pub test_dataset_ref: String,
    /// `evaluation_type` (`"pre_deploy"`, `"post_deploy"` or `"benchmark"` by convention).
    pub evaluation_type: String,
    /// `metrics`, as Python floats, in insertion order.
    pub metrics: Vec<(String, f64)>,
    /// `test_metrics_digest`: `canonical_hash({"metrics", "test_dataset_ref",
    /// "evaluation_type"})`.
    pub test_metrics_digest: String,
    /// `timestamp` (not hashed).
    pub timestamp: String,
    /// `anchor_id`: `te_` + 8 hex + `...`.
    pub anchor_id: String,
}

/// The reference's `LCMRootManager`: test evaluations by id and the roots it computed.
#[derive(Debug)]
pub struct RootManager {
    ctx: PyciafContext,
    test_evaluations: Vec<TestEvaluationAnchor>,
    computed_roots: Vec<(String, String)>,
}

impl RootManager {
    /// A manager with nothing computed.
    pub fn new(ctx: PyciafContext) -> Self {
        Self {
            ctx,
            test_evaluations: Vec::new(),
            computed_roots: Vec::new(),
        }
    }

    fn remember(&mut self, key: String, root: &str) {
        upsert(
            &mut self.computed_roots,
            |(k, _)| *k == key,
            (key.clone(), root.to_owned()),
        );
    }

    /// `create_test_evaluation_anchor(test_id, test_dataset_ref, evaluation_type, metrics)`,
    /// stored by id (replacing one with the same id); `timestamp` from the clock. `NaN` and
    /// infinite metrics are hashed as the reference writes them (bare `NaN`, `Infinity`).
    ///
    /// # Errors
    ///
    /// A rule's error, which these values never cause.
    pub fn create_test_evaluation_anchor(
        &mut self,
        test_id: &str,
        test_dataset_ref: &str,
        evaluation_type: &str,
        metrics: &[(&str, f64)],
    ) -> Result<&TestEvaluationAnchor, Error> {
        let digest =
            rules::test_metrics_digest(&jfloat_map(metrics), test_dataset_ref, evaluation_type)?;
        let anchor = TestEvaluationAnchor {
            test_id: test_id.to_owned(),
            test_dataset_ref: test_dataset_ref.to_owned(),
            evaluation_type: evaluation_type.to_owned(),
            metrics: metrics.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect(),
            anchor_id: rules::display_id("te_", &digest),
            test_metrics_digest: digest,
            timestamp: self.ctx.now_isoformat(),
        };
        Ok(upsert_keyed(&mut self.test_evaluations, anchor))
    }

    /// `get_test_evaluation_anchor(test_id)`.
    pub fn get_test_evaluation_anchor(&self, test_id: &str) -> Option<&TestEvaluationAnchor> {
        find_keyed(&self.test_evaluations, test_id)
    }

    /// `compute_training_session_root(session)`, remembered as
    /// `training_session_{session_id}`.
    ///
    /// # Errors
    ///
    /// [`Error::NotCompleted`] before the session's `complete_training`, [`Error::Rule`] for
    /// a non-hex datasets root.
    pub fn compute_training_session_root(
        &mut self,
        session: &TrainingSession,
    ) -> Result<String, Error> {
        let root = session.get_training_session_root()?;
        self.remember(format!("training_session_{}", session.session_id), &root);
        Ok(root)
    }

    /// `compute_release_root(training_session_root, pre, dep, test)`: the reference's tree over
    /// `[training_session_root, predeployment_hash, deployment_hash, test_metrics_digest]`,
    /// remembered as `release_{predeployment_id}_{deployment_id}`.
    ///
    /// # Errors
    ///
    /// [`Error::Rule`] when the training session root is not hex.
    pub fn compute_release_root(
        &mut self,
        training_session_root: &str,
        predeployment: &PreDeploymentAnchor,
        deployment: &DeploymentAnchor,
        test_evaluation: &TestEvaluationAnchor,
    ) -> Result<String, Error> {
        let root = rules::release_root(
            training_session_root,
            &predeployment.predeployment_hash,
            &deployment.deployment_hash,
            &test_evaluation.test_metrics_digest,
        )?;
        self.remember(
            format!(
                "release_{}_{}",
                predeployment.predeployment_id, deployment.deployment_id
            ),
            &root,
        );
        Ok(root)
    }

    /// `compute_inference_batch_root(window_id, receipt_digests)`: `"empty_batch"` for none,
    /// else the reference's tree over them, remembered as `inference_batch_{window_id}`.
    ///
    /// # Errors
    ///
    /// [`Error::Rule`] when two or more digests are not hex.
    pub fn compute_inference_batch_root(
        &mut self,
        window_id: &str,
        receipt_digests: &[&str],
    ) -> Result<String, Error> {
        let root = rules::batch_root(receipt_digests)?;
        if !receipt_digests.is_empty() {
            self.remember(format!("inference_batch_{window_id}"), &root);
        }
        Ok(root)
    }

    /// A root computed earlier, by the reference's cache key (`training_session_{id}`,
    /// `release_{pre}_{dep}`, `inference_batch_{window}`).
    pub fn computed_root(&self, key: &str) -> Option<&str> {
        self.computed_roots
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, r)| r.as_str())
    }
}
