//! Safetensors files: the strict header parser and the parameter fingerprint of one file, and
//! of a model sharded over several files by a `*.safetensors.index.json`.

use std::collections::BTreeMap;
use std::path::Path;

use lcm_crypto::HashAlgorithm;
use lcm_model::Policy;
use lcm_model::records::{ParameterFingerprint, Tensor};
use serde::Deserialize;

use super::{Error, MAX_HEADER_LEN};

/// The file-name ending of a sharded model's index (`model.safetensors.index.json`).
pub const INDEX_SUFFIX: &str = ".safetensors.index.json";

/// One entry of a safetensors header.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HeaderEntry {
    dtype: String,
    shape: Vec<u64>,
    data_offsets: [u64; 2],
}

/// The element size of a safetensors dtype and the `lcm` dtype name it maps to.
fn safetensors_dtype(dtype: &str) -> Option<(u64, String)> {
    let size = match dtype {
        "F64" | "I64" | "U64" => 8,
        "F32" | "I32" | "U32" => 4,
        "F16" | "BF16" | "I16" | "U16" => 2,
        "I8" | "U8" | "BOOL" | "F8_E4M3" | "F8_E5M2" => 1,
        _ => return None,
    };
    Some((size, dtype.to_ascii_lowercase()))
}

/// The parameter fingerprint of a `.safetensors` file's bytes, under `policy`.
///
/// Every offset and size is checked: the header length must fit in the file, the header must
/// be a JSON object of known dtypes whose `data_offsets` lie inside the data section, match
/// `shape × element size`, and neither overlap nor leave gaps (as the format requires).
///
/// This does not panic.
///
/// # Errors
///
/// [`Error::Safetensors`] for a malformed file; [`Error::Model`] when the fingerprint
/// refuses the tensors (for example a duplicate name or no tensors at all).
pub fn safetensors_fingerprint(
    policy: &Policy,
    path: &Path,
    bytes: &[u8],
) -> Result<ParameterFingerprint, Error> {
    let bad = |what: String| Error::Safetensors {
        path: path.to_owned(),
        what,
    };
    let (len_bytes, rest) = bytes
        .split_first_chunk::<8>()
        .ok_or_else(|| bad(format!("expected at least 8 bytes, got {}", bytes.len())))?;
    let header_len = u64::from_le_bytes(*len_bytes);
    if header_len > MAX_HEADER_LEN {
        return Err(bad(format!(
            "header length {header_len} exceeds the limit of {MAX_HEADER_LEN} bytes"
        )));
    }
    let header_len = usize::try_from(header_len)
        .map_err(|_| bad(format!("header length {header_len} does not fit in memory")))?;
    let (header, data) = rest.split_at_checked(header_len).ok_or_else(|| {
        bad(format!(
            "header length {header_len} exceeds the {} bytes after the length prefix",
            rest.len()
        ))
    })?;
    let header_map: BTreeMap<String, serde_json::Value> = serde_json::from_slice(header)
        .map_err(|e| bad(format!("header is not a JSON object: {e}")))?;
    // A tensor name given twice would be read as the last entry by one reader and the first
    // by another: refused, as is any inexact number.
    if let Ok(text) = std::str::from_utf8(header) {
        lcm_model::strict::check_json(text).map_err(|e| bad(format!("header: {e}")))?;
    }
    let header = header_map;
    let mut entries = Vec::with_capacity(header.len());
    for (name, value) in header {
        if name == "__metadata__" {
            // Free-form string map; not part of the weights.
            continue;
        }
        let entry: HeaderEntry =
            serde_json::from_value(value).map_err(|e| bad(format!("tensor {name:?}: {e}")))?;
        entries.push((name, entry));
    }
    // Offsets must tile the data section exactly, in offset order.
    let mut by_offset: Vec<usize> = (0..entries.len()).collect();
    by_offset.sort_by_key(|&i| entries.get(i).map(|(_, e)| e.data_offsets));
    let mut expected_start = 0u64;
    let mut dtypes = Vec::with_capacity(entries.len());
    let mut slices = Vec::with_capacity(entries.len());
    for &i in &by_offset {
        let Some((name, e)) = entries.get(i) else {
            continue;
        };
        let [start, end] = e.data_offsets;
        if start != expected_start {
            return Err(bad(format!(
                "tensor {name:?} starts at {start}, expected {expected_start} (gap or overlap)"
            )));
        }
        if end < start {
            return Err(bad(format!(
                "tensor {name:?} ends at {end} before its start {start}"
            )));
        }
        let (size, dtype) = safetensors_dtype(&e.dtype)
            .ok_or_else(|| bad(format!("tensor {name:?}: unknown dtype {:?}", e.dtype)))?;
        let count = e
            .shape
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d))
            .and_then(|c| c.checked_mul(size))
            .ok_or_else(|| bad(format!("tensor {name:?}: shape {:?} overflows", e.shape)))?;
        if end - start != count {
            return Err(bad(format!(
                "tensor {name:?}: {} bytes for shape {:?} and dtype {}, expected {count}",
                end - start,
                e.shape,
                e.dtype
            )));
        }
        let slice = usize::try_from(start)
            .ok()
            .zip(usize::try_from(end).ok())
            .and_then(|(s, t)| data.get(s..t))
            .ok_or_else(|| {
                bad(format!(
                    "tensor {name:?}: bytes {start}..{end} outside the {}-byte data section",
                    data.len()
                ))
            })?;
        dtypes.push((i, dtype));
        slices.push((i, slice));
        expected_start = end;
    }
    if usize::try_from(expected_start).ok() != Some(data.len()) {
        return Err(bad(format!(
            "tensors cover {expected_start} bytes of a {}-byte data section",
            data.len()
        )));
    }
    let dtype_of: BTreeMap<usize, String> = dtypes.into_iter().collect();
    let slice_of: BTreeMap<usize, &[u8]> = slices.into_iter().collect();
    let tensors = entries.iter().enumerate().filter_map(|(i, (name, e))| {
        Some(Tensor {
            name,
            dtype: dtype_of.get(&i)?,
            shape: &e.shape,
            bytes: slice_of.get(&i)?,
        })
    });
    ParameterFingerprint::compute(policy, tensors).map_err(|source| Error::Model {
        path: path.to_owned(),
        source: Box::new(source),
    })
}

/// The index of a sharded safetensors model (`model.safetensors.index.json`): which shard
/// file holds each tensor.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardIndex {
    /// Free-form metadata (for example `total_size`); not part of the weights.
    #[serde(default)]
    pub metadata: serde_json::Map<String, serde_json::Value>,
    /// Tensor name → shard file name (a plain name in the index's directory).
    pub weight_map: BTreeMap<String, String>,
}

impl ShardIndex {
    /// Parses an index file's bytes: a JSON object with `weight_map` (tensor → shard file
    /// name, each a plain file name) and optional `metadata`; no other key, no duplicate key.
    ///
    /// # Examples
    ///
    /// ```
    /// use lcm_store::fingerprint::ShardIndex;
    ///
    /// let index = ShardIndex::parse(
    ///     std::path::Path::new("model.safetensors.index.json"),
    ///     br#"{"metadata":{"total_size":8},"weight_map":{"w":"model-00001-of-00001.safetensors"}}"#,
    /// )?;
    /// assert_eq!(index.shards().len(), 1);
    /// assert!(ShardIndex::parse(std::path::Path::new("i"), br#"{"weight_map":{"w":"../x"}}"#).is_err());
    /// # Ok::<(), lcm_store::fingerprint::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Sharded`] naming what is wrong.
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Self, Error> {
        let bad = |what: String| Error::Sharded {
            index: path.to_owned(),
            what,
        };
        let text = std::str::from_utf8(bytes).map_err(|e| bad(format!("not UTF-8: {e}")))?;
        lcm_model::strict::check_json(text).map_err(|e| bad(e.to_string()))?;
        let index: Self = serde_json::from_str(text).map_err(|e| {
            bad(format!(
                "expected {{\"weight_map\": {{TENSOR: SHARD_FILE}}, \"metadata\": {{...}}}}: {e}"
            ))
        })?;
        if index.weight_map.is_empty() {
            return Err(bad("weight_map names no tensor".to_owned()));
        }
        for (tensor, shard) in &index.weight_map {
            let plain =
                !shard.is_empty() && shard != "." && shard != ".." && !shard.contains(['/', '\\']);
            if !plain {
                return Err(bad(format!(
                    "tensor {tensor:?}: shard {shard:?} is not a file name in the index's directory"
                )));
            }
        }
        Ok(index)
    }

    /// The shard file names, each once, in name order.
    pub fn shards(&self) -> std::collections::BTreeSet<&str> {
        self.weight_map.values().map(String::as_str).collect()
    }

    /// The parameter fingerprint of the whole model: one fingerprint over every tensor the
    /// index names, given each shard's own fingerprint (by shard file name). It equals the
    /// fingerprint of the same tensors in one file.
    ///
    /// # Errors
    ///
    /// [`Error::Sharded`] when a shard the index names is missing from `shards`, a tensor is
    /// not in the shard the index names, or a shard holds a tensor the index does not name;
    /// [`Error::Model`] when the fingerprints use another hash than `algorithm`.
    pub fn fingerprint(
        &self,
        index_path: &Path,
        algorithm: HashAlgorithm,
        shards: &BTreeMap<String, ParameterFingerprint>,
    ) -> Result<ParameterFingerprint, Error> {
        let bad = |what: String| Error::Sharded {
            index: index_path.to_owned(),
            what,
        };
        let mut tensors = BTreeMap::new();
        let mut elements = 0u64;
        for shard in self.shards() {
            let fp = shards
                .get(shard)
                .ok_or_else(|| bad(format!("shard {shard:?} is missing")))?;
            if fp.algorithm() != algorithm {
                return Err(bad(format!(
                    "shard {shard:?} was fingerprinted with {}, not {algorithm}",
                    fp.algorithm()
                )));
            }
            for (name, digest) in fp.tensor_digests() {
                match self.weight_map.get(name) {
                    Some(named) if named == shard => {
                        tensors.insert(name.clone(), *digest);
                    }
                    Some(named) => {
                        return Err(bad(format!(
                            "tensor {name:?} is in shard {shard:?}, but the index places it in {named:?}"
                        )));
                    }
                    None => {
                        return Err(bad(format!(
                            "shard {shard:?} holds tensor {name:?}, which the index does not name"
                        )));
                    }
                }
            }
            elements = elements.saturating_add(fp.element_count());
        }
        if let Some((name, shard)) = self
            .weight_map
            .iter()
            .find(|(name, _)| !tensors.contains_key(*name))
        {
            return Err(bad(format!(
                "tensor {name:?} is not in shard {shard:?}, where the index places it"
            )));
        }
        ParameterFingerprint::from_tensor_digests(algorithm, tensors, elements).map_err(|source| {
            Error::Model {
                path: index_path.to_owned(),
                source: Box::new(source),
            }
        })
    }
}

/// [`safetensors_fingerprint`] of the file at `path`, read whole into memory.
pub(super) fn safetensors_file_fingerprint(
    policy: &Policy,
    path: &Path,
) -> Result<ParameterFingerprint, Error> {
    let bytes = std::fs::read(path).map_err(super::io_err(path))?;
    safetensors_fingerprint(policy, path, &bytes)
}

/// The parameter fingerprint of a sharded model from its index file alone: the index is
/// read, and each shard it names is read from the index's directory and fingerprinted, one
/// at a time (memory: the largest shard).
///
/// # Errors
///
/// As [`ShardIndex::parse`] and [`ShardIndex::fingerprint`]; [`Error::Sharded`] for a shard
/// that cannot be read; as [`safetensors_fingerprint`] for a malformed shard.
pub fn sharded_fingerprint(
    policy: &Policy,
    index_path: &Path,
) -> Result<ParameterFingerprint, Error> {
    let bytes = std::fs::read(index_path).map_err(super::io_err(index_path))?;
    let index = ShardIndex::parse(index_path, &bytes)?;
    let dir = index_path.parent().unwrap_or_else(|| Path::new("."));
    let mut shards = BTreeMap::new();
    for shard in index.shards() {
        let path = dir.join(shard);
        let bytes = std::fs::read(&path).map_err(|e| Error::Sharded {
            index: index_path.to_owned(),
            what: format!("shard {shard:?} is missing or unreadable: {e}"),
        })?;
        shards.insert(
            shard.to_owned(),
            safetensors_fingerprint(policy, &path, &bytes)?,
        );
    }
    index.fingerprint(index_path, policy.hash_algorithm, &shards)
}
