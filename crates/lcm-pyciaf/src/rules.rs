//! The reference's rules: pure functions from the reference's inputs to its digests, re-exported
//! at the crate root (see the [crate docs](crate)).

mod json;
mod printable;

use lcm_crypto::{Digest, HashAlgorithm, MacKey, hash, hex};

use crate::tree::{DuplicateLastTree, empty_root};

use self::json::{Separators, Value};

/// The reference's PBKDF2 iteration count (`PBKDF2_ITERATIONS`).
pub const PBKDF2_ITERATIONS: u32 = 100_000;

/// What the reference's batch roots return for no receipts.
pub const EMPTY_BATCH: &str = "empty_batch";

/// Why a value could not be reproduced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input is not JSON that Python's `json.loads` reads.
    #[error("expected {expected} at byte {offset} of the JSON input, got {actual}")]
    Json {
        /// The byte offset of the problem.
        offset: usize,
        /// What was expected there.
        expected: &'static str,
        /// What was found.
        actual: String,
    },
    /// An integer longer than Python's default conversion limit (Python raises `ValueError`).
    #[error("expected an integer of at most {limit} digits, got {digits} digits")]
    IntTooLong {
        /// Python's limit (4300).
        limit: usize,
        /// The digits in the input.
        digits: usize,
    },
    /// Arrays and objects nested deeper than the parser allows.
    #[error("expected JSON nested at most {limit} levels deep, got deeper")]
    TooDeep {
        /// The limit.
        limit: usize,
    },
    /// A Merkle leaf that is not hex text of whole bytes (`bytes.fromhex` fails on it).
    #[error("expected hex text of whole bytes in Merkle leaf {index}, got {actual:?}")]
    LeafHex {
        /// The leaf's position.
        index: usize,
        /// The leaf as given.
        actual: String,
    },
    /// An unknown commitment kind.
    #[error(r#"expected commitment kind "plaintext", "salted" or "HMAC-SHA256", got {actual:?}"#)]
    CommitmentKind {
        /// The kind given.
        actual: String,
    },
    /// Text with a lone surrogate where the reference encodes it as UTF-8 (Python raises
    /// `UnicodeEncodeError`).
    #[error("expected text without lone surrogates in {what}")]
    LoneSurrogate {
        /// Which value.
        what: &'static str,
    },
    /// A record field that is missing or has the wrong type.
    #[error("expected {expected} for {field}, got {actual}")]
    Field {
        /// The field.
        field: &'static str,
        /// What the reference's model requires.
        expected: &'static str,
        /// What came (a Python type name, or "nothing").
        actual: &'static str,
    },
}

fn sha256_hex(data: &[u8]) -> String {
    hash(HashAlgorithm::Sha256, data).to_hex()
}

/// HMAC-SHA256 with any key, as Python's `hmac.new` (which accepts the empty key).
fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    // RFC 2104 pads a key shorter than a block with zeros, so the empty key and the key 0x00
    // are the same key. `MacKey` refuses empty keys (a native safety rule); the reference
    // allows them.
    let key = if key.is_empty() { &[0u8][..] } else { key };
    let mac = MacKey::new(HashAlgorithm::Sha256, key)
        .expect("MacKey::new fails only for an empty key or a BLAKE3 key, and this is neither");
    *mac.mac(msg).as_bytes()
}

/// `canonical_json(x)`: the reference's canonical JSON of the value `input_json` denotes.
///
/// # Errors
///
/// [`Error::Json`] when `input_json` is not JSON as Python reads it, [`Error::IntTooLong`] and
/// [`Error::TooDeep`] where Python fails too.
pub fn canonical_json(input_json: &str) -> Result<String, Error> {
    Ok(json::dumps(&json::parse(input_json)?, Separators::Compact))
}

/// `canonical_hash(x)`: SHA-256 of [`canonical_json`], as lowercase hex.
///
/// # Errors
///
/// As [`canonical_json`].
pub fn canonical_hash(input_json: &str) -> Result<String, Error> {
    Ok(sha256_hex(canonical_json(input_json)?.as_bytes()))
}

fn value_hash(value: &Value) -> String {
    sha256_hex(json::dumps(value, Separators::Compact).as_bytes())
}

/// Python's `bytes.fromhex`: pairs of hex digits in either case, ASCII whitespace allowed
/// between pairs.
fn from_hex(s: &str) -> Option<Vec<u8>> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len() / 2);
    let mut i = 0;
    loop {
        while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)) {
            i += 1;
        }
        let Some(&hi) = b.get(i) else {
            return Some(out);
        };
        let lo = *b.get(i + 1)?;
        out.push((nibble(hi)? << 4) | nibble(lo)?);
        i += 2;
    }
}

/// The reference's `MerkleTree(leaves).root`: leaves are hex text used as given (not hashed
/// again), a node is `SHA-256(bytes.fromhex(left) || bytes.fromhex(right))`, an odd level pairs
/// its last node with itself. One leaf is its own root, returned **as given** (even if it is
/// not hex, as in the reference); no leaves give `SHA-256("empty_tree")`.
///
/// **Insecure** (see [`crate::tree`]): `[a, b, c]` and `[a, b, c, c]` have the same
/// root, and so do `[a, b, c, d]` and `[H(a||b), H(c||d)]`.
///
/// # Errors
///
/// [`Error::LeafHex`] when there are two or more leaves and one is not hex text of whole bytes
/// (Python's `bytes.fromhex` raises `ValueError`).
pub fn merkle_root(leaves_hex: &[&str]) -> Result<String, Error> {
    match leaves_hex {
        [] => return Ok(empty_root().to_hex()),
        [one] => return Ok((*one).to_owned()),
        _ => {}
    }
    let raw = leaves_hex
        .iter()
        .enumerate()
        .map(|(index, leaf)| {
            from_hex(leaf).ok_or_else(|| Error::LeafHex {
                index,
                actual: (*leaf).to_owned(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let digests: Option<Vec<Digest>> = raw.iter().map(|r| Digest::try_from_slice(r).ok()).collect();
    let level = match digests {
        // Every leaf is 32 bytes: the legacy tree does it all.
        Some(d) => d,
        // Leaves of other lengths (the reference accepts any): pair the first level here; every
        // level above it holds 32-byte digests, which the legacy tree pairs the same way.
        None => raw
            .chunks(2)
            .map(|pair| {
                let (l, r) = match pair {
                    [l, r] => (l, r),
                    [l] => (l, l),
                    _ => (&raw[0], &raw[0]),
                };
                hash(
                    HashAlgorithm::Sha256,
                    &[l.as_slice(), r.as_slice()].concat(),
                )
            })
            .collect(),
    };
    Ok(DuplicateLastTree::from_leaves(level).root().to_hex())
}

/// `derive_master_anchor(password, salt)`: PBKDF2-HMAC-SHA256 over the UTF-8 password, 100,000
/// iterations, 32 bytes (`hashlib.pbkdf2_hmac("sha256", password, salt, 100000, dklen=32)`,
/// computed by the `RustCrypto` `pbkdf2` crate). As `hashlib` does, it accepts an empty password
/// and a salt of any length, which the native `lcm_crypto::MasterKey` refuses.
///
/// The result is secret key material, returned as plain bytes because the reference's other
/// rules ([`hmac_anchor`]) take it as a key; zeroize it when done.
pub fn master_anchor(password: &str, salt: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), salt, PBKDF2_ITERATIONS, &mut out);
    out
}

/// The reference's anchor rule, `bytes.fromhex(HMAC-SHA256(key, utf8(digest_hex)))`: the MAC
/// of the digest's **hex text** (64 ASCII bytes), not of its 32 raw bytes. It is
/// `derive_dataset_anchor` and `derive_model_anchor` (key: the master anchor),
/// `derive_capsule_anchor` (key: a dataset anchor, message: a capsule id) and
/// `derive_anchor_from_master` (key: the UTF-8 password itself, message: a dataset id).
pub fn hmac_anchor(key: &[u8], digest_hex: &str) -> [u8; 32] {
    hmac_sha256(key, digest_hex.as_bytes())
}

/// `create_commitment(data, kind, anchor, rng)` with a fixed salt or key:
///
/// - `"plaintext"`: Python's `str(data)` (a dict prints as `{'a': 1}`, in input order);
/// - `"salted"`: `sha256(salt || utf8(s)).hex()[:16] + "..."`;
/// - `"HMAC-SHA256"`: `HMAC-SHA256(key, utf8(s)).hex()[:16] + "..."`;
///
/// where `s` is the data itself if it is a string, else `json.dumps(data, sort_keys=True)`
/// with the default separators `", "` and `": "`. `salt_or_key` is ignored for `"plaintext"`.
///
/// The reference draws the salt at random and throws it away, so a salted commitment it made
/// can be recomputed only by whoever kept the salt; and 16 hex characters are 64 bits.
///
/// # Errors
///
/// [`Error::CommitmentKind`] for another kind, [`canonical_json`]'s errors for the data, and
/// [`Error::LoneSurrogate`] when the committed text holds a lone surrogate.
pub fn commitment(kind: &str, data_json: &str, salt_or_key: &[u8]) -> Result<String, Error> {
    let data = json::parse(data_json)?;
    let text = || -> Result<String, Error> {
        match &data {
            Value::Str(s) => json::to_string(s).ok_or(Error::LoneSurrogate {
                what: "the committed data",
            }),
            other => Ok(json::dumps(other, Separators::Default)),
        }
    };
    let tag = match kind {
        "plaintext" => {
            return json::python_str(&data).ok_or(Error::LoneSurrogate {
                what: "the plaintext commitment",
            });
        }
        "salted" => hash(
            HashAlgorithm::Sha256,
            &[salt_or_key, text()?.as_bytes()].concat(),
        )
        .to_hex(),
        "HMAC-SHA256" => hex::encode(&hmac_sha256(salt_or_key, text()?.as_bytes())),
        other => {
            return Err(Error::CommitmentKind {
                actual: other.to_owned(),
            });
        }
    };
    Ok(format!("{}...", &tag[..16]))
}

/// The reference's display ids: `prefix + digest_hex[:8] + "..."` (`"d_f_"`, `"m_"`, `"r_"`,
/// …, and `"d_s_<split>_"`). Records carry these 32-bit ids as references.
pub fn display_id(prefix: &str, digest_hex: &str) -> String {
    let cut = digest_hex
        .char_indices()
        .nth(8)
        .map_or(digest_hex.len(), |(i, _)| i);
    format!("{prefix}{}...", &digest_hex[..cut])
}

/// `compute_split_assignment_digest(record_ids, salt)`: the ids sorted (code-point order), each
/// replaced by `sha256(salt || utf8(id)).hex()` when a non-empty salt is given, then
/// `sha256(utf8("".join(items)))`. There is no separator, so `["ab", "c"]` and `["a", "bc"]`
/// collide.
pub fn split_assignment_digest(record_ids: &[&str], salt: Option<&[u8]>) -> String {
    let mut ids: Vec<&str> = record_ids.to_vec();
    ids.sort_unstable();
    let joined: String = match salt {
        Some(salt) if !salt.is_empty() => ids
            .iter()
            .map(|id| hash(HashAlgorithm::Sha256, &[salt, id.as_bytes()].concat()).to_hex())
            .collect(),
        _ => ids.concat(),
    };
    sha256_hex(joined.as_bytes())
}

/// A field of a metadata object, with the reference model's default when it is absent.
fn field(obj: &Value, name: &'static str, default: Option<Value>) -> Result<Value, Error> {
    match obj.get(name) {
        Some(v) => Ok(v.clone()),
        None => default.ok_or(Error::Field {
            field: name,
            expected: "a value (the field is required)",
            actual: "nothing",
        }),
    }
}

fn object(input_json: &str, what: &'static str) -> Result<Value, Error> {
    let v = json::parse(input_json)?;
    match v {
        Value::Dict(_) => Ok(v),
        other => Err(Error::Field {
            field: what,
            expected: "a JSON object",
            actual: other.type_name(),
        }),
    }
}

fn dict(items: Vec<(&str, Value)>) -> Value {
    Value::Dict(
        items
            .into_iter()
            .map(|(k, v)| (k.chars().map(u32::from).collect(), v))
            .collect(),
    )
}

/// The anchor rule shared by families and splits: `sha256(tag || utf8(canon(meta)) ||
/// utf8(content_root))`, with no separators between the parts.
fn tagged_anchor(tag: &[u8], meta: &Value, content_root: &str) -> String {
    let canon = json::dumps(meta, Separators::Compact);
    hash(
        HashAlgorithm::Sha256,
        &[tag, canon.as_bytes(), content_root.as_bytes()].concat(),
    )
    .to_hex()
}

/// `LCMDatasetFamilyAnchor.family_anchor`: `sha256(b"CIAF|dataset|family" ||
/// utf8(canon(meta7)) || utf8(dataset_content_root))`, where `meta7` holds `name`, `version`,
/// `owner`, `license`, `description` (default `""`), `contains_pii` (default `false`) and
/// `privacy_level` (default `"public"`) of `metadata_json` (a `DatasetFamilyMetadata`); its
/// other fields (`tags`, `creation_date`, `compliance_frameworks`) are not hashed.
/// Its display id is [`display_id`]`("d_f_", anchor)`.
///
/// # Errors
///
/// JSON errors, and [`Error::Field`] when the metadata is not an object or lacks `name`,
/// `version`, `owner` or `license`.
pub fn family_anchor(metadata_json: &str, dataset_content_root: &str) -> Result<String, Error> {
    let m = object(metadata_json, "the family metadata")?;
    let meta = dict(vec![
        ("name", field(&m, "name", None)?),
        ("version", field(&m, "version", None)?),
        ("owner", field(&m, "owner", None)?),
        ("license", field(&m, "license", None)?),
        (
            "description",
            field(&m, "description", Some(Value::str("")))?,
        ),
        (
            "contains_pii",
            field(&m, "contains_pii", Some(Value::Bool(false)))?,
        ),
        (
            "privacy_level",
            field(&m, "privacy_level", Some(Value::str("public")))?,
        ),
    ]);
    Ok(tagged_anchor(
        b"CIAF|dataset|family",
        &meta,
        dataset_content_root,
    ))
}

/// `LCMDatasetSplitAnchor.split_anchor`: `sha256(b"CIAF|dataset|split" || utf8(canon(meta)) ||
/// utf8(split_content_root))` with `meta = {"dataset_id", "split": split_name, "rules":
/// split_selection_rules, "stats": split_stats, "rng_seed", "rng_source", "stratify_by",
/// "split_assignment_digest"}` from `split_metadata_json` (a `SplitMetadata`; absent optional
/// fields take the model's defaults `{}` and `null`). Its display id is
/// [`display_id`]`("d_s_<split>_", anchor)`.
///
/// # Errors
///
/// JSON errors, and [`Error::Field`] when the metadata is not an object or lacks `dataset_id`
/// or `split_name`.
pub fn split_anchor(split_metadata_json: &str, split_content_root: &str) -> Result<String, Error> {
    let m = object(split_metadata_json, "the split metadata")?;
    let empty = || Some(Value::Dict(Vec::new()));
    let meta = dict(vec![
        ("dataset_id", field(&m, "dataset_id", None)?),
        ("split", field(&m, "split_name", None)?),
        ("rules", field(&m, "split_selection_rules", empty())?),
        ("stats", field(&m, "split_stats", empty())?),
        ("rng_seed", field(&m, "rng_seed", Some(Value::Null))?),
        ("rng_source", field(&m, "rng_source", Some(Value::Null))?),
        ("stratify_by", field(&m, "stratify_by", Some(Value::Null))?),
        (
            "split_assignment_digest",
            field(&m, "split_assignment_digest", Some(Value::Null))?,
        ),
    ]);
    Ok(tagged_anchor(
        b"CIAF|dataset|split",
        &meta,
        split_content_root,
    ))
}

/// A list of strings, sorted by code point (Python's `sorted` of a `List[str]`).
fn sorted_strings(v: Value, name: &'static str) -> Result<Value, Error> {
    let Value::List(mut items) = v else {
        return Err(Error::Field {
            field: name,
            expected: "a list of strings",
            actual: v.type_name(),
        });
    };
    let mut keys = Vec::with_capacity(items.len());
    for item in &items {
        match item {
            Value::Str(s) => keys.push(s.clone()),
            other => {
                return Err(Error::Field {
                    field: name,
                    expected: "a list of strings",
                    actual: other.type_name(),
                });
            }
        }
    }
    keys.sort();
    items = keys.into_iter().map(Value::Str).collect();
    Ok(Value::List(items))
}

/// `LCMDatasetAnchor.dataset_hash`: the canonical hash of `{dataset_id, split, name, owner,
/// license, schema_digest, sampling_rules, version, content_root, contains_pii, privacy_level,
/// compliance_frameworks (sorted), tags (sorted), rng_seed, rng_source, stratify_by,
/// split_assignment_digest}`, taken from `metadata_json` (a `DatasetMetadata`, whose defaults
/// fill absent fields) and the arguments. `split` is the split's value (`"train"`, `"val"`,
/// `"test"` or `"full"`). The dataset anchor is then [`hmac_anchor`]`(master_anchor,
/// dataset_hash)`, displayed as `t_`/`v_`/`x_`/`f_` plus 8 hex.
///
/// # Errors
///
/// JSON errors, and [`Error::Field`] when the metadata is not an object, lacks `name`, or
/// holds a non-string in `tags` or `compliance_frameworks`.
pub fn dataset_hash(dataset_id: &str, split: &str, metadata_json: &str) -> Result<String, Error> {
    let m = object(metadata_json, "the dataset metadata")?;
    let s = |t: &str| Some(Value::str(t));
    let list = || Some(Value::List(Vec::new()));
    let d = dict(vec![
        ("dataset_id", Value::str(dataset_id)),
        ("split", Value::str(split)),
        ("name", field(&m, "name", None)?),
        ("owner", field(&m, "owner", s("unknown"))?),
        ("license", field(&m, "license", s("unknown"))?),
        ("schema_digest", field(&m, "schema_digest", s(""))?),
        (
            "sampling_rules",
            field(&m, "sampling_rules", Some(Value::Dict(Vec::new())))?,
        ),
        ("version", field(&m, "version", s("1.0.0"))?),
        ("content_root", field(&m, "content_root", s(""))?),
        (
            "contains_pii",
            field(&m, "contains_pii", Some(Value::Bool(false)))?,
        ),
        ("privacy_level", field(&m, "privacy_level", s("public"))?),
        (
            "compliance_frameworks",
            sorted_strings(
                field(&m, "compliance_frameworks", list())?,
                "compliance_frameworks",
            )?,
        ),
        ("tags", sorted_strings(field(&m, "tags", list())?, "tags")?),
        ("rng_seed", field(&m, "rng_seed", Some(Value::Null))?),
        ("rng_source", field(&m, "rng_source", Some(Value::Null))?),
        ("stratify_by", field(&m, "stratify_by", Some(Value::Null))?),
        (
            "split_assignment_digest",
            field(&m, "split_assignment_digest", Some(Value::Null))?,
        ),
    ]);
    Ok(value_hash(&d))
}

/// The digests of an `LCMModelAnchor` (all lowercase hex).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ModelDigests {
    /// `canonical_hash({"hyperparameters", "total_params", "architecture_type"})` (not the
    /// weights).
    pub params_root: String,
    /// `canonical_hash(architecture.to_dict())`.
    pub arch_root: String,
    /// `canonical_hash(hyperparameters)`.
    pub hp_digest: String,
    /// `canonical_hash(environment.to_dict())`.
    pub env_digest: String,
    /// `canonical_hash({model_name, version, params_root, arch_root, hp_digest, env_digest,
    /// trainer_commit, authorized_datasets (sorted)})`; the model anchor is
    /// [`hmac_anchor`]`(master_anchor, model_hash)`.
    pub model_hash: String,
}

/// The inputs of [`model_digests`], as the reference's `LCMModelAnchor` constructor takes them.
#[derive(Debug, Clone, Copy)]
pub struct ModelInputs<'a> {
    /// `model_name`.
    pub model_name: &'a str,
    /// `version`.
    pub version: &'a str,
    /// A `ModelArchitecture` as JSON: `type` (required), `layers`, `input_dim`, `output_dim`,
    /// `total_params`.
    pub architecture_json: &'a str,
    /// The hyperparameters object as JSON.
    pub hyperparameters_json: &'a str,
    /// A `TrainingEnvironment` as JSON: `framework` and `framework_version` (required),
    /// `python_version`, `cuda_version`, `os_info`, `hardware`, `dependencies`. The reference
    /// fills `python_version` and `os_info` from its host; give the values it recorded.
    pub environment_json: &'a str,
    /// `trainer_commit` (the reference's default is `"unknown"`).
    pub trainer_commit: &'a str,
    /// `authorized_datasets` (sorted before hashing).
    pub authorized_datasets: &'a [&'a str],
}

/// The reference's model digests (`LCMModelAnchor`, section 3.3).
///
/// # Errors
///
/// JSON errors, and [`Error::Field`] when an object is not an object or lacks a required field.
pub fn model_digests(inputs: &ModelInputs<'_>) -> Result<ModelDigests, Error> {
    let arch = object(inputs.architecture_json, "the architecture")?;
    let hp = json::parse(inputs.hyperparameters_json)?;
    let env = object(inputs.environment_json, "the environment")?;
    let null = || Some(Value::Null);
    let arch_type = field(&arch, "type", None)?;
    let total_params = field(&arch, "total_params", null())?;
    let arch_dict = dict(vec![
        ("type", arch_type.clone()),
        (
            "layers",
            field(&arch, "layers", Some(Value::List(Vec::new())))?,
        ),
        ("input_dim", field(&arch, "input_dim", null())?),
        ("output_dim", field(&arch, "output_dim", null())?),
        ("total_params", total_params.clone()),
    ]);
    let s = |t: &str| Some(Value::str(t));
    let env_dict = dict(vec![
        ("python_version", field(&env, "python_version", s(""))?),
        ("framework", field(&env, "framework", None)?),
        ("framework_version", field(&env, "framework_version", None)?),
        ("cuda_version", field(&env, "cuda_version", null())?),
        ("os_info", field(&env, "os_info", s(""))?),
        ("hardware", field(&env, "hardware", s(""))?),
        (
            "dependencies",
            field(&env, "dependencies", Some(Value::Dict(Vec::new())))?,
        ),
    ]);
    let params_root = value_hash(&dict(vec![
        ("hyperparameters", hp.clone()),
        ("total_params", total_params),
        ("architecture_type", arch_type),
    ]));
    let arch_root = value_hash(&arch_dict);
    let hp_digest = value_hash(&hp);
    let env_digest = value_hash(&env_dict);
    let mut authorized: Vec<&str> = inputs.authorized_datasets.to_vec();
    authorized.sort_unstable();
    let model_hash = value_hash(&dict(vec![
        ("model_name", Value::str(inputs.model_name)),
        ("version", Value::str(inputs.version)),
        ("params_root", Value::str(&params_root)),
        ("arch_root", Value::str(&arch_root)),
        ("hp_digest", Value::str(&hp_digest)),
        ("env_digest", Value::str(&env_digest)),
        ("trainer_commit", Value::str(inputs.trainer_commit)),
        (
            "authorized_datasets",
            Value::List(authorized.into_iter().map(Value::str).collect()),
        ),
    ]));
    Ok(ModelDigests {
        params_root,
        arch_root,
        hp_digest,
        env_digest,
        model_hash,
    })
}

/// `get_training_session_root()`: [`merkle_root`] of `[model_hash, datasets_root_anchor,
/// snapshot_merkle_root]`. It commits to none of the session's id, config, checkpoints,
/// metrics or times.
///
/// # Errors
///
/// As [`merkle_root`] (a non-hex `datasets_root_anchor` fails, as in the reference).
pub fn training_session_root(
    model_hash: &str,
    datasets_root_anchor: &str,
    snapshot_merkle_root: &str,
) -> Result<String, Error> {
    merkle_root(&[model_hash, datasets_root_anchor, snapshot_merkle_root])
}

/// `TestEvaluationAnchor.test_metrics_digest` when the caller gives none:
/// `canonical_hash({"metrics", "test_dataset_ref", "evaluation_type"})`, where every metric is
/// a Python `float` (pydantic turns `1000` into `1000.0`, which changes the text).
///
/// # Errors
///
/// JSON errors, and [`Error::Field`] when the metrics are not an object of numbers.
pub fn test_metrics_digest(
    metrics_json: &str,
    test_dataset_ref: &str,
    evaluation_type: &str,
) -> Result<String, Error> {
    let Value::Dict(items) = object(metrics_json, "the metrics")? else {
        return Err(Error::Field {
            field: "the metrics",
            expected: "a JSON object",
            actual: "another value",
        });
    };
    let mut metrics = Vec::with_capacity(items.len());
    for (k, v) in items {
        let f = match v {
            Value::Float(f) => f,
            // Python's float(int) rounds correctly, as Rust's parser does.
            Value::Int(t) => t.parse::<f64>().unwrap_or(f64::INFINITY),
            other => {
                return Err(Error::Field {
                    field: "metrics",
                    expected: "numbers",
                    actual: other.type_name(),
                });
            }
        };
        metrics.push((k, Value::Float(f)));
    }
    Ok(value_hash(&dict(vec![
        ("metrics", Value::Dict(metrics)),
        ("test_dataset_ref", Value::str(test_dataset_ref)),
        ("evaluation_type", Value::str(evaluation_type)),
    ])))
}

/// `compute_release_root(tsr, pre, dep, te)`: [`merkle_root`] of `[training_session_root,
/// predeployment_hash, deployment_hash, test_metrics_digest]`.
///
/// # Errors
///
/// As [`merkle_root`].
pub fn release_root(
    training_session_root: &str,
    predeployment_hash: &str,
    deployment_hash: &str,
    test_metrics_digest: &str,
) -> Result<String, Error> {
    merkle_root(&[
        training_session_root,
        predeployment_hash,
        deployment_hash,
        test_metrics_digest,
    ])
}

/// The fields of an `LCMInferenceReceipt` that its digest covers.
#[derive(Debug, Clone, Copy)]
pub struct ReceiptFields<'a> {
    /// `receipt_id`.
    pub receipt_id: &'a str,
    /// `model_anchor_ref` (in the reference, a truncated display id).
    pub model_anchor_ref: &'a str,
    /// `deployment_anchor_ref` (likewise).
    pub deployment_anchor_ref: &'a str,
    /// `request_id`.
    pub request_id: &'a str,
    /// The input commitment's value.
    pub input_commitment: &'a str,
    /// The output commitment's value.
    pub output_commitment: &'a str,
    /// `explanation_digests` (`None` in the reference becomes `[]`).
    pub explanation_digests: &'a [&'a str],
    /// `timestamp`, `datetime.now().isoformat()` (local, naive).
    pub timestamp: &'a str,
}

/// `LCMInferenceReceipt.receipt_digest`: the canonical hash of the eight [`ReceiptFields`]. It
/// does **not** include the previous connections digest; the chain lives only in
/// [`connections_digest`].
pub fn receipt_digest(fields: &ReceiptFields<'_>) -> String {
    value_hash(&dict(vec![
        ("receipt_id", Value::str(fields.receipt_id)),
        ("model_anchor_ref", Value::str(fields.model_anchor_ref)),
        (
            "deployment_anchor_ref",
            Value::str(fields.deployment_anchor_ref),
        ),
        ("request_id", Value::str(fields.request_id)),
        ("input_commitment", Value::str(fields.input_commitment)),
        ("output_commitment", Value::str(fields.output_commitment)),
        (
            "explanation_digests",
            Value::List(
                fields
                    .explanation_digests
                    .iter()
                    .map(|d| Value::str(d))
                    .collect(),
            ),
        ),
        ("timestamp", Value::str(fields.timestamp)),
    ]))
}

/// `LCMInferenceReceipt.connections_digest`: `sha256(utf8(receipt_digest))` without a previous
/// digest (`None` or empty, Python's falsy values), else
/// `sha256(utf8(prev + "||" + receipt_digest))`.
pub fn connections_digest(prev_connections_digest: Option<&str>, receipt_digest: &str) -> String {
    match prev_connections_digest {
        Some(prev) if !prev.is_empty() => {
            sha256_hex(format!("{prev}||{receipt_digest}").as_bytes())
        }
        _ => sha256_hex(receipt_digest.as_bytes()),
    }
}

/// `compute_inference_batch_root(window, receipt_digests)`: [`EMPTY_BATCH`] for no receipts,
/// else [`merkle_root`] of the receipt digests (not of the connections digests).
///
/// # Errors
///
/// As [`merkle_root`].
pub fn batch_root(receipt_digests: &[&str]) -> Result<String, Error> {
    if receipt_digests.is_empty() {
        return Ok(EMPTY_BATCH.to_owned());
    }
    merkle_root(receipt_digests)
}

/// `add_samples_to_split`'s sample hash: `sha256(utf8(json.dumps(sample, sort_keys=True)))`,
/// with the **default** separators `", "` and `": "`.
///
/// # Errors
///
/// As [`canonical_json`].
pub fn sample_hash(sample_json: &str) -> Result<String, Error> {
    let v = json::parse(sample_json)?;
    Ok(sha256_hex(json::dumps(&v, Separators::Default).as_bytes()))
}

/// `LCMDeploymentAnchor.intent_to_actual_digest`: `sha256(utf8(predeployment_hash + "||" +
/// deployment_hash))`.
pub fn intent_to_actual_digest(predeployment_hash: &str, deployment_hash: &str) -> String {
    sha256_hex(format!("{predeployment_hash}||{deployment_hash}").as_bytes())
}

/// `LCMPolicy.policy_digest()` for a policy whose fields are the defaults except `domains`
/// (the `DomainType` values, e.g. `"CIAF|model"`) and `commitments` (`"salted"`,
/// `"HMAC-SHA256"` or `"plaintext"`): `canonical_hash(to_dict())`. The reference never embeds
/// this digest anywhere.
pub fn policy_digest(domains: &[&str], commitments: &str) -> String {
    let merkle = dict(vec![
        ("fanout", Value::Int("2".to_owned())),
        ("padding", Value::str("duplicate_last")),
        ("leaf_encoding", Value::str("raw32")),
    ]);
    value_hash(&dict(vec![
        ("hash", Value::str("SHA-256")),
        ("canon", Value::str("json(sorted,utf-8)")),
        (
            "domains",
            Value::List(domains.iter().map(|d| Value::str(d)).collect()),
        ),
        ("merkle", merkle),
        ("commitments", Value::str(commitments)),
        ("anchor_schema_version", Value::str("1.0")),
        ("merkle_policy_version", Value::str("1.0")),
    ]))
}
