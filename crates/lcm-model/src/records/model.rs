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
        if self.model_type.is_empty() {
            return Err(Error::EmptyField {
                record: Self::KIND,
                field: "type",
            });
        }
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
        if self.framework.is_empty() {
            return Err(Error::EmptyField {
                record: Self::KIND,
                field: "framework",
            });
        }
        if self.framework_version.is_empty() {
            return Err(Error::EmptyField {
                record: Self::KIND,
                field: "framework_version",
            });
        }
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
        if self.name.is_empty() {
            return Err(Error::EmptyField {
                record: TENSOR_KIND,
                field: "name",
            });
        }
        if self.dtype.is_empty() {
            return Err(Error::EmptyField {
                record: TENSOR_KIND,
                field: "dtype",
            });
        }
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
            return Err(Error::InvalidField {
                record: "parameter-fingerprint",
                field: "tensors",
                expected: "at least one tensor",
                actual: "none".to_owned(),
            });
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

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> Policy {
        Policy::default()
    }

    fn t<'a>(name: &'a str, bytes: &'a [u8]) -> Tensor<'a> {
        Tensor {
            name,
            dtype: "u8",
            shape: &[2],
            bytes,
        }
    }

    #[test]
    fn fingerprint_detects_and_locates_each_change() {
        let a = ParameterFingerprint::compute(&p(), [t("a", &[1, 2]), t("b", &[3, 4])]).unwrap();
        let same = ParameterFingerprint::compute(&p(), [t("b", &[3, 4]), t("a", &[1, 2])]).unwrap();
        assert_eq!(a.root(), same.root());
        assert!(a.diff(&same).is_empty());
        assert_eq!(a.element_count(), 4);

        let changed =
            ParameterFingerprint::compute(&p(), [t("a", &[1, 2]), t("b", &[3, 5])]).unwrap();
        assert_ne!(a.root(), changed.root());
        assert_eq!(a.diff(&changed), vec![TensorChange::Changed("b".into())]);

        let renamed =
            ParameterFingerprint::compute(&p(), [t("a", &[1, 2]), t("c", &[3, 4])]).unwrap();
        assert_eq!(
            a.diff(&renamed),
            vec![
                TensorChange::Removed("b".into()),
                TensorChange::Added("c".into())
            ]
        );

        let i8s = Tensor {
            dtype: "i8",
            ..t("b", &[3, 4])
        };
        let dtype = ParameterFingerprint::compute(&p(), [t("a", &[1, 2]), i8s]).unwrap();
        assert_eq!(a.diff(&dtype), vec![TensorChange::Changed("b".into())]);

        let reshaped = Tensor {
            shape: &[1, 2],
            ..t("b", &[3, 4])
        };
        let shape = ParameterFingerprint::compute(&p(), [t("a", &[1, 2]), reshaped]).unwrap();
        assert_eq!(a.diff(&shape), vec![TensorChange::Changed("b".into())]);

        let blake = Policy {
            hash_algorithm: HashAlgorithm::Blake3,
            ..p()
        };
        let b3 = ParameterFingerprint::compute(&blake, [t("a", &[1, 2]), t("b", &[3, 4])]).unwrap();
        assert_ne!(a.root(), b3.root());
    }

    #[test]
    fn tensor_encoding_is_injective() {
        // Moving a byte between name and dtype, or between shape dims, changes the digest.
        let x = Tensor {
            name: "ab",
            dtype: "c",
            shape: &[2],
            bytes: &[0, 0],
        };
        let y = Tensor {
            name: "a",
            dtype: "bc",
            shape: &[2],
            bytes: &[0, 0],
        };
        assert_ne!(x.digest(&p()).unwrap(), y.digest(&p()).unwrap());
        let s1 = Tensor {
            name: "w",
            dtype: "q4",
            shape: &[1, 6],
            bytes: &[0],
        };
        let s2 = Tensor {
            name: "w",
            dtype: "q4",
            shape: &[6, 1],
            bytes: &[0],
        };
        assert_ne!(s1.digest(&p()).unwrap(), s2.digest(&p()).unwrap());
    }

    #[test]
    fn fingerprint_rejects_bad_tensors() {
        let dup = ParameterFingerprint::compute(&p(), [t("a", &[1, 2]), t("a", &[1, 2])]);
        assert!(
            matches!(dup, Err(Error::InvalidField { field: "name", .. })),
            "{dup:?}"
        );
        let none = ParameterFingerprint::compute(&p(), []);
        assert!(matches!(
            none,
            Err(Error::InvalidField {
                field: "tensors",
                ..
            })
        ));
        let short = ParameterFingerprint::compute(&p(), [t("a", &[1])]);
        assert!(matches!(
            short,
            Err(Error::InvalidField { field: "bytes", .. })
        ));
        let f32s = Tensor {
            name: "w",
            dtype: "f32",
            shape: &[2],
            bytes: &[0; 7],
        };
        assert!(matches!(
            f32s.digest(&p()),
            Err(Error::InvalidField { field: "bytes", .. })
        ));
        let huge = Tensor {
            name: "w",
            dtype: "custom",
            shape: &[u64::MAX, 2],
            bytes: &[],
        };
        assert!(matches!(
            huge.digest(&p()),
            Err(Error::InvalidField { field: "shape", .. })
        ));
        let unnamed = t("", &[1, 2]);
        assert!(matches!(
            unnamed.digest(&p()),
            Err(Error::EmptyField { field: "name", .. })
        ));
        let untyped = Tensor {
            dtype: "",
            ..t("a", &[1, 2])
        };
        assert!(matches!(
            untyped.digest(&p()),
            Err(Error::EmptyField { field: "dtype", .. })
        ));
        // An unknown dtype is hashed without a length check.
        let custom = Tensor {
            name: "q",
            dtype: "q4_0",
            shape: &[32],
            bytes: &[0; 18],
        };
        assert!(custom.digest(&p()).is_ok());
    }

    #[test]
    fn architecture_and_environment() {
        let arch = ModelArchitecture::new("CNN");
        assert!(arch.validate().is_ok());
        assert!(matches!(
            ModelArchitecture::new("").validate(),
            Err(Error::EmptyField { field: "type", .. })
        ));
        let json = serde_json::to_string(&arch).unwrap();
        assert!(json.contains("\"type\":\"CNN\""), "{json}");
        assert_eq!(
            serde_json::from_str::<ModelArchitecture>(&json).unwrap(),
            arch
        );
        assert!(
            serde_json::from_str::<ModelArchitecture>(&json.replace("type", "model_type")).is_err()
        );

        let env = TrainingEnvironment::new("tensorflow", "2.13.0");
        assert!(env.validate().is_ok());
        let e1 = TrainingEnvironment {
            framework: String::new(),
            ..env.clone()
        };
        assert!(matches!(
            e1.validate(),
            Err(Error::EmptyField {
                field: "framework",
                ..
            })
        ));
        let e2 = TrainingEnvironment {
            framework_version: String::new(),
            ..env.clone()
        };
        assert!(matches!(
            e2.validate(),
            Err(Error::EmptyField {
                field: "framework_version",
                ..
            })
        ));

        let d = env.digest(&p()).unwrap();
        for v in [
            TrainingEnvironment {
                cuda_version: Some("11.8".into()),
                ..env.clone()
            },
            TrainingEnvironment {
                python_version: Some("3.11.4".into()),
                ..env.clone()
            },
            TrainingEnvironment {
                os_info: Some("Linux".into()),
                ..env.clone()
            },
            TrainingEnvironment {
                hardware: Some("A100".into()),
                ..env
            },
        ] {
            assert_ne!(v.digest(&p()).unwrap(), d);
        }
    }

    #[test]
    fn verify_inputs_detects_each_substitution() {
        let pol = p();
        let arch = ModelArchitecture::new("CNN");
        let mut hp = Map::new();
        hp.insert("lr".into(), Value::from(0.001));
        let env = TrainingEnvironment::new("tensorflow", "2.13.0");
        let description = ModelDescription {
            model_name: "m".into(),
            version: "v1".into(),
            architecture_fingerprint: arch.digest(&pol).unwrap(),
            hyperparameters_digest: hyperparameters_digest(&pol, &hp).unwrap(),
            environment_digest: env.digest(&pol).unwrap(),
            parameter_fingerprint: None,
            trainer_commit: "abc".into(),
            authorized_datasets: BTreeMap::new(),
        };
        let anchor = ModelAnchor {
            description_digest: description.digest(&pol).unwrap(),
            description,
            kdf_iterations: 100_000,
            salt: Salt::from_bytes([0; 16]),
            anchor: MacTag::from_bytes([0; 32]),
            created_at: Timestamp::from_unix_micros(0),
        };
        anchor.verify_inputs(&pol, &arch, &hp, &env).unwrap();

        // The anchor survives JSON (salt and tag as hex) and parsing is strict.
        let json = serde_json::to_string(&anchor).unwrap();
        assert_eq!(serde_json::from_str::<ModelAnchor>(&json).unwrap(), anchor);
        let extra = json.replacen('{', "{\"model_id\":\"m\",", 1);
        assert!(serde_json::from_str::<ModelAnchor>(&extra).is_err());

        let other_arch = ModelArchitecture {
            total_params: Some(1),
            ..arch.clone()
        };
        let e = anchor.verify_inputs(&pol, &other_arch, &hp, &env);
        assert!(matches!(
            e,
            Err(Error::DigestMismatch {
                record: "model-architecture",
                ..
            })
        ));
        let mut other_hp = hp.clone();
        other_hp.insert("lr".into(), Value::from(0.01));
        let e = anchor.verify_inputs(&pol, &arch, &other_hp, &env);
        assert!(matches!(
            e,
            Err(Error::DigestMismatch {
                record: "hyperparameters",
                ..
            })
        ));
        let other_env = TrainingEnvironment::new("tensorflow", "2.14.0");
        let e = anchor.verify_inputs(&pol, &arch, &hp, &other_env);
        assert!(matches!(
            e,
            Err(Error::DigestMismatch {
                record: "training-environment",
                ..
            })
        ));
        let mut tampered = anchor;
        tampered.description.trainer_commit = "abd".into();
        let e = tampered.verify_inputs(&pol, &arch, &hp, &env);
        assert!(matches!(
            e,
            Err(Error::DigestMismatch {
                record: "model-description",
                ..
            })
        ));
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::default())]

        /// The root ignores the order tensors come in, and one flipped bit anywhere is
        /// located in exactly its tensor.
        #[test]
        fn fingerprint_is_order_free_and_locates_a_flip(
            sizes in proptest::collection::vec(0usize..40, 1..8),
            rotate in 0usize..8,
            pick in 0usize..8,
            bit in 0u8..8,
        ) {
            let p = Policy::default();
            let names: Vec<String> = (0..sizes.len()).map(|i| format!("t{i}")).collect();
            let data: Vec<Vec<u8>> = sizes
                .iter()
                .enumerate()
                .map(|(i, &n)| (0..n).map(|j| u8::try_from((i * 31 + j) % 251).unwrap()).collect())
                .collect();
            let shapes: Vec<[u64; 1]> = sizes.iter().map(|&n| [n as u64]).collect();
            let tensors: Vec<Tensor<'_>> = (0..sizes.len())
                .map(|i| Tensor { name: &names[i], dtype: "u8", shape: &shapes[i], bytes: &data[i] })
                .collect();
            let a = ParameterFingerprint::compute(&p, tensors.iter().copied()).unwrap();
            let mut rotated = tensors.clone();
            rotated.rotate_left(rotate % tensors.len());
            let b = ParameterFingerprint::compute(&p, rotated).unwrap();
            proptest::prop_assert_eq!(a.root(), b.root());

            let i = pick % tensors.len();
            if !data[i].is_empty() {
                let mut flipped = data[i].clone();
                let at = (pick * 7) % flipped.len();
                flipped[at] ^= 1 << bit;
                let mut changed = tensors.clone();
                changed[i] = Tensor { bytes: &flipped, ..tensors[i] };
                let c = ParameterFingerprint::compute(&p, changed).unwrap();
                proptest::prop_assert_ne!(a.root(), c.root());
                proptest::prop_assert_eq!(a.diff(&c), vec![TensorChange::Changed(names[i].clone())]);
            }
        }
    }
}
