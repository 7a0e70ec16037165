//! Model records: architecture, training environment, the parameter fingerprint computed from
//! the actual weights, and the model anchor.
//!
//! The Python reference's "params root" hashes the hyperparameters and the parameter *count*;
//! it never sees a weight. Here [`ParameterFingerprint`] hashes every tensor (name, dtype,
//! shape and bytes) and builds an RFC 9162 Merkle root over the per-tensor digests, so one
//! changed weight changes the root and [`ParameterFingerprint::diff`] says which tensor it
//! was. The reference also fills the environment from the host (Python version, OS); here
//! every [`TrainingEnvironment`] field is what the caller wrote, so the digest does not depend
//! on the machine that computes it.

use std::collections::BTreeMap;

use lcm_crypto::merkle::MerkleTree;
use lcm_crypto::{Digest, DomainHasher, HashAlgorithm, MacTag, Salt};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::non_empty;
use crate::{Error, Policy, Record, Timestamp, record_digest};

/// The architecture of a model (the seed's `ModelArchitecture`); its digest is the
/// architecture fingerprint.
///
/// The seed's field `type` is `model_type` here (serialized as `"type"`).
///
/// # Examples
///
/// ```
/// use lcm_model::records::ModelArchitecture;
/// use serde_json::json;
///
/// let mut arch = ModelArchitecture::new("CNN");
/// arch.layers.push(json!({"type": "dense", "units": 1}).as_object().cloned().unwrap_or_default());
/// arch.total_params = Some(1_000_000);
/// arch.validate()?;
/// assert!(serde_json::to_string(&arch).unwrap().contains("\"type\":\"CNN\""));
/// # Ok::<(), lcm_model::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ModelArchitecture {
    /// The model family, for example `"CNN"` (required).
    #[serde(rename = "type")]
    pub model_type: String,
    /// The layers, each a free-form JSON object.
    pub layers: Vec<Map<String, Value>>,
    /// The input dimension, if stated.
    pub input_dim: Option<u64>,
    /// The output dimension, if stated.
    pub output_dim: Option<u64>,
    /// The number of parameters, if stated. When weights are supplied with the model anchor,
    /// their element count must equal it.
    pub total_params: Option<u64>,
}

impl ModelArchitecture {
    /// An architecture of `model_type` with no layers and no dimensions.
    pub fn new(model_type: impl Into<String>) -> Self {
        Self {
            model_type: model_type.into(),
            layers: Vec::new(),
            input_dim: None,
            output_dim: None,
            total_params: None,
        }
    }

    /// Checks the required field.
    ///
    /// # Errors
    ///
    /// [`Error::EmptyField`] when `model_type` is empty.
    pub fn validate(&self) -> Result<(), Error> {
        non_empty(Self::KIND, "type", &self.model_type)?;
        Ok(())
    }
}

impl Record for ModelArchitecture {
    const KIND: &'static str = "model-architecture";
}

/// The software and hardware a model is trained with (the seed's `TrainingEnvironment`).
///
/// Every field is explicit: nothing is read from the host, so the environment digest is the
/// same on every machine. Unknown values are `None`, not guessed.
///
/// # Examples
///
/// ```
/// use lcm_model::records::TrainingEnvironment;
///
/// let mut env = TrainingEnvironment::new("tensorflow", "2.13.0");
/// env.cuda_version = Some("11.8".into());
/// env.dependencies.insert("numpy".into(), "1.24.0".into());
/// env.validate()?;
/// # Ok::<(), lcm_model::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TrainingEnvironment {
    /// The ML framework, for example `"tensorflow"` (required).
    pub framework: String,
    /// Its version (required).
    pub framework_version: String,
    /// The CUDA version, if any.
    pub cuda_version: Option<String>,
    /// The Python version, if recorded.
    pub python_version: Option<String>,
    /// The operating system, if recorded.
    pub os_info: Option<String>,
    /// The hardware, if recorded.
    pub hardware: Option<String>,
    /// Package versions, by package name.
    pub dependencies: BTreeMap<String, String>,
}

impl TrainingEnvironment {
    /// An environment with the two required fields and nothing else recorded.
    pub fn new(framework: impl Into<String>, framework_version: impl Into<String>) -> Self {
        Self {
            framework: framework.into(),
            framework_version: framework_version.into(),
            cuda_version: None,
            python_version: None,
            os_info: None,
            hardware: None,
            dependencies: BTreeMap::new(),
        }
    }

    /// Checks the required fields.
    ///
    /// # Errors
    ///
    /// [`Error::EmptyField`] when `framework` or `framework_version` is empty.
    pub fn validate(&self) -> Result<(), Error> {
        non_empty(Self::KIND, "framework", &self.framework)?;
        non_empty(Self::KIND, "framework_version", &self.framework_version)?;
        Ok(())
    }
}

impl Record for TrainingEnvironment {
    const KIND: &'static str = "training-environment";
}

/// The record kind under which hyperparameters (a JSON object) are hashed.
pub const HYPERPARAMETERS_KIND: &str = "hyperparameters";

/// The digest of a hyperparameter object: its canonical JSON under
/// `lcm/<v>/hyperparameters`.
///
/// # Errors
///
/// As [`record_digest`].
pub fn hyperparameters_digest(
    policy: &Policy,
    hyperparameters: &Map<String, Value>,
) -> Result<Digest, Error> {
    record_digest(policy, HYPERPARAMETERS_KIND, hyperparameters)
}

/// A borrowed view of one weight tensor, as it is handed to [`ParameterFingerprint`].
///
/// `dtype` is free text (`"f32"`, `"bfloat16"`, ...). For the common names listed at
/// [`Tensor::element_size`] the byte length must match the shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tensor<'a> {
    /// The tensor's unique name, for example `"conv1.weight"`.
    pub name: &'a str,
    /// The element type.
    pub dtype: &'a str,
    /// The dimensions.
    pub shape: &'a [u64],
    /// The raw little- or big-endian bytes, exactly as stored.
    pub bytes: &'a [u8],
}

/// The record kind of a per-tensor digest.
const TENSOR_KIND: &str = "tensor";

impl<'a> Tensor<'a> {
    /// The view of tensor `name`, of element type `dtype` and dimensions `shape`, over its
    /// stored `bytes`.
    pub const fn new(name: &'a str, dtype: &'a str, shape: &'a [u64], bytes: &'a [u8]) -> Self {
        Self {
            name,
            dtype,
            shape,
            bytes,
        }
    }
}

impl Tensor<'_> {
    /// The size in bytes of one element for the common dtype names (`f64`/`float64`,
    /// `f32`/`float32`, `f16`/`float16`, `bf16`/`bfloat16`, the signed and unsigned integers of
    /// 8 to 64 bits as `i8`/`int8`, `u8`/`uint8`, ..., and `bool`), `None` for others.
    pub fn element_size(dtype: &str) -> Option<u64> {
        Some(match dtype {
            "f64" | "float64" | "i64" | "int64" | "u64" | "uint64" => 8,
            "f32" | "float32" | "i32" | "int32" | "u32" | "uint32" => 4,
            "f16" | "float16" | "bf16" | "bfloat16" | "i16" | "int16" | "u16" | "uint16" => 2,
            "i8" | "int8" | "u8" | "uint8" | "bool" => 1,
            _ => return None,
        })
    }

    /// The number of elements: the product of the dimensions (1 for a scalar).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidField`] when the product overflows `u64`.
    pub fn element_count(&self) -> Result<u64, Error> {
        self.shape
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| Error::InvalidField {
                record: TENSOR_KIND,
                field: "shape",
                expected: "an element count that fits in 64 bits",
                actual: format!("{:?} for tensor {:?}", self.shape, self.name),
            })
    }

    /// The tensor's digest under `policy`: `hash_domain("lcm/<v>/tensor", [name, dtype, shape,
    /// bytes])`, where `shape` is one part holding each dimension as 8 big-endian bytes. Every
    /// part is length-prefixed, so the encoding is injective.
    ///
    /// # Errors
    ///
    /// [`Error::EmptyField`] for an empty name or dtype; [`Error::InvalidField`] when the
    /// byte length does not match the shape of a known dtype.
    pub fn digest(&self, policy: &Policy) -> Result<Digest, Error> {
        non_empty(TENSOR_KIND, "name", self.name)?;
        non_empty(TENSOR_KIND, "dtype", self.dtype)?;
        let count = self.element_count()?;
        if let Some(size) = Self::element_size(self.dtype) {
            let expected = count.checked_mul(size);
            let actual = u64::try_from(self.bytes.len()).ok();
            if expected.is_none() || expected != actual {
                return Err(Error::InvalidField {
                    record: TENSOR_KIND,
                    field: "bytes",
                    expected: "element count x element size bytes",
                    actual: format!(
                        "{} bytes for tensor {:?} of shape {:?} and dtype {}",
                        self.bytes.len(),
                        self.name,
                        self.shape,
                        self.dtype
                    ),
                });
            }
        }
        let mut shape = Vec::with_capacity(self.shape.len().saturating_mul(8));
        for d in self.shape {
            shape.extend_from_slice(&d.to_be_bytes());
        }
        let mut h = DomainHasher::new(policy.hash_algorithm, &policy.domain_tag(TENSOR_KIND));
        h.part(self.name.as_bytes())
            .part(self.dtype.as_bytes())
            .part(&shape)
            .part(self.bytes);
        Ok(h.finalize())
    }
}

/// One difference between two parameter fingerprints, by tensor name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum TensorChange {
    /// A tensor only the other fingerprint has.
    Added(String),
    /// A tensor present in both whose digest differs (name, dtype, shape or bytes).
    Changed(String),
    /// A tensor only this fingerprint has.
    Removed(String),
}

/// The fingerprint of a model's weights: per-tensor digests and the RFC 9162 Merkle root over
/// them in name order.
///
/// Names are unique; the order in which tensors are supplied does not matter. The per-tensor
/// digests are kept so that [`ParameterFingerprint::diff`] can locate a change.
///
/// # Examples
///
/// ```
/// use lcm_model::Policy;
/// use lcm_model::records::{ParameterFingerprint, Tensor, TensorChange};
///
/// let p = Policy::default();
/// let (w, mut w2) = ([0u8; 16], [0u8; 16]);
/// w2[3] = 1;
/// let bias = Tensor { name: "bias", dtype: "f32", shape: &[1], bytes: &[0, 0, 128, 63] };
/// let weight = Tensor { name: "w", dtype: "f32", shape: &[2, 2], bytes: &w };
/// let before = ParameterFingerprint::compute(&p, [weight, bias])?;
/// // A changed byte in "w" (the order of the tensors does not matter):
/// let after = ParameterFingerprint::compute(&p, [bias, Tensor { bytes: &w2, ..weight }])?;
/// assert_ne!(before.root(), after.root());
/// assert_eq!(before.diff(&after), vec![TensorChange::Changed("w".into())]);
/// # Ok::<(), lcm_model::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterFingerprint {
    algorithm: HashAlgorithm,
    tensors: BTreeMap<String, Digest>,
    element_count: u64,
    root: Digest,
}

impl ParameterFingerprint {
    /// Hashes every tensor and builds the root, with the policy's hash algorithm.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidField`] for no tensors, a duplicate name, a byte length that does not
    /// match the shape, or an element count that overflows; [`Error::EmptyField`] for an empty
    /// name or dtype.
    pub fn compute<'a, I>(policy: &Policy, tensors: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = Tensor<'a>>,
    {
        let mut digests = BTreeMap::new();
        let mut element_count = 0u64;
        for t in tensors {
            let d = t.digest(policy)?;
            element_count = element_count
                .checked_add(t.element_count()?)
                .ok_or_else(|| Error::InvalidField {
                    record: TENSOR_KIND,
                    field: "shape",
                    expected: "a total element count that fits in 64 bits",
                    actual: format!("overflow at tensor {:?}", t.name),
                })?;
            if digests.insert(t.name.to_owned(), d).is_some() {
                return Err(Error::InvalidField {
                    record: TENSOR_KIND,
                    field: "name",
                    expected: "a name no other tensor uses",
                    actual: format!("{:?} twice", t.name),
                });
            }
        }
        if digests.is_empty() {
            return Err(no_tensors());
        }
        let tree = MerkleTree::from_leaves_with(
            policy.hash_algorithm,
            digests.values().map(Digest::as_bytes),
        );
        Ok(Self {
            algorithm: policy.hash_algorithm,
            tensors: digests,
            element_count,
            root: tree.root(),
        })
    }

    /// Rebuilds a fingerprint from per-tensor digests computed earlier (the tensors of several
    /// safetensors shards, or a saved manifest), recomputing the root over them in name order.
    ///
    /// Nothing given is trusted but the digests themselves: the root is always recomputed, so
    /// a caller holding a claimed root compares it with [`ParameterFingerprint::root`].
    ///
    /// # Examples
    ///
    /// ```
    /// use lcm_model::Policy;
    /// use lcm_model::records::{ParameterFingerprint, Tensor};
    ///
    /// let p = Policy::default();
    /// let w = Tensor { name: "w", dtype: "u8", shape: &[2], bytes: &[1, 2] };
    /// let direct = ParameterFingerprint::compute(&p, [w])?;
    /// let rebuilt = ParameterFingerprint::from_tensor_digests(
    ///     p.hash_algorithm,
    ///     direct.tensor_digests().clone(),
    ///     direct.element_count(),
    /// )?;
    /// assert_eq!(rebuilt, direct);
    /// # Ok::<(), lcm_model::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidField`] for no tensors; [`Error::EmptyField`] for an empty tensor name.
    pub fn from_tensor_digests(
        algorithm: HashAlgorithm,
        tensors: BTreeMap<String, Digest>,
        element_count: u64,
    ) -> Result<Self, Error> {
        if tensors.is_empty() {
            return Err(no_tensors());
        }
        if tensors.contains_key("") {
            return Err(Error::EmptyField {
                record: TENSOR_KIND,
                field: "name",
            });
        }
        let root =
            MerkleTree::from_leaves_with(algorithm, tensors.values().map(Digest::as_bytes)).root();
        Ok(Self {
            algorithm,
            tensors,
            element_count,
            root,
        })
    }

    /// The hash algorithm of the digests and the root.
    pub fn algorithm(&self) -> HashAlgorithm {
        self.algorithm
    }

    /// The Merkle root: the fingerprint itself.
    pub fn root(&self) -> Digest {
        self.root
    }

    /// The per-tensor digests, by name.
    pub fn tensor_digests(&self) -> &BTreeMap<String, Digest> {
        &self.tensors
    }

    /// The total number of elements over all tensors.
    pub fn element_count(&self) -> u64 {
        self.element_count
    }

    /// The tensors that differ from `other`, in name order. Empty when the roots are equal
    /// (two fingerprints under different hash algorithms differ in every tensor).
    pub fn diff(&self, other: &Self) -> Vec<TensorChange> {
        let mut out = Vec::new();
        for (name, d) in &self.tensors {
            match other.tensors.get(name) {
                None => out.push(TensorChange::Removed(name.clone())),
                Some(o) if o != d => out.push(TensorChange::Changed(name.clone())),
                Some(_) => {}
            }
        }
        for name in other.tensors.keys() {
            if !self.tensors.contains_key(name) {
                out.push(TensorChange::Added(name.clone()));
            }
        }
        out.sort_by(|a, b| change_name(a).cmp(change_name(b)));
        out
    }
}

fn change_name(c: &TensorChange) -> &str {
    match c {
        TensorChange::Added(n) | TensorChange::Changed(n) | TensorChange::Removed(n) => n,
    }
}

/// Everything a model anchor binds, as digests (the message of the anchor's MAC).
///
/// `authorized_datasets` maps each authorized dataset family id to the full digest of its
/// family anchor. `parameter_fingerprint` is `None` when no weights were supplied when the
/// model was anchored (before training); the final weights are then bound by the training
/// snapshot's `final_model_digest`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelDescription {
    /// The model's name.
    pub model_name: String,
    /// Its version.
    pub version: String,
    /// The digest of the [`ModelArchitecture`].
    pub architecture_fingerprint: Digest,
    /// The digest of the hyperparameters ([`hyperparameters_digest`]).
    pub hyperparameters_digest: Digest,
    /// The digest of the [`TrainingEnvironment`].
    pub environment_digest: Digest,
    /// The root of the [`ParameterFingerprint`] of the weights, if supplied.
    pub parameter_fingerprint: Option<Digest>,
    /// The commit of the training code.
    pub trainer_commit: String,
    /// Authorized dataset families: id to full family anchor digest.
    pub authorized_datasets: BTreeMap<String, Digest>,
}

impl Record for ModelDescription {
    const KIND: &'static str = "model-description";
}

/// The anchor of a model (the seed's `LCMModelAnchor`).
///
/// `anchor` is `MAC(K, description_digest)` with `K` the sub-key labelled `"model-anchor"` of
/// the master key `PBKDF2-HMAC-SHA256(password, salt, kdf_iterations)`; the salt and cost are
/// stored so that the password can be verified again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelAnchor {
    /// What the anchor binds.
    pub description: ModelDescription,
    /// The digest of `description` (the MAC's message).
    pub description_digest: Digest,
    /// The PBKDF2 iteration count.
    pub kdf_iterations: u32,
    /// The PBKDF2 salt.
    pub salt: Salt,
    /// The anchor value.
    pub anchor: MacTag,
    /// When the anchor was created.
    pub created_at: Timestamp,
}

impl Record for ModelAnchor {
    const KIND: &'static str = "model-anchor";
}

impl ModelAnchor {
    /// Recomputes the architecture, hyperparameter and environment digests and the
    /// description digest, and compares them with the stored ones.
    ///
    /// This does not panic.
    ///
    /// # Errors
    ///
    /// [`Error::DigestMismatch`] naming the record kind whose digest differs; encoding errors
    /// as [`record_digest`].
    pub fn verify_inputs(
        &self,
        policy: &Policy,
        architecture: &ModelArchitecture,
        hyperparameters: &Map<String, Value>,
        environment: &TrainingEnvironment,
    ) -> Result<(), Error> {
        let d = &self.description;
        check(
            ModelArchitecture::KIND,
            d.architecture_fingerprint,
            architecture.digest(policy)?,
        )?;
        check(
            HYPERPARAMETERS_KIND,
            d.hyperparameters_digest,
            hyperparameters_digest(policy, hyperparameters)?,
        )?;
        check(
            TrainingEnvironment::KIND,
            d.environment_digest,
            environment.digest(policy)?,
        )?;
        check(
            ModelDescription::KIND,
            self.description_digest,
            d.digest(policy)?,
        )
    }
}

fn check(record: &'static str, stored: Digest, recomputed: Digest) -> Result<(), Error> {
    if stored == recomputed {
        Ok(())
    } else {
        Err(Error::DigestMismatch {
            record,
            stored,
            recomputed,
        })
    }
}

/// The error of a parameter fingerprint over no tensors, whichever way it is built.
fn no_tensors() -> Error {
    Error::InvalidField {
        record: "parameter-fingerprint",
        field: "tensors",
        expected: "at least one tensor",
        actual: "none".to_owned(),
    }
}

#[cfg(test)]
mod tests;
