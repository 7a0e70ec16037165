//! File, directory and safetensors fingerprints, and manifests of their parts.
//!
//! - A **file** digest is the plain SHA-256 or BLAKE3 of its bytes (the same value as
//!   `sha256sum` / `b3sum`). The file is streamed through large buffers; a reader thread fills
//!   the next buffer while the hash consumes the previous one, so the copy out of the page
//!   cache overlaps the hashing.
//! - A **directory** digest covers every regular file below it: the walk is deterministic
//!   (entries sorted by their relative path's bytes, `/`-separated), and the digest is
//!   `hash_domain(DIRECTORY_DOMAIN, [path_1, digest_1, path_2, digest_2, ...])` with every part
//!   length-prefixed (`lcm_crypto::DomainHasher`), so no two different trees encode alike.
//!   Empty directories are not represented. Symbolic links are followed while they stay
//!   inside the directory, or inside the repository of a Hugging Face cache snapshot, and a
//!   cycle is refused (the rule is [`walk`]'s; see the `walk` module docs).
//! - A **`.safetensors`** file additionally gets the tensor-level parameter fingerprint of
//!   `lcm_model::records::ParameterFingerprint`: the header (8-byte little-endian length, then
//!   JSON `{name: {dtype, shape, data_offsets}}`) is parsed with strict bounds checks.
//! - A **sharded** model (`model.safetensors.index.json` and the shards its `weight_map`
//!   names) gets one parameter fingerprint over every tensor the index names
//!   ([`ShardIndex::fingerprint`]), equal to that of the same tensors in one file; a missing
//!   shard, a tensor in another shard than the index says, or a tensor no index names is
//!   refused.
//! - A **manifest** ([`Manifest`]) lists every file's digest and every tensor's digest;
//!   saved as JSON it is checked when read back (every root and the directory digest
//!   recomputed), and two manifests compare file by file and tensor by tensor
//!   ([`Manifest::diff`]).

mod manifest;
mod render;
mod safetensors;
#[cfg(test)]
mod tests;
mod walk;

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use lcm_crypto::{Digest, DomainHasher, HashAlgorithm, Hasher};
use lcm_model::Policy;
use lcm_model::records::ParameterFingerprint;

pub use manifest::{Change, FileEntry, Kind, MANIFEST_FORMAT, Manifest, ManifestDiff, Parameters};
pub use safetensors::{INDEX_SUFFIX, ShardIndex, safetensors_fingerprint, sharded_fingerprint};
pub use walk::walk;

/// The domain tag of directory digests.
pub const DIRECTORY_DOMAIN: &str = "lcm/cli/directory-fingerprint/v1";

/// The size of each read buffer: large enough that a read costs little per byte, small
/// enough that a buffer is still in cache when the hasher reaches it.
const BUFFER_LEN: usize = 1 << 18;
/// How many buffers circulate between the reader and the hasher.
const BUFFERS: usize = 4;
/// The largest safetensors header accepted (the format's own limit is 100 MB).
const MAX_HEADER_LEN: u64 = 100_000_000;

/// A fingerprinting error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading a file or directory failed.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A symbolic link whose target lies outside the directory given (or the repository of a
    /// Hugging Face cache snapshot).
    #[error("{}: symbolic link to {}, outside {}: links are followed only inside it", .path.display(), .target.display(), .boundary.display())]
    LinkOutside {
        /// The link.
        path: PathBuf,
        /// Its resolved target.
        target: PathBuf,
        /// The directory links must stay inside.
        boundary: PathBuf,
    },
    /// A symbolic link to one of its own ancestor directories, or a chain of links that
    /// never ends.
    #[error("{}: symbolic link cycle (to {})", .path.display(), .target.display())]
    SymlinkCycle {
        /// The link.
        path: PathBuf,
        /// Where it leads.
        target: PathBuf,
    },
    /// A sharded safetensors model whose index and shards disagree.
    #[error("{}: sharded safetensors: {what}", .index.display())]
    Sharded {
        /// The index file.
        index: PathBuf,
        /// What is wrong.
        what: String,
    },
    /// A saved manifest that is malformed or does not match its own digests.
    #[error("manifest: {what}")]
    Manifest {
        /// What is wrong.
        what: String,
    },
    /// A path that is not valid UTF-8 (directory digests hash paths as UTF-8).
    #[error("{path}: path is not valid UTF-8")]
    NonUtf8Path {
        /// The path.
        path: PathBuf,
    },
    /// A malformed safetensors file.
    #[error("{path}: malformed safetensors: {what}")]
    Safetensors {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
    /// The parameter fingerprint could not be computed.
    #[error("{path}: {source}")]
    Model {
        /// The file.
        path: PathBuf,
        /// The error (boxed: model errors are large).
        #[source]
        source: Box<lcm_model::Error>,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_owned(),
        source,
    }
}

/// Streams `reader` through the hash with overlapped reading; calls `progress` with the
/// number of bytes hashed so far after each buffer.
///
/// # Errors
///
/// The first read error.
pub fn hash_reader<R: Read + Send>(
    algorithm: HashAlgorithm,
    mut reader: R,
    progress: &mut dyn FnMut(u64),
) -> std::io::Result<Digest> {
    let (full_tx, full_rx) = mpsc::sync_channel::<std::io::Result<(Vec<u8>, usize)>>(BUFFERS);
    let (empty_tx, empty_rx) = mpsc::sync_channel::<Vec<u8>>(BUFFERS);
    for _ in 0..BUFFERS {
        // The channel holds BUFFERS items, so these sends never block or fail.
        let _ = empty_tx.send(vec![0u8; BUFFER_LEN]);
    }
    std::thread::scope(|scope| {
        scope.spawn(move || {
            while let Ok(mut buf) = empty_rx.recv() {
                let mut filled = 0;
                // Fill the whole buffer (short reads happen on pipes).
                let result = loop {
                    match reader.read(buf.get_mut(filled..).unwrap_or_default()) {
                        Ok(0) => break Ok(()),
                        Ok(n) => {
                            filled += n;
                            if filled == buf.len() {
                                break Ok(());
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => break Err(e),
                    }
                };
                let done = filled < buf.len();
                let msg = result.map(|()| (buf, filled));
                let failed = msg.is_err();
                if full_tx.send(msg).is_err() || done || failed {
                    return;
                }
            }
        });
        let mut hasher = Hasher::new(algorithm);
        let mut total = 0u64;
        while let Ok(msg) = full_rx.recv() {
            let (buf, filled) = msg?;
            hasher.update(buf.get(..filled).unwrap_or_default());
            total = total.saturating_add(u64::try_from(filled).unwrap_or(u64::MAX));
            progress(total);
            if filled < buf.len() {
                break;
            }
            // The reader may already have finished (and dropped its end) while later
            // buffers are still queued for us: a failed hand-back is not the end.
            let _ = empty_tx.send(buf);
        }
        Ok(hasher.finalize())
    })
}

/// The digest of one file's bytes.
///
/// # Errors
///
/// [`Error::Io`].
pub fn hash_file(
    algorithm: HashAlgorithm,
    path: &Path,
    progress: &mut dyn FnMut(u64),
) -> Result<Digest, Error> {
    let file = File::open(path).map_err(io_err(path))?;
    hash_reader(algorithm, file, progress).map_err(io_err(path))
}

/// The digest of a directory tree (see the module docs), and the number of files in it.
///
/// # Errors
///
/// As [`walk`] and [`hash_file`].
pub fn hash_directory(
    algorithm: HashAlgorithm,
    root: &Path,
    progress: &mut dyn FnMut(u64),
) -> Result<(Digest, usize), Error> {
    let files = walk(root)?;
    let mut tree = DomainHasher::new(algorithm, DIRECTORY_DOMAIN);
    let mut done = 0u64;
    for (rel, path) in &files {
        let base = done;
        let d = hash_file(algorithm, path, &mut |n| progress(base.saturating_add(n)))?;
        done = done.saturating_add(std::fs::metadata(path).map_or(0, |m| m.len()));
        tree.part(rel.as_bytes()).digest(&d);
    }
    Ok((tree.finalize(), files.len()))
}

/// What [`fingerprint`] found at a path.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Fingerprinted {
    /// A regular file.
    File {
        /// The digest of its bytes.
        digest: Digest,
        /// Its size.
        bytes: u64,
        /// For a `.safetensors` file, its parameter fingerprint.
        parameters: Option<ParameterFingerprint>,
    },
    /// A directory tree.
    Directory {
        /// The digest of the tree (see the module docs).
        digest: Digest,
        /// The number of files in it.
        files: usize,
    },
}

/// How many bytes [`fingerprint`] reads at `path` (the total its progress counts to): a
/// file's size, or the sum of the sizes of a directory's files.
///
/// # Errors
///
/// [`Error::Io`], and as [`walk`] for a directory.
pub fn size(path: &Path) -> Result<u64, Error> {
    let meta = std::fs::metadata(path).map_err(io_err(path))?;
    if !meta.is_dir() {
        return Ok(meta.len());
    }
    Ok(walk(path)?
        .iter()
        .map(|(_, p)| std::fs::metadata(p).map_or(0, |m| m.len()))
        .sum())
}

/// Fingerprints the file or directory at `path` (`lcm fingerprint`): a directory's tree
/// digest ([`hash_directory`]), or a file's digest ([`hash_file`]) with, for a file named
/// `*.safetensors`, its parameter fingerprint under the default policy with `algorithm`
/// ([`safetensors_fingerprint`]). `progress` hears the bytes read so far.
///
/// # Errors
///
/// As [`hash_directory`], [`hash_file`] and [`safetensors_fingerprint`].
///
/// # Examples
///
/// ```
/// use lcm_crypto::HashAlgorithm;
/// use lcm_store::fingerprint::{Fingerprinted, fingerprint, size};
///
/// let path = std::env::temp_dir().join(format!("lcm-fp-doc-{}.bin", std::process::id()));
/// std::fs::write(&path, b"weights")?;
/// assert_eq!(size(&path)?, 7);
/// let found = fingerprint(HashAlgorithm::Sha256, &path, &mut |_| {})?;
/// assert!(matches!(found, Fingerprinted::File { bytes: 7, parameters: None, .. }));
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn fingerprint(
    algorithm: HashAlgorithm,
    path: &Path,
    progress: &mut dyn FnMut(u64),
) -> Result<Fingerprinted, Error> {
    let meta = std::fs::metadata(path).map_err(io_err(path))?;
    if meta.is_dir() {
        let (digest, files) = hash_directory(algorithm, path, progress)?;
        return Ok(Fingerprinted::Directory { digest, files });
    }
    let digest = hash_file(algorithm, path, progress)?;
    let parameters = if path.extension().is_some_and(|e| e == "safetensors") {
        let policy = Policy {
            hash_algorithm: algorithm,
            ..Policy::default()
        };
        Some(safetensors::safetensors_file_fingerprint(&policy, path)?)
    } else {
        None
    };
    Ok(Fingerprinted::File {
        digest,
        bytes: meta.len(),
        parameters,
    })
}
