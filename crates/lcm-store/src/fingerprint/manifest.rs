//! Manifests: a fingerprint with every file's digest and every safetensors tensor's digest,
//! saved as JSON, checked when read back, and compared ([`Manifest::diff`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use lcm_crypto::{Digest, DomainHasher, HashAlgorithm};
use lcm_model::Policy;
use lcm_model::records::{ParameterFingerprint, TensorChange};
use serde::{Deserialize, Serialize};

use super::safetensors::{
    INDEX_SUFFIX, ShardIndex, safetensors_file_fingerprint, sharded_fingerprint,
};
use super::{DIRECTORY_DOMAIN, Error, hash_file, io_err, walk};

/// The `format` of a manifest document.
pub const MANIFEST_FORMAT: &str = "lcm-fingerprint-manifest/v1";

/// What a manifest describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Kind {
    /// One file: `digest` is the plain hash of its bytes.
    File,
    /// A directory: `digest` is the directory digest over its files (module docs).
    Directory,
}

/// The parameter fingerprint of one safetensors file, or of a sharded model (on its index
/// file's entry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parameters {
    /// The Merkle root over the tensor digests in name order.
    pub root: Digest,
    /// The total number of elements.
    pub elements: u64,
    /// Each tensor's digest, by name.
    pub tensors: BTreeMap<String, Digest>,
}

impl Parameters {
    fn of(fp: &ParameterFingerprint) -> Self {
        Self {
            root: fp.root(),
            elements: fp.element_count(),
            tensors: fp.tensor_digests().clone(),
        }
    }

    /// The fingerprint these digests make, its root recomputed.
    fn fingerprint(&self, algorithm: HashAlgorithm) -> Result<ParameterFingerprint, String> {
        let fp = ParameterFingerprint::from_tensor_digests(
            algorithm,
            self.tensors.clone(),
            self.elements,
        )
        .map_err(|e| e.to_string())?;
        if bool::from(fp.root().ct_eq(&self.root)) {
            Ok(fp)
        } else {
            Err(format!(
                "parameter root {} is not the root of its tensors ({})",
                self.root,
                fp.root()
            ))
        }
    }
}

/// One file of a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// The path below the fingerprinted directory (`/`-separated), or the file's name.
    pub path: String,
    /// The hash of the file's bytes.
    pub digest: Digest,
    /// The file's length.
    pub bytes: u64,
    /// The parameter fingerprint of a `.safetensors` file, or of the sharded model a
    /// `*.safetensors.index.json` describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Parameters>,
}

/// A fingerprint with its parts: what `lcm fingerprint --manifest --json` prints and
/// `lcm fingerprint diff` reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always [`MANIFEST_FORMAT`].
    pub format: String,
    /// The path as it was given.
    pub path: String,
    /// File or directory.
    #[serde(rename = "type")]
    pub kind: Kind,
    /// The hash of every digest.
    pub algorithm: HashAlgorithm,
    /// The file's digest, or the directory digest.
    pub digest: Digest,
    /// The total length of the files.
    pub bytes: u64,
    /// Every file, sorted by path (one entry for a file).
    pub files: Vec<FileEntry>,
    /// The file whose parameters are the model's: the only `.safetensors` file that no index
    /// names as a shard, or the only index; absent when there is no such single file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

/// One difference between two manifests.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "change", content = "name", rename_all = "lowercase")]
#[non_exhaustive]
pub enum Change {
    /// Only the second has it.
    Added(String),
    /// Only the first has it.
    Removed(String),
    /// Both have it, with different digests.
    Changed(String),
}

impl Change {
    fn prefixed(c: TensorChange, prefix: &str) -> Option<Self> {
        Some(match c {
            TensorChange::Added(n) => Self::Added(format!("{prefix}{n}")),
            TensorChange::Removed(n) => Self::Removed(format!("{prefix}{n}")),
            TensorChange::Changed(n) => Self::Changed(format!("{prefix}{n}")),
            _ => return None,
        })
    }

    /// `added`, `removed` or `changed`.
    pub fn verb(&self) -> &'static str {
        match self {
            Self::Added(_) => "added",
            Self::Removed(_) => "removed",
            Self::Changed(_) => "changed",
        }
    }

    /// The file path or tensor name.
    pub fn name(&self) -> &str {
        match self {
            Self::Added(n) | Self::Removed(n) | Self::Changed(n) => n,
        }
    }
}

/// What differs between two manifests ([`Manifest::diff`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ManifestDiff {
    /// Whether the two fingerprints are the same (same type and digest).
    pub equal: bool,
    /// Files added, removed and changed, by path.
    pub files: Vec<Change>,
    /// Tensors added, removed and changed: of the models' parameters when both manifests have
    /// a model file, else of each safetensors file both have (named `FILE: TENSOR`).
    pub tensors: Vec<Change>,
}

fn is_safetensors(name: &str) -> bool {
    name.ends_with(".safetensors")
}

fn is_index(name: &str) -> bool {
    name.ends_with(INDEX_SUFFIX)
}

impl Manifest {
    /// Fingerprints the file or directory at `path` with every part: each file's digest, each
    /// safetensors file's tensors, and each sharded model's fingerprint over its shards.
    /// `progress` is called with (bytes hashed, total bytes).
    ///
    /// Memory: the file list, the tensor digests, and one safetensors file at a time.
    ///
    /// # Examples
    ///
    /// ```
    /// use lcm_crypto::HashAlgorithm;
    /// use lcm_store::fingerprint::{Kind, Manifest};
    ///
    /// let dir = std::env::temp_dir().join(format!("lcm-manifest-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// std::fs::write(dir.join("config.json"), b"{}")?;
    /// let m = Manifest::build(HashAlgorithm::Sha256, &dir, &mut |_, _| {})?;
    /// assert_eq!(m.kind, Kind::Directory);
    /// assert_eq!(m.files[0].path, "config.json");
    /// // Saved and read back, it is checked and compares equal.
    /// let again = Manifest::from_json(&serde_json::to_vec(&m)?)?;
    /// assert!(m.diff(&again)?.equal);
    /// std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// Every [`Error`] of the walk, the hash, the safetensors parser and the sharded index.
    pub fn build(
        algorithm: HashAlgorithm,
        path: &Path,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<Self, Error> {
        let policy = Policy {
            hash_algorithm: algorithm,
            ..Policy::default()
        };
        let shown = path.display().to_string();
        let meta = std::fs::metadata(path).map_err(io_err(path))?;
        if !meta.is_dir() {
            let total = meta.len();
            let digest = hash_file(algorithm, path, &mut |n| progress(n, total))?;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| shown.clone());
            let parameters = if is_index(&name) {
                Some(Parameters::of(&sharded_fingerprint(&policy, path)?))
            } else if is_safetensors(&name) {
                Some(Parameters::of(&safetensors_file_fingerprint(
                    &policy, path,
                )?))
            } else {
                None
            };
            let model = parameters.as_ref().map(|_| name.clone());
            return Ok(Self {
                format: MANIFEST_FORMAT.to_owned(),
                path: shown,
                kind: Kind::File,
                algorithm,
                digest,
                bytes: total,
                files: vec![FileEntry {
                    path: name,
                    digest,
                    bytes: total,
                    parameters,
                }],
                model,
            });
        }
        let walked = walk(path)?;
        let mut sizes = Vec::with_capacity(walked.len());
        for (_, p) in &walked {
            sizes.push(std::fs::metadata(p).map_err(io_err(p))?.len());
        }
        let total = sizes.iter().fold(0u64, |a, &b| a.saturating_add(b));
        let mut files = Vec::with_capacity(walked.len());
        let mut done = 0u64;
        for ((rel, p), &len) in walked.iter().zip(&sizes) {
            let base = done;
            let digest = hash_file(algorithm, p, &mut |n| {
                progress(base.saturating_add(n), total);
            })?;
            done = done.saturating_add(len);
            let parameters = if is_safetensors(rel) {
                Some(Parameters::of(&safetensors_file_fingerprint(&policy, p)?))
            } else {
                None
            };
            files.push(FileEntry {
                path: rel.clone(),
                digest,
                bytes: len,
                parameters,
            });
        }
        let shards = index_parameters(algorithm, &walked, &mut files)?;
        let candidates: Vec<&FileEntry> = files
            .iter()
            .filter(|f| is_index(&f.path) || (f.parameters.is_some() && !shards.contains(&f.path)))
            .collect();
        let model = match candidates.as_slice() {
            [only] => Some(only.path.clone()),
            _ => None,
        };
        Ok(Self {
            format: MANIFEST_FORMAT.to_owned(),
            path: shown,
            kind: Kind::Directory,
            algorithm,
            digest: directory_digest(algorithm, &files),
            bytes: total,
            files,
            model,
        })
    }

    /// Reads a saved manifest and checks it: the format, the files sorted by path and each
    /// once, each parameter root recomputed from its tensors, a file manifest's one entry
    /// equal to its digest, a directory's digest recomputed from its files, the byte count
    /// and the model file. An edited digest, root, name or count is refused.
    ///
    /// # Errors
    ///
    /// [`Error::Manifest`] naming what is wrong.
    pub fn from_json(bytes: &[u8]) -> Result<Self, Error> {
        let bad = |what: String| Error::Manifest { what };
        let text = std::str::from_utf8(bytes).map_err(|e| bad(format!("not UTF-8: {e}")))?;
        lcm_model::strict::check_json(text).map_err(|e| bad(e.to_string()))?;
        let m: Self = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        if m.format != MANIFEST_FORMAT {
            return Err(bad(format!(
                "format {:?}, expected {MANIFEST_FORMAT:?}",
                m.format
            )));
        }
        for pair in m.files.windows(2) {
            if let [a, b] = pair
                && a.path.as_bytes() >= b.path.as_bytes()
            {
                return Err(bad(format!(
                    "files {:?} and {:?} are not in path order or repeat a path",
                    a.path, b.path
                )));
            }
        }
        for f in &m.files {
            if let Some(p) = &f.parameters {
                p.fingerprint(m.algorithm)
                    .map_err(|e| bad(format!("file {:?}: {e}", f.path)))?;
            }
        }
        let total = m.files.iter().fold(0u64, |a, f| a.saturating_add(f.bytes));
        if total != m.bytes {
            return Err(bad(format!(
                "bytes {} is not the sum of its files' bytes ({total})",
                m.bytes
            )));
        }
        let expected = match (m.kind, m.files.as_slice()) {
            (Kind::File, [one]) => one.digest,
            (Kind::File, _) => {
                return Err(bad(format!(
                    "a file manifest has one file entry, not {}",
                    m.files.len()
                )));
            }
            (Kind::Directory, files) => directory_digest(m.algorithm, files),
        };
        if !bool::from(expected.ct_eq(&m.digest)) {
            return Err(bad(format!(
                "digest {} is not the digest of its files ({expected})",
                m.digest
            )));
        }
        if let Some(model) = &m.model
            && !m
                .files
                .iter()
                .any(|f| &f.path == model && f.parameters.is_some())
        {
            return Err(bad(format!(
                "model {model:?} names no file with parameters"
            )));
        }
        Ok(m)
    }

    /// A saved manifest at `path` (a JSON file whose `format` is a manifest's), read and
    /// checked with [`Manifest::from_json`]; any other file or directory is fingerprinted
    /// with [`Manifest::build`]. What `lcm fingerprint diff` compares.
    ///
    /// # Errors
    ///
    /// As [`Manifest::from_json`] (naming the file) and [`Manifest::build`].
    pub fn load_or_build(
        algorithm: HashAlgorithm,
        path: &Path,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<Self, Error> {
        if looks_like_manifest(path)? {
            let bytes = std::fs::read(path).map_err(io_err(path))?;
            return Self::from_json(&bytes).map_err(|e| match e {
                Error::Manifest { what } => Error::Manifest {
                    what: format!("{}: {what}", path.display()),
                },
                other => other,
            });
        }
        Self::build(algorithm, path, progress)
    }

    /// The model's parameter fingerprint (of the [`Manifest::model`] file), if any.
    pub fn model_parameters(&self) -> Option<&Parameters> {
        let model = self.model.as_ref()?;
        self.files
            .iter()
            .find(|f| &f.path == model)
            .and_then(|f| f.parameters.as_ref())
    }

    /// [`Manifest::build`] with SHA-256 and no progress: the weights of `lcm record model`,
    /// `training` and `lifecycle --weights`.
    ///
    /// # Errors
    ///
    /// As [`Manifest::build`].
    pub fn of_weights(path: &Path) -> Result<Self, Error> {
        Self::build(HashAlgorithm::Sha256, path, &mut |_, _| {})
    }

    /// The parameter fingerprint of the model these files hold ([`Manifest::model_parameters`]),
    /// its root recomputed from its tensor digests.
    ///
    /// # Errors
    ///
    /// A message when no single model file (safetensors file or index) is there, or its
    /// digests do not make its root.
    pub fn parameter_fingerprint(&self) -> Result<ParameterFingerprint, String> {
        let parameters = self.model_parameters().ok_or_else(|| {
            format!(
                "{} holds no single safetensors model (one .safetensors file, or one \
                 model.safetensors.index.json), so it has no parameter fingerprint",
                self.path
            )
        })?;
        parameters.fingerprint(self.algorithm)
    }

    /// The files and tensors that differ from `self` to `other`.
    ///
    /// # Errors
    ///
    /// [`Error::Manifest`] when the two use different hash algorithms (every digest would
    /// differ), or a parameter root does not match its tensors.
    pub fn diff(&self, other: &Self) -> Result<ManifestDiff, Error> {
        if self.algorithm != other.algorithm {
            return Err(Error::Manifest {
                what: format!(
                    "the first fingerprint uses {}, the second {}: compare fingerprints made with the same --algorithm",
                    self.algorithm, other.algorithm
                ),
            });
        }
        let mut files = Vec::new();
        if let (Kind::File, Kind::File, [a], [b]) = (
            self.kind,
            other.kind,
            self.files.as_slice(),
            other.files.as_slice(),
        ) {
            if a.digest != b.digest {
                files.push(Change::Changed(if a.path == b.path {
                    a.path.clone()
                } else {
                    format!("{} -> {}", a.path, b.path)
                }));
            }
        } else {
            let theirs: BTreeMap<&str, &FileEntry> =
                other.files.iter().map(|f| (f.path.as_str(), f)).collect();
            let ours: BTreeMap<&str, &FileEntry> =
                self.files.iter().map(|f| (f.path.as_str(), f)).collect();
            for (path, f) in &ours {
                match theirs.get(path) {
                    None => files.push(Change::Removed((*path).to_owned())),
                    Some(t) if t.digest != f.digest => {
                        files.push(Change::Changed((*path).to_owned()));
                    }
                    Some(_) => {}
                }
            }
            for path in theirs.keys().filter(|p| !ours.contains_key(*p)) {
                files.push(Change::Added((*path).to_owned()));
            }
            files.sort_by(|a, b| a.name().cmp(b.name()));
        }
        let bad = |what: String| Error::Manifest { what };
        let mut tensors = Vec::new();
        if let (Some(a), Some(b)) = (self.model_parameters(), other.model_parameters()) {
            let a = a.fingerprint(self.algorithm).map_err(bad)?;
            let b = b.fingerprint(other.algorithm).map_err(bad)?;
            tensors.extend(
                a.diff(&b)
                    .into_iter()
                    .filter_map(|c| Change::prefixed(c, "")),
            );
        } else {
            let theirs: BTreeMap<&str, &Parameters> = other
                .files
                .iter()
                .filter_map(|f| Some((f.path.as_str(), f.parameters.as_ref()?)))
                .collect();
            for f in &self.files {
                if let (Some(a), Some(b)) = (&f.parameters, theirs.get(f.path.as_str())) {
                    let a = a.fingerprint(self.algorithm).map_err(bad)?;
                    let b = b.fingerprint(other.algorithm).map_err(bad)?;
                    let prefix = format!("{}: ", f.path);
                    tensors.extend(
                        a.diff(&b)
                            .into_iter()
                            .filter_map(|c| Change::prefixed(c, &prefix)),
                    );
                }
            }
        }
        Ok(ManifestDiff {
            equal: self.kind == other.kind && self.digest == other.digest,
            files,
            tensors,
        })
    }
}

/// The directory digest over `files` (module docs).
fn directory_digest(algorithm: HashAlgorithm, files: &[FileEntry]) -> Digest {
    let mut tree = DomainHasher::new(algorithm, DIRECTORY_DOMAIN);
    for f in files {
        tree.part(f.path.as_bytes()).digest(&f.digest);
    }
    tree.finalize()
}

/// Gives each `*.safetensors.index.json` of the walk the sharded fingerprint over the shards
/// it names (the shards' entries in `files`, in the index's directory); returns the paths of
/// every file an index names as a shard.
fn index_parameters(
    algorithm: HashAlgorithm,
    walked: &[(String, std::path::PathBuf)],
    files: &mut [FileEntry],
) -> Result<BTreeSet<String>, Error> {
    let mut shard_paths = BTreeSet::new();
    let mut found = Vec::new();
    for (i, (rel, p)) in walked.iter().enumerate() {
        if !is_index(rel) {
            continue;
        }
        let bytes = std::fs::read(p).map_err(io_err(p))?;
        let index = ShardIndex::parse(p, &bytes)?;
        let dir = rel.rsplit_once('/').map(|(d, _)| format!("{d}/"));
        let dir = dir.as_deref().unwrap_or("");
        let mut shards = BTreeMap::new();
        for shard in index.shards() {
            let path = format!("{dir}{shard}");
            let entry = files.iter().find(|f| f.path == path);
            match entry.and_then(|f| f.parameters.as_ref()) {
                Some(params) => {
                    let fp = params
                        .fingerprint(algorithm)
                        .map_err(|what| Error::Manifest { what })?;
                    shards.insert(shard.to_owned(), fp);
                }
                None if entry.is_some() => {
                    return Err(Error::Sharded {
                        index: p.clone(),
                        what: format!("shard {shard:?} is not a .safetensors file"),
                    });
                }
                None => {
                    return Err(Error::Sharded {
                        index: p.clone(),
                        what: format!("shard {shard:?} is missing"),
                    });
                }
            }
            shard_paths.insert(path);
        }
        found.push((
            i,
            Parameters::of(&index.fingerprint(p, algorithm, &shards)?),
        ));
    }
    for (i, params) in found {
        if let Some(f) = files.get_mut(i) {
            f.parameters = Some(params);
        }
    }
    Ok(shard_paths)
}

/// Whether the file at `path` starts as a manifest does: a JSON object whose first 4 KiB
/// name the manifest format (a safetensors file starts with its length, never `{`).
fn looks_like_manifest(path: &Path) -> Result<bool, Error> {
    use std::io::Read;
    let meta = std::fs::metadata(path).map_err(io_err(path))?;
    if meta.is_dir() {
        return Ok(false);
    }
    let mut head = Vec::with_capacity(4096);
    std::fs::File::open(path)
        .and_then(|f| f.take(4096).read_to_end(&mut head))
        .map_err(io_err(path))?;
    let starts_as_object = head
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'{');
    let names_format = head
        .windows(MANIFEST_PREFIX.len())
        .any(|w| w == MANIFEST_PREFIX.as_bytes());
    Ok(starts_as_object && names_format)
}

/// What every manifest format's name starts with.
const MANIFEST_PREFIX: &str = "\"lcm-fingerprint-manifest/";
