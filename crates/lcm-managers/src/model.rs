//! [`ModelManager`]: model anchors with architecture, hyperparameter, environment and
//! parameter fingerprints, bound to the dataset families they may be trained on.
//!
//! Differences from the Python reference, on purpose:
//!
//! - the parameter fingerprint is computed from the weights themselves
//!   ([`ParameterFingerprint`]), not from the hyperparameters and a parameter count;
//! - the environment is what the caller states, never filled in from the host;
//! - authorized datasets are resolved to the full digests of known family anchors, and an
//!   unknown id is an error;
//! - the master password is required (the reference falls back to the model name) and the
//!   salt is stored in the anchor.

use std::collections::BTreeMap;

use lcm_crypto::Digest;
use lcm_model::records::{
    ModelAnchor, ModelArchitecture, ModelDescription, ParameterFingerprint, TensorChange,
    TrainingEnvironment, hyperparameters_digest,
};
use lcm_model::{Claimed, DomainType, Policy, Record, Seal, Sealed};
use serde_json::{Map, Value};

use crate::dataset::empty_field;
use crate::deployment::non_empty;
use crate::password::PasswordAnchor;
use crate::restore::{check_kdf_iterations, check_seal, fresh_id, same_digest};
use crate::{Context, DatasetFamilyManager, Error};

/// The kind name used in error messages.
const MODEL: &str = "model";
/// The sub-key label of a model anchor's MAC key.
const MODEL_KEY_LABEL: &str = "model-anchor";

/// The inputs of [`ModelManager::create_model_anchor`] (the seed's arguments, minus the
/// password).
#[derive(Debug, Clone)]
pub struct ModelAnchorRequest {
    /// The model's name (required).
    pub model_name: String,
    /// Its version (required).
    pub version: String,
    /// The architecture.
    pub architecture: ModelArchitecture,
    /// The hyperparameters, free-form.
    pub hyperparameters: Map<String, Value>,
    /// The training environment.
    pub environment: TrainingEnvironment,
    /// The ids of the dataset families the model may be trained on; each must be known to the
    /// dataset manager.
    pub authorized_datasets: Vec<String>,
    /// The commit of the training code (required).
    pub trainer_commit: String,
    /// The fingerprint of the weights, when they exist at anchor time (for example a
    /// pre-trained model being fine-tuned). `None` before training; the trained weights are
    /// then bound by the training snapshot's `final_model_digest`.
    pub parameters: Option<ParameterFingerprint>,
}

/// A model anchor together with the inputs it was made from.
#[derive(Debug, Clone)]
pub struct AnchoredModel {
    /// The sealed anchor.
    pub anchor: Sealed<ModelAnchor>,
    /// The architecture.
    pub architecture: ModelArchitecture,
    /// The hyperparameters.
    pub hyperparameters: Map<String, Value>,
    /// The environment.
    pub environment: TrainingEnvironment,
    /// The parameter fingerprint, if weights were supplied.
    pub parameters: Option<ParameterFingerprint>,
}

/// The model anchors of one lifecycle (the seed's `LCMModelManager`), by name and version.
///
/// # Examples
///
/// ```
/// use std::collections::BTreeMap;
/// use std::sync::Arc;
/// use lcm_crypto::{Seed, SeededRandom};
/// use lcm_managers::{Context, DatasetFamilyManager, ModelAnchorRequest, ModelManager};
/// use lcm_model::records::{DatasetFamilyMetadata, ModelArchitecture, TrainingEnvironment};
/// use lcm_model::{FixedClock, Policy, Timestamp};
///
/// let policy = Policy { kdf_iterations: 100_000, ..Policy::default() };
/// let clock = Arc::new(FixedClock::new(Timestamp::from_unix_micros(0), 1));
/// let ctx = Context::new(policy, clock, SeededRandom::new(&Seed::from_bytes([1; 32])))?;
/// let mut datasets = DatasetFamilyManager::new(ctx.clone());
/// let metadata = DatasetFamilyMetadata::new("medical_dataset", "v1.0", "hospital", "custom");
/// let family = datasets.create_dataset_family_anchor("med_v1", metadata, "family_password")?;
///
/// let mut models = ModelManager::new(ctx);
/// let mut architecture = ModelArchitecture::new("CNN");
/// architecture.total_params = Some(1_000_000);
/// let request = ModelAnchorRequest {
///     model_name: "pneumonia_model".into(),
///     version: "v1.0".into(),
///     architecture,
///     hyperparameters: serde_json::json!({"lr": 0.001}).as_object().cloned().unwrap_or_default(),
///     environment: TrainingEnvironment::new("tensorflow", "2.13.0"),
///     authorized_datasets: vec!["med_v1".into()],
///     trainer_commit: "commit123".into(),
///     parameters: None,
/// };
/// let model = models.create_model_anchor(&datasets, request, "model_password")?;
/// assert_eq!(model.record().description.authorized_datasets["med_v1"], family.digest());
/// models.verify_password("pneumonia_model", "v1.0", "model_password")?;
/// # Ok::<(), lcm_managers::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct ModelManager {
    ctx: Context,
    models: BTreeMap<(String, String), ModelEntry>,
}

/// A model this manager holds: made here (or restored with its inputs), or restored from its
/// anchor alone, whose architecture, hyperparameters, environment and weights are known only
/// by their digests in the anchor.
#[derive(Debug)]
enum ModelEntry {
    // Boxed, so that the map's values stay small whatever the variant.
    Anchored(Box<AnchoredModel>),
    Restored(Box<Sealed<ModelAnchor>>),
}

impl ModelEntry {
    fn anchor(&self) -> &Sealed<ModelAnchor> {
        match self {
            Self::Anchored(m) => &m.anchor,
            Self::Restored(a) => a,
        }
    }

    fn inputs(&self) -> Option<&AnchoredModel> {
        match self {
            Self::Anchored(m) => Some(m),
            Self::Restored(_) => None,
        }
    }
}

impl ModelManager {
    /// A manager working under `ctx`.
    pub fn new(ctx: Context) -> Self {
        Self {
            ctx,
            models: BTreeMap::new(),
        }
    }

    /// The context (policy, clock, randomness).
    pub fn context(&self) -> &Context {
        &self.ctx
    }

    /// The id (`name@version`) and key of a model not held yet, after the create path's checks
    /// of its identifying fields: none empty, the name and version not taken.
    fn new_model_key(
        &self,
        model_name: &str,
        version: &str,
        trainer_commit: &str,
    ) -> Result<(String, (String, String)), Error> {
        let id = format!("{model_name}@{version}");
        for (field, value) in [
            ("model_name", model_name),
            ("version", version),
            ("trainer_commit", trainer_commit),
        ] {
            if value.is_empty() {
                return Err(Error::Empty {
                    kind: MODEL,
                    id,
                    field,
                });
            }
        }
        let key = (model_name.to_owned(), version.to_owned());
        fresh_id(MODEL, &id, self.models.contains_key(&key))?;
        Ok((id, key))
    }

    /// Creates and stores a model anchor (the seed's `create_model_anchor`).
    ///
    /// Computes the architecture fingerprint, the hyperparameter and environment digests,
    /// resolves every authorized dataset id to its family anchor's digest through `datasets`,
    /// and MACs the [`ModelDescription`] digest under a sub-key of a master key derived from
    /// `master_password` with a fresh, stored salt.
    ///
    /// # Errors
    ///
    /// [`Error::DomainNotAllowed`] when the policy excludes models; [`Error::Empty`] for an
    /// empty name, version, trainer commit, password, architecture type or framework field;
    /// [`lcm_model::Error::DuplicateId`] for a name and version already anchored;
    /// [`Error::UnknownReference`] for an authorized dataset the dataset manager does not
    /// know; [`lcm_model::Error::UnexpectedValue`] for a dataset listed twice, a parameter fingerprint made
    /// under another hash algorithm, or weights whose element count is not the
    /// architecture's `total_params`.
    pub fn create_model_anchor(
        &mut self,
        datasets: &DatasetFamilyManager,
        request: ModelAnchorRequest,
        master_password: &str,
    ) -> Result<Sealed<ModelAnchor>, Error> {
        let policy = self.ctx.policy();
        if !policy.allows(DomainType::Model) {
            return Err(Error::DomainNotAllowed { domain: "model" });
        }
        let (id, key) = self.new_model_key(
            &request.model_name,
            &request.version,
            &request.trainer_commit,
        )?;
        non_empty(MODEL, &id, "master_password", master_password)?;
        check_description_inputs(&id, &request.architecture, &request.environment)?;

        let mut authorized = BTreeMap::new();
        for ds in &request.authorized_datasets {
            let family = datasets.dataset_family(ds).ok_or_else(|| {
                Error::unknown_reference(MODEL, id.clone(), "authorized_datasets", ds.clone())
            })?;
            if authorized.insert(ds.clone(), family.digest()).is_some() {
                return Err(Error::unexpected(
                    MODEL,
                    id,
                    "authorized_datasets",
                    "each dataset family once".to_owned(),
                    format!("{ds:?} twice"),
                ));
            }
        }

        if let Some(params) = &request.parameters {
            check_parameters(policy, &id, &request.architecture, params)?;
        }

        let description = ModelDescription {
            model_name: request.model_name,
            version: request.version,
            architecture_fingerprint: request.architecture.digest(policy)?,
            hyperparameters_digest: hyperparameters_digest(policy, &request.hyperparameters)?,
            environment_digest: request.environment.digest(policy)?,
            parameter_fingerprint: request.parameters.as_ref().map(ParameterFingerprint::root),
            trainer_commit: request.trainer_commit,
            authorized_datasets: authorized,
        };
        let description_digest = description.digest(policy)?;
        let PasswordAnchor {
            salt,
            kdf_iterations,
            anchor,
        } = PasswordAnchor::new(
            &self.ctx,
            master_password,
            MODEL_KEY_LABEL,
            &description_digest,
        )?;
        let record = ModelAnchor {
            description,
            description_digest,
            kdf_iterations,
            salt,
            anchor,
            created_at: self.ctx.now(),
        };
        let sealed = Sealed::seal(record, policy)?;
        self.models.insert(
            key,
            ModelEntry::Anchored(Box::new(AnchoredModel {
                anchor: sealed.clone(),
                architecture: request.architecture,
                hyperparameters: request.hyperparameters,
                environment: request.environment,
                parameters: request.parameters,
            })),
        );
        Ok(sealed)
    }

    /// Adopts a model anchor made earlier (for example by another process and read back from
    /// storage) from the anchor record alone, so that [`Self::model_anchor`],
    /// [`Self::find_model_anchor`], [`Self::verify_password`], [`Self::verify_parameters`]
    /// (against the anchored fingerprint root) and
    /// [`TrainingManager::start_training_session`](crate::TrainingManager::start_training_session)
    /// accept it. The architecture, hyperparameters, environment and weights are not in the
    /// anchor (only their digests are), so [`Self::model`] and [`Self::find_model`] return
    /// `None` for it; [`Self::restore_anchored_model`] restores a model with those inputs.
    ///
    /// Nothing given is trusted. Recomputed: the seal under this manager's policy, the
    /// description digest (from the description, the MAC's message), that the name, version
    /// and trainer commit are not empty, and that the KDF cost is not below the floor. The
    /// authorized dataset digests are checked where they are used: a training session needs
    /// split anchors of a family whose anchor digest the model authorizes. The password is
    /// neither needed nor checked (see [`Self::verify_password`]). This does not panic.
    ///
    /// # Errors
    ///
    /// [`Error::DomainNotAllowed`] when the policy excludes models; [`Error::Empty`] for an
    /// empty name, version or trainer commit; [`lcm_model::Error::DuplicateId`] for a name and version
    /// already held; [`lcm_model::Error::SealMismatch`] for a seal or description digest that does not
    /// match its content; [`Error::Crypto`] for a KDF cost below the floor.
    pub fn restore_model(&mut self, anchor: Claimed<ModelAnchor>) -> Result<(), Error> {
        let (key, anchor) = self.check_restored_anchor(&anchor)?;
        self.models
            .insert(key, ModelEntry::Restored(Box::new(anchor)));
        Ok(())
    }

    /// Adopts a model anchor made earlier together with the inputs it was made from, as
    /// [`Self::restore_model`] does, and recomputes that the anchor binds those inputs: the
    /// architecture fingerprint, hyperparameter digest and environment digest from the inputs,
    /// the parameter fingerprint root from the weights' fingerprint (and that it is absent
    /// when no weights are given), and the create path's checks of the inputs (non-empty
    /// fields, the fingerprint's hash algorithm, `total_params` against the weights' element
    /// count). [`Self::model`] and [`Self::find_model`] then return it. This does not panic.
    ///
    /// # Errors
    ///
    /// As [`Self::restore_model`]; [`Error::Empty`] for an empty architecture type or
    /// framework field; [`lcm_model::Error::SealMismatch`] naming the digest that does not match its
    /// input; [`lcm_model::Error::UnexpectedValue`] naming `parameters` or `architecture.total_params` as
    /// [`Self::create_model_anchor`] does.
    pub fn restore_anchored_model(&mut self, model: AnchoredModel) -> Result<(), Error> {
        let (key, _) = self.check_restored_anchor(&model.anchor)?;
        let policy = self.ctx.policy();
        let d = &model.anchor.record().description;
        let id = format!("{}@{}", d.model_name, d.version);
        check_description_inputs(&id, &model.architecture, &model.environment)?;
        if let Some(params) = &model.parameters {
            check_parameters(policy, &id, &model.architecture, params)?;
        }
        let checks = [
            (
                "model architecture_fingerprint",
                d.architecture_fingerprint,
                model.architecture.digest(policy)?,
            ),
            (
                "model hyperparameters_digest",
                d.hyperparameters_digest,
                hyperparameters_digest(policy, &model.hyperparameters)?,
            ),
            (
                "model environment_digest",
                d.environment_digest,
                model.environment.digest(policy)?,
            ),
        ];
        for (kind, stored, recomputed) in checks {
            same_digest(kind, &id, stored, recomputed)?;
        }
        let weights = model.parameters.as_ref().map(ParameterFingerprint::root);
        match (d.parameter_fingerprint, weights) {
            (None, None) => {}
            (Some(stored), Some(recomputed)) if stored == recomputed => {}
            (Some(stored), Some(recomputed)) => {
                return Err(Error::Model(lcm_model::Error::SealMismatch {
                    kind: "model parameter_fingerprint",
                    id,
                    stored,
                    recomputed,
                }));
            }
            (stored, given) => {
                return Err(Error::unexpected(
                    MODEL,
                    id,
                    "parameters",
                    match stored {
                        Some(root) => format!("weights with the anchored fingerprint {root}"),
                        None => "no weights (the anchor has no parameter fingerprint)".to_owned(),
                    },
                    match given {
                        Some(root) => format!("weights with the fingerprint {root}"),
                        None => "none".to_owned(),
                    },
                ));
            }
        }
        self.models
            .insert(key, ModelEntry::Anchored(Box::new(model)));
        Ok(())
    }

    /// The checks shared by the two restores; returns the model's key.
    fn check_restored_anchor<S: Seal<Record = ModelAnchor>>(
        &self,
        anchor: &S,
    ) -> Result<((String, String), Sealed<ModelAnchor>), Error> {
        let policy = self.ctx.policy();
        if !policy.allows(DomainType::Model) {
            return Err(Error::DomainNotAllowed { domain: "model" });
        }
        let a = &anchor.record();
        let d = &a.description;
        let (id, key) = self.new_model_key(&d.model_name, &d.version, &d.trainer_commit)?;
        let sealed = check_seal(&self.ctx, MODEL, &id, anchor)?;
        let description_digest = d.digest(policy)?;
        same_digest(
            "model description_digest",
            &id,
            a.description_digest,
            description_digest,
        )?;
        check_kdf_iterations(a.kdf_iterations)?;
        Ok((key, sealed))
    }

    /// Checks `master_password` against the stored anchor of a model.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for an unknown model; otherwise as [`verify_model_password`].
    pub fn verify_password(
        &self,
        model_name: &str,
        version: &str,
        master_password: &str,
    ) -> Result<(), Error> {
        let model = self
            .model_anchor(model_name, version)
            .ok_or_else(|| Error::NotFound {
                kind: MODEL,
                id: format!("{model_name}@{version}"),
            })?;
        verify_model_password(self.ctx.policy(), model.record(), master_password)
    }

    /// The anchored model `model_name` at `version`, with its inputs (the seed's
    /// `get_model_anchor`); `None` also for a model restored from its anchor alone
    /// ([`Self::restore_model`]), whose inputs are not known: see [`Self::model_anchor`].
    pub fn model(&self, model_name: &str, version: &str) -> Option<&AnchoredModel> {
        self.entry(model_name, version)?.inputs()
    }

    /// The sealed anchor of `model_name` at `version`, made here or restored.
    pub fn model_anchor(&self, model_name: &str, version: &str) -> Option<&Sealed<ModelAnchor>> {
        self.entry(model_name, version).map(ModelEntry::anchor)
    }

    fn entry(&self, model_name: &str, version: &str) -> Option<&ModelEntry> {
        self.models
            .get(&(model_name.to_owned(), version.to_owned()))
    }

    /// Checks weights against the parameter fingerprint anchored for a model, naming every
    /// tensor that was added, removed or changed.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for an unknown model; [`lcm_model::Error::UnexpectedValue`] naming `parameters` when
    /// the model was anchored without weights, or when `weights` differ (the message lists the
    /// differing tensors).
    ///
    /// # Examples
    ///
    /// ```
    /// # use lcm_managers::{Context, DatasetFamilyManager, ModelAnchorRequest, ModelManager};
    /// # use lcm_model::records::{
    /// #     ModelArchitecture, ParameterFingerprint, Tensor, TrainingEnvironment,
    /// # };
    /// # let policy = lcm_model::Policy { kdf_iterations: 100_000, ..Default::default() };
    /// # let ctx = Context::with_policy(policy)?;
    /// let weights = [0u8; 8];
    /// let tensor = Tensor { name: "w", dtype: "f32", shape: &[2], bytes: &weights };
    /// let fingerprint = ParameterFingerprint::compute(ctx.policy(), [tensor])?;
    /// let mut models = ModelManager::new(ctx);
    /// let request = ModelAnchorRequest {
    ///     model_name: "m".into(),
    ///     version: "v1".into(),
    ///     architecture: ModelArchitecture::new("MLP"),
    ///     hyperparameters: serde_json::Map::new(),
    ///     environment: TrainingEnvironment::new("torch", "2.3"),
    ///     authorized_datasets: vec![],
    ///     trainer_commit: "abc".into(),
    ///     parameters: Some(fingerprint.clone()),
    /// };
    /// models.create_model_anchor(&DatasetFamilyManager::default(), request, "pw")?;
    /// models.verify_parameters("m", "v1", &fingerprint)?;
    ///
    /// let changed = [0u8, 0, 0, 0, 0, 0, 128, 63];
    /// let other = ParameterFingerprint::compute(
    ///     models.context().policy(),
    ///     [Tensor { bytes: &changed, ..tensor }],
    /// )?;
    /// let err = models.verify_parameters("m", "v1", &other).unwrap_err();
    /// assert!(err.to_string().contains("changed w"), "{err}");
    /// # Ok::<(), lcm_managers::Error>(())
    /// ```
    pub fn verify_parameters(
        &self,
        model_name: &str,
        version: &str,
        weights: &ParameterFingerprint,
    ) -> Result<(), Error> {
        let id = format!("{model_name}@{version}");
        let entry = self
            .entry(model_name, version)
            .ok_or_else(|| Error::NotFound {
                kind: MODEL,
                id: id.clone(),
            })?;
        let Some(root) = entry.anchor().record().description.parameter_fingerprint else {
            return Err(Error::unexpected(
                MODEL,
                id,
                "parameters",
                "a model anchored with a parameter fingerprint".to_owned(),
                "none".to_owned(),
            ));
        };
        if root == weights.root() {
            return Ok(());
        }
        // A model restored from its anchor alone has the root, not the tensors: no diff.
        let Some(anchored) = entry.inputs().and_then(|m| m.parameters.as_ref()) else {
            return Err(Error::unexpected(
                MODEL,
                id,
                "parameters",
                format!("weights with the fingerprint {root}"),
                format!("the fingerprint {}", weights.root()),
            ));
        };
        let changes: Vec<String> = anchored
            .diff(weights)
            .iter()
            .map(|c| match c {
                TensorChange::Added(n) => format!("added {n}"),
                TensorChange::Changed(n) => format!("changed {n}"),
                TensorChange::Removed(n) => format!("removed {n}"),
                _ => format!("{c:?}"),
            })
            .collect();
        Err(Error::unexpected(
            MODEL,
            id,
            "parameters",
            format!("weights with the fingerprint {}", anchored.root()),
            if changes.is_empty() {
                format!(
                    "the fingerprint {} (another hash algorithm)",
                    weights.root()
                )
            } else {
                changes.join(", ")
            },
        ))
    }

    /// The anchored model whose anchor digest is `digest`, with its inputs; `None` also for a
    /// model restored from its anchor alone (see [`Self::find_model_anchor`]).
    pub fn find_model(&self, digest: &Digest) -> Option<&AnchoredModel> {
        self.find_entry(digest)?.inputs()
    }

    /// The model anchor whose digest is `digest`, made here or restored.
    pub fn find_model_anchor(&self, digest: &Digest) -> Option<&Sealed<ModelAnchor>> {
        self.find_entry(digest).map(ModelEntry::anchor)
    }

    fn find_entry(&self, digest: &Digest) -> Option<&ModelEntry> {
        self.models
            .values()
            .find(|m| m.anchor().digest() == *digest)
    }

    /// The names and versions of all anchored models, in order (the seed's `list_models`).
    pub fn list_models(&self) -> impl Iterator<Item = (&str, &str)> {
        self.models.keys().map(|(n, v)| (n.as_str(), v.as_str()))
    }
}

/// The create path's checks of the architecture and environment of the model `id`: no
/// required field empty.
fn check_description_inputs(
    id: &str,
    architecture: &ModelArchitecture,
    environment: &TrainingEnvironment,
) -> Result<(), Error> {
    architecture
        .validate()
        .map_err(|e| empty_field(MODEL, id, e))?;
    environment
        .validate()
        .map_err(|e| empty_field(MODEL, id, e))?;
    Ok(())
}

/// The create path's checks of supplied weights: the fingerprint is under the policy's hash
/// algorithm and has the architecture's `total_params` elements (when stated).
fn check_parameters(
    policy: &Policy,
    id: &str,
    architecture: &ModelArchitecture,
    params: &ParameterFingerprint,
) -> Result<(), Error> {
    if params.algorithm() != policy.hash_algorithm {
        return Err(Error::unexpected(
            MODEL,
            id.to_owned(),
            "parameters",
            format!("a fingerprint under {}", policy.hash_algorithm),
            format!("a fingerprint under {}", params.algorithm()),
        ));
    }
    if let Some(total) = architecture.total_params
        && total != params.element_count()
    {
        return Err(Error::unexpected(
            MODEL,
            id.to_owned(),
            "architecture.total_params",
            format!(
                "the element count of the weights, {}",
                params.element_count()
            ),
            total.to_string(),
        ));
    }
    Ok(())
}

/// Checks `master_password` against a model anchor (for anchors read back from storage). The
/// description digest is recomputed, so an anchor whose description was changed (for example
/// to authorize another dataset) fails even with the right password.
///
/// This does not panic.
///
/// # Errors
///
/// [`lcm_model::Error::SealMismatch`] when the description does not match `description_digest`;
/// [`Error::WrongPassword`] when the password does not reproduce the anchor; [`Error::Empty`]
/// for an empty password; [`Error::Crypto`] for a stored KDF cost below the floor.
pub fn verify_model_password(
    policy: &Policy,
    anchor: &ModelAnchor,
    master_password: &str,
) -> Result<(), Error> {
    let id = format!(
        "{}@{}",
        anchor.description.model_name, anchor.description.version
    );
    PasswordAnchor {
        salt: anchor.salt,
        kdf_iterations: anchor.kdf_iterations,
        anchor: anchor.anchor,
    }
    .check_stored(
        policy.hash_algorithm,
        master_password,
        MODEL_KEY_LABEL,
        (MODEL, &id),
        ("model description_digest", anchor.description_digest),
        || Ok(anchor.description.digest(policy)?),
    )
}

#[cfg(test)]
mod tests;
