//! [`Project`]: one project's lifecycle managers behind one value, and the export of a
//! model's complete audit trail as a verifiable [`Bundle`].
//!
//! This is the seed's `CIAFFramework` integration:
//!
//! | seed (Python) | here |
//! |---|---|
//! | `CIAFFramework("MyProject")` | [`Project::new`] / [`Project::with_context`] |
//! | its dataset, model, training, deployment, inference and root managers | [`Project::managers`], an [`lcm_managers::Project`] (and the fields it derefs to) |
//! | `get_complete_audit_trail_with_lcm(model_name)` | [`Project::complete_audit_trail`], returning a signed [`Bundle`] |
//! | `simulate_ai_lifecycle()` (testing utility) | [`simulate_ai_lifecycle`] |
//!
//! The bundle's lifecycle is made by [`lcm_store::export::assemble`], the same assembler
//! `lcm export` uses on a store.
//!
//! A bundle is checked offline, with nothing but the document and the signer's public key,
//! by [`lcm_capsule::verify_bundle`], which does not need this module or the managers.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use lcm_capsule::Bundle;
use lcm_crypto::{Digest, Seed, SeededRandom, SigningKey};
use lcm_managers::{Context, InferenceRequest, ModelAnchorRequest, PreDeploymentRequest};
use lcm_model::records::{
    BuildArtifact, ComplianceStatus, DatasetFamilyMetadata, DatasetSplit, ModelArchitecture, Sbom,
    SplitInfo, TrainingEnvironment, TrainingMetrics,
};
use lcm_model::{FixedClock, Policy, Sealed, Timestamp};
use lcm_store::export::{assemble, project_inference};
use serde_json::{Map, Value, json};

/// What can go wrong when a project exports an audit trail.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A record the audit trail needs is not in the project.
    NotFound {
        /// What was looked for.
        what: &'static str,
        /// Its id or digest.
        id: String,
    },
    /// A lifecycle manager refused (boxed, as it is large).
    Managers(Box<lcm_managers::Error>),
    /// Building or signing the bundle failed.
    Capsule(lcm_capsule::Error),
    /// The assembler refused (boxed, as it is large).
    Store(Box<lcm_store::Error>),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFound { what, id } => write!(f, "{what} {id}: not found in the project"),
            Self::Managers(e) => e.fmt(f),
            Self::Capsule(e) => e.fmt(f),
            Self::Store(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::NotFound { .. } => None,
            Self::Managers(e) => e.source(),
            Self::Capsule(e) => e.source(),
            Self::Store(e) => e.source(),
        }
    }
}

impl From<lcm_managers::Error> for Error {
    fn from(e: lcm_managers::Error) -> Self {
        Self::Managers(Box::new(e))
    }
}

impl From<lcm_store::Error> for Error {
    fn from(e: lcm_store::Error) -> Self {
        match e {
            lcm_store::Error::Missing { kind, id } => Self::NotFound { what: kind, id },
            other => Self::Store(Box::new(other)),
        }
    }
}

impl From<lcm_capsule::Error> for Error {
    fn from(e: lcm_capsule::Error) -> Self {
        Self::Capsule(e)
    }
}

/// The fields of a JSON object literal (empty for anything else).
fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// Which release of a model to export: the seed names only the model; a project can hold
/// several versions, deployments and evaluations, so the release is named in full.
pub use lcm_store::export::AuditTrailRequest;

/// One project's lifecycle managers, sharing one [`Context`] (the seed's `CIAFFramework`):
/// a named [`lcm_managers::Project`].
///
/// The managers are public ([`Project::managers`], and through `Deref` as
/// `project.datasets`, `project.models`, ...): record the lifecycle through them, then
/// export it with [`Project::complete_audit_trail`].
#[derive(Debug)]
pub struct Project {
    name: String,
    /// The managers: datasets, models, training, deployments, inference and roots.
    pub managers: lcm_managers::Project,
}

impl Deref for Project {
    type Target = lcm_managers::Project;

    fn deref(&self) -> &Self::Target {
        &self.managers
    }
}

impl DerefMut for Project {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.managers
    }
}

impl Project {
    /// A project under the facade's process-wide default policy ([`crate::get_default_policy`],
    /// passed in explicitly), the system clock and OS randomness, as
    /// `CIAFFramework("MyProject")`.
    ///
    /// # Errors
    ///
    /// [`Error::Managers`] when the randomness fails (the default policy was validated when it
    /// was set).
    pub fn new(name: &str) -> Result<Self, Error> {
        Self::with_context(name, Context::with_policy(crate::get_default_policy())?)
    }

    /// A project whose managers share `ctx`.
    ///
    /// # Errors
    ///
    /// [`Error::Managers`] when the randomness fails.
    pub fn with_context(name: &str, ctx: Context) -> Result<Self, Error> {
        Ok(Self {
            name: name.to_owned(),
            managers: lcm_managers::Project::new(ctx)?,
        })
    }

    /// The project's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The policy the project records under.
    pub fn policy(&self) -> &Policy {
        self.managers.policy()
    }

    /// Exports the complete audit trail of one release of a model as a bundle with a header
    /// signed by `key` at `generated_at` (the seed's `get_complete_audit_trail_with_lcm`).
    ///
    /// The bundle holds the dataset family and all its splits (with their record ids), the model anchor, the session with its checkpoints, metrics and snapshot,
    /// the pre-deployment with its SBOM, the deployment with its status history, the test
    /// evaluation, every receipt of the inference chain grouped by batch, and the release
    /// root.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] naming the first record the project does not have (the
    /// assembler's words: `model`, `deployment`, `test evaluation`, `inference batch`, ...);
    /// [`Error::Capsule`] when signing fails.
    pub fn complete_audit_trail(
        &self,
        request: &AuditTrailRequest<'_>,
        key: &SigningKey,
        generated_at: Timestamp,
    ) -> Result<Bundle, Error> {
        let inference = project_inference(&self.managers, request.batch_windows)?;
        let lifecycle = assemble(&self.managers, request, inference)?;
        Ok(Bundle::new(self.policy(), lifecycle, generated_at, key)?)
    }
}

/// The result of [`simulate_ai_lifecycle`]: the project, the signing key and the exported
/// bundle.
#[derive(Debug)]
pub struct Simulation {
    /// The project with every record.
    pub project: Project,
    /// The key that signed the header.
    pub key: SigningKey,
    /// The complete audit trail.
    pub bundle: Bundle,
}

/// Runs a complete, deterministic demo lifecycle (the seed's `simulate_ai_lifecycle`): a
/// dataset family with train, validation and test splits, a model, a training session with
/// two checkpoints, a pre-deployment and a deployment, a test evaluation, the release root,
/// `receipts` inference receipts (the first half closed into one batch when there are at
/// least two), and the exported, signed bundle.
///
/// Every input is fixed: a [`FixedClock`] from 2026-01-02T03:04:05Z stepping one second, a
/// [`SeededRandom`], a signing key from a fixed seed, and the lowest accepted PBKDF2 cost
/// (100 000, paid twice: the family and the model anchor). Two runs give byte-identical
/// bundles. The header carries the signed marker [`lcm_capsule::SYNTHETIC_DEMO`] in its
/// `synthetic` field: this is demonstration data, not an attestation.
///
/// # Errors
///
/// [`Error::Managers`] or [`Error::Capsule`] if a step fails (it does not).
///
/// # Examples
///
/// ```
/// let sim = lcm::framework::simulate_ai_lifecycle(3)?;
/// let report = lcm::capsule::verify_bundle(
///     &sim.bundle,
///     &sim.key.verifying_key(),
///     &lcm::capsule::PolicyRequirements::default(),
/// )?;
/// assert!(report.is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn simulate_ai_lifecycle(receipts: u64) -> Result<Simulation, Error> {
    let policy = Policy {
        kdf_iterations: 100_000,
        ..Policy::default()
    };
    let start = Timestamp::from_unix_micros(1_767_323_045_000_000);
    let clock = Arc::new(FixedClock::new(start, 1_000_000));
    let ctx = Context::new(
        policy,
        clock,
        SeededRandom::new(&Seed::from_bytes([0x5e; 32])),
    )?;
    let mut p = Project::with_context("MyProject", ctx)?;
    let m = &mut p.managers;

    let mut metadata =
        DatasetFamilyMetadata::new("medical_images", "v1.0", "hospital_ai_team", "custom");
    metadata.contains_pii = true;
    metadata.privacy_level = "restricted".to_owned();
    metadata.compliance_frameworks = vec!["HIPAA".to_owned()];
    let family =
        m.datasets
            .create_dataset_family_anchor("med_img_v1", metadata, "family password")?;
    let ids = |prefix: &str, n: u32| (0..n).map(|i| format!("{prefix}{i:03}")).collect();
    let splits = m.datasets.add_dataset_splits(
        &family,
        BTreeMap::from([
            (DatasetSplit::Train, SplitInfo::new(ids("train_", 4))),
            (DatasetSplit::Validation, SplitInfo::new(ids("val_", 2))),
            (DatasetSplit::Test, SplitInfo::new(ids("test_", 2))),
        ]),
    )?;
    let split_digest = |s: DatasetSplit| {
        splits
            .get(&s)
            .map(Sealed::digest)
            .ok_or_else(|| Error::NotFound {
                what: "split",
                id: s.to_string(),
            })
    };
    let datasets_root = m.datasets.datasets_root_anchor("med_img_v1")?;

    let mut architecture = ModelArchitecture::new("CNN");
    architecture.total_params = Some(1_000_000);
    let model = m.models.create_model_anchor(
        &m.datasets,
        ModelAnchorRequest {
            model_name: "pneumonia_model".to_owned(),
            version: "v1.0".to_owned(),
            architecture,
            hyperparameters: object(json!({"learning_rate": 0.001, "batch_size": 32})),
            environment: TrainingEnvironment::new("tensorflow", "2.13.0"),
            authorized_datasets: vec!["med_img_v1".to_owned()],
            trainer_commit: "0123456789abcdef0123456789abcdef01234567".to_owned(),
            parameters: None,
        },
        "model password",
    )?;

    let session = m.training.start_training_session(
        &m.datasets,
        &m.models,
        "train_001",
        &model,
        datasets_root,
        object(json!({"epochs": 2, "optimizer": "adam"})),
        BTreeMap::from([
            (DatasetSplit::Train, split_digest(DatasetSplit::Train)?),
            (
                DatasetSplit::Validation,
                split_digest(DatasetSplit::Validation)?,
            ),
        ]),
    )?;
    for (i, loss) in [(1u64, 0.5), (2, 0.25)] {
        m.training.add_checkpoint(
            &session,
            &format!("ckpt_{i}"),
            i,
            i * 100,
            BTreeMap::from([("loss".to_owned(), loss)]),
            Digest::from_bytes([u8::try_from(i).unwrap_or(0); 32]),
            Digest::from_bytes([0x0f; 32]),
        )?;
    }
    let metrics = TrainingMetrics::new(
        BTreeMap::from([("loss".to_owned(), vec![0.5, 0.25])]),
        BTreeMap::from([("accuracy".to_owned(), vec![0.8, 0.9])]),
        vec![1, 2],
    )
    .map_err(lcm_managers::Error::from)?;
    let snapshot = m.training.complete_training_session(
        &session,
        Digest::from_bytes([0xaa; 32]),
        metrics,
        "ml_engineer",
    )?;

    let predeployment = m
        .deployments
        .create_predeployment_anchor(PreDeploymentRequest {
            predeployment_id: "predeploy_001".to_owned(),
            model_anchor: model.digest(),
            training_snapshot: snapshot.digest(),
            build_artifact: BuildArtifact {
                artifact_type: "docker".to_owned(),
                artifact_digest: format!("sha256:{}", "ab".repeat(32)),
                build_timestamp: start,
                builder_info: "ci".to_owned(),
                size_bytes: 1024,
            },
            sbom: Sbom {
                dependencies: BTreeMap::from([("tensorflow".to_owned(), "2.13.0".to_owned())]),
                security_scan_digest: Digest::from_bytes([0x5c; 32]),
                vulnerability_count: 0,
                compliance_status: ComplianceStatus::Passed,
            },
            approval_ticket_id: "TICKET-123".to_owned(),
            intended_env: "prod".to_owned(),
            intended_region: "eu-west-1".to_owned(),
            rollout_plan_digest: None,
        })?;
    let deployment = m.deployments.create_deployment_anchor(
        "deploy_001",
        "predeploy_001",
        json!({"cluster": "k8s-prod"}),
        json!({"ingress": "https"}),
        "devops_alice",
    )?;
    let test = m.roots.create_test_evaluation_anchor(
        "test_001",
        &split_digest(DatasetSplit::Test)?,
        "pre_deploy",
        &BTreeMap::from([
            ("accuracy".to_owned(), 0.885),
            ("f1_score".to_owned(), 0.87),
        ]),
    )?;
    let tsr = m.training.training_session_root("train_001")?;
    m.roots
        .compute_release_root(&tsr, &predeployment, &deployment, &test)?;

    let mut made = Vec::new();
    for i in 0..receipts {
        let id = format!("inf_{i:03}");
        let req = format!("req_{i}");
        let query = format!("chest x-ray {i}: pneumonia?");
        let output = format!("no pneumonia (confidence 0.9{i})");
        let model_digest = model.digest();
        let mut r = InferenceRequest::new(&id, &model_digest, "deploy_001", &req)
            .query(&query)
            .output(&output);
        r.input_metadata
            .insert("query_length".to_owned(), json!(query.len()));
        made.push(m.inference.create_inference_receipt(&m.deployments, r)?);
    }
    let half = made.len() / 2;
    let mut windows = Vec::new();
    if half >= 1 && made.len() >= 2 {
        m.inference
            .process_inference_batch("batch_001", made.get(..half).unwrap_or_default())?;
        windows.push("batch_001");
    }
    let key = SigningKey::from_seed(&Seed::from_bytes([0x4b; 32]));
    let generated_at = Timestamp::from_unix_micros(start.unix_micros() + 3_600_000_000);
    let mut bundle = p.complete_audit_trail(
        &AuditTrailRequest {
            model_name: "pneumonia_model",
            version: "v1.0",
            session_id: "train_001",
            deployment_id: "deploy_001",
            test_id: "test_001",
            batch_windows: &windows,
        },
        &key,
        generated_at,
    )?;
    // Placeholder digests, a fixed clock and a fixed key: the signed header says so.
    bundle.header.synthetic = Some(lcm_capsule::SYNTHETIC_DEMO.to_owned());
    bundle.header.sign(&key)?;
    Ok(Simulation {
        project: p,
        key,
        bundle,
    })
}
