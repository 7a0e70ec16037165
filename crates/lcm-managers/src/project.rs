//! [`Project`]: the lifecycle managers of one project behind one value, sharing one
//! [`Context`]. The facade's `lcm::framework::Project` names one, and `lcm-store` rebuilds one
//! from a store to record a stage, check the store or export a release.

use lcm_crypto::Digest;
use lcm_model::records::TrainingSnapshot;
use lcm_model::{Policy, Sealed};

use crate::{
    Context, DatasetFamilyManager, DeploymentManager, Error, InferenceManager, ModelManager,
    RootManager, TrainingManager,
};

/// Every manager of a lifecycle, under one [`Context`].
///
/// The managers are public: record the lifecycle through them. Each checks what it records
/// against the managers it is given (a model against the dataset families, a session
/// against the model and splits, ...).
#[derive(Debug)]
pub struct Project {
    /// Dataset families and splits.
    pub datasets: DatasetFamilyManager,
    /// Model anchors.
    pub models: ModelManager,
    /// Training sessions.
    pub training: TrainingManager,
    /// Pre-deployments and deployments.
    pub deployments: DeploymentManager,
    /// Inference receipts and batches.
    pub inference: InferenceManager,
    /// Test evaluations and roots.
    pub roots: RootManager,
}

impl Project {
    /// Empty managers sharing `ctx`.
    ///
    /// # Errors
    ///
    /// [`Error`] when the randomness of the inference manager's commitments fails.
    pub fn new(ctx: Context) -> Result<Self, Error> {
        Ok(Self {
            datasets: DatasetFamilyManager::new(ctx.clone()),
            models: ModelManager::new(ctx.clone()),
            training: TrainingManager::new(ctx.clone()),
            deployments: DeploymentManager::new(ctx.clone()),
            inference: InferenceManager::new(ctx.clone())?,
            roots: RootManager::new(ctx),
        })
    }

    /// The policy the project records under.
    pub fn policy(&self) -> &Policy {
        self.roots.policy()
    }

    /// The snapshot with this digest, of whichever session completed with it.
    pub fn snapshot(&self, digest: &Digest) -> Option<&Sealed<TrainingSnapshot>> {
        self.training
            .session_ids()
            .filter_map(|s| self.training.training_session(s))
            .find_map(|run| run.snapshot().filter(|snap| snap.digest() == *digest))
    }
}
