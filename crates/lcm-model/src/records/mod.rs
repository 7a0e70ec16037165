//! The record types of the lifecycle, one module per stage.

pub mod dataset;
pub mod deployment;
pub mod inference;
pub mod model;
pub mod roots;
pub mod training;

pub use self::dataset::{
    DatasetFamilyAnchor, DatasetFamilyMetadata, DatasetSplit, DatasetSplitAnchor, SplitInfo,
};
pub use self::deployment::{
    BuildArtifact, ComplianceStatus, DeploymentAnchor, DeploymentStatus, DeploymentStatusEvent,
    PreDeploymentAnchor, Sbom,
};
pub use self::inference::{InferenceBatch, InferenceCommitment, InferenceReceipt, ReceiptEncoder};
pub use self::model::{
    ModelAnchor, ModelArchitecture, ModelDescription, ParameterFingerprint, Tensor, TensorChange,
    TrainingEnvironment, hyperparameters_digest,
};
pub use self::roots::{InferenceBatchRoot, ReleaseRoot, TestEvaluationAnchor};
pub use self::training::{
    TrainingCheckpoint, TrainingMetrics, TrainingSession, TrainingSnapshot, training_config_digest,
};

/// [`Error::EmptyField`] naming `field` of the `record` kind when `value` is empty.
pub(crate) fn non_empty(
    record: &'static str,
    field: &'static str,
    value: &str,
) -> Result<(), crate::Error> {
    if value.is_empty() {
        Err(crate::Error::EmptyField { record, field })
    } else {
        Ok(())
    }
}
