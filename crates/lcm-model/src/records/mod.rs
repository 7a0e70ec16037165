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
