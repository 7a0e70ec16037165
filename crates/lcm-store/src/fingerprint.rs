//! File, directory and safetensors fingerprints.
//!
//! - A **file** digest is the plain SHA-256 or BLAKE3 of its bytes (the same value as
//!   `sha256sum` / `b3sum`). The file is streamed through large buffers; a reader thread fills
//!   the next buffer while the hash consumes the previous one, so the copy out of the page
//!   cache overlaps the hashing.
//! - A **directory** digest covers every regular file below it: the walk is deterministic
//!   (entries sorted by their relative path's bytes, `/`-separated), and the digest is
//!   `hash_domain(DIRECTORY_DOMAIN, [path_1, digest_1, path_2, digest_2, ...])` with every part
//!   length-prefixed (`lcm_crypto::DomainHasher`), so no two different trees encode alike.
//!   Empty directories are not represented. Symbolic links are refused (they could point
//!   outside the tree or form cycles).
//! - A **`.safetensors`** file additionally gets the tensor-level parameter fingerprint of
//!   `lcm_model::records::ParameterFingerprint`: the header (8-byte little-endian length, then
//!   JSON `{name: {dtype, shape, data_offsets}}`) is parsed with strict bounds checks.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use lcm_crypto::{Digest, DomainHasher, HashAlgorithm, Hasher};
use lcm_model::Policy;
use lcm_model::records::{ParameterFingerprint, Tensor};
use serde::Deserialize;

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
    /// A symbolic link inside a directory.
    #[error("{path}: symbolic links are not fingerprinted")]
    Symlink {
        /// The link.
        path: PathBuf,
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

/// The regular files below `root`, as (relative `/`-separated path, full path), sorted by
/// the relative path's bytes.
///
/// # Errors
///
/// [`Error::Io`], [`Error::Symlink`], [`Error::NonUtf8Path`].
pub fn walk(root: &Path) -> Result<Vec<(String, PathBuf)>, Error> {
    let mut out = Vec::new();
    let mut stack = vec![(String::new(), root.to_owned())];
    while let Some((rel, dir)) = stack.pop() {
        for entry in std::fs::read_dir(&dir).map_err(io_err(&dir))? {
            let entry = entry.map_err(io_err(&dir))?;
            let path = entry.path();
            let name = entry
                .file_name()
                .into_string()
                .map_err(|_| Error::NonUtf8Path { path: path.clone() })?;
            let rel_path = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let kind = entry.file_type().map_err(io_err(&path))?;
            if kind.is_symlink() {
                return Err(Error::Symlink { path });
            } else if kind.is_dir() {
                stack.push((rel_path, path));
            } else if kind.is_file() {
                out.push((rel_path, path));
            }
        }
    }
    out.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    Ok(out)
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
        let bytes = std::fs::read(path).map_err(io_err(path))?;
        let policy = Policy {
            hash_algorithm: algorithm,
            ..Policy::default()
        };
        Some(safetensors_fingerprint(&policy, path, &bytes)?)
    } else {
        None
    };
    Ok(Fingerprinted::File {
        digest,
        bytes: meta.len(),
        parameters,
    })
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn file(header: &str, data: &[u8]) -> Vec<u8> {
        let mut out = (header.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        out
    }

    #[track_caller]
    fn check(bytes: &[u8], expected: Result<(), &str>) {
        let got = safetensors_fingerprint(&Policy::default(), Path::new("m.safetensors"), bytes);
        match (got, expected) {
            (Ok(_), Ok(())) => {}
            (Err(e), Err(part)) => assert!(e.to_string().contains(part), "{e}"),
            (got, expected) => panic!("got {got:?}, expected {expected:?}"),
        }
    }

    #[test]
    fn safetensors_valid_and_matches_direct_fingerprint() {
        let h = r#"{"__metadata__":{"format":"pt"},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#;
        let data: Vec<u8> = (0u8..12).collect();
        let fp =
            safetensors_fingerprint(&Policy::default(), Path::new("x"), &file(h, &data)).unwrap();
        let direct = ParameterFingerprint::compute(
            &Policy::default(),
            [
                Tensor {
                    name: "w",
                    dtype: "f32",
                    shape: &[2],
                    bytes: &data[..8],
                },
                Tensor {
                    name: "b",
                    dtype: "f32",
                    shape: &[1],
                    bytes: &data[8..],
                },
            ],
        )
        .unwrap();
        assert_eq!(fp, direct);
        assert_eq!(fp.element_count(), 3);
    }

    #[test]
    fn safetensors_malformed() {
        let ok = r#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#;
        check(&file(ok, &[0; 8]), Ok(()));
        check(&[1, 2, 3], Err("at least 8 bytes"));
        check(&u64::MAX.to_le_bytes(), Err("exceeds the limit"));
        check(&100u64.to_le_bytes(), Err("exceeds the 0 bytes"));
        check(&file("[1]", &[]), Err("not a JSON object"));
        check(&file(ok, &[0; 7]), Err("outside the 7-byte data section"));
        check(&file(ok, &[0; 9]), Err("cover 8 bytes of a 9-byte"));
        // Headers that are JSON but not a valid safetensors header of 8 data bytes.
        for (header, error) in [
            (
                r#"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#,
                "expected 12",
            ),
            (
                r#"{"w":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}}"#,
                "unknown dtype",
            ),
            (
                r#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#,
                "starts at 8",
            ),
            (
                r#"{"w":{"dtype":"F32","shape":[4294967296,4294967296,2],"data_offsets":[0,8]}}"#,
                "overflows",
            ),
            (
                r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
                "gap or overlap",
            ),
            (
                r#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}}"#,
                "unknown field",
            ),
        ] {
            check(&file(header, &[0; 8]), Err(error));
        }
        check(&file("{}", &[]), Err("at least one tensor"));
    }

    proptest::proptest! {
        #[test]
        fn safetensors_never_panics_on_arbitrary_bytes(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
        ) {
            let _ = safetensors_fingerprint(&Policy::default(), Path::new("x"), &bytes);
        }

        #[test]
        fn safetensors_never_panics_on_mutated_files(
            edits in proptest::collection::vec(
                (0usize..160, proptest::prelude::any::<u8>()), 1..6),
            cut in 0usize..160,
        ) {
            let h = r#"{"b":{"dtype":"F16","shape":[2],"data_offsets":[8,12]},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#;
            let mut bytes = file(h, &[7; 12]);
            for (at, value) in edits {
                if let Some(b) = bytes.get_mut(at) {
                    *b = value;
                }
            }
            bytes.truncate(cut.max(1));
            let _ = safetensors_fingerprint(&Policy::default(), Path::new("x"), &bytes);
        }
    }

    #[test]
    fn directory_digest_is_the_documented_encoding() {
        let root = std::env::temp_dir().join(format!("lcm-dir-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("sub/deeper")).unwrap();
        std::fs::create_dir_all(root.join("empty")).unwrap();
        std::fs::write(root.join("b.bin"), b"abc").unwrap();
        std::fs::write(root.join("sub/deeper/x"), b"").unwrap();
        std::fs::write(root.join("a"), b"z").unwrap();
        for alg in [HashAlgorithm::Sha256, HashAlgorithm::Blake3] {
            let (got, files) = hash_directory(alg, &root, &mut |_| {}).unwrap();
            assert_eq!(files, 3);
            // Sorted by the bytes of the relative path; the empty directory is not represented.
            let mut expected = DomainHasher::new(alg, DIRECTORY_DOMAIN);
            for (path, content) in [("a", &b"z"[..]), ("b.bin", b"abc"), ("sub/deeper/x", b"")] {
                expected
                    .part(path.as_bytes())
                    .digest(&lcm_crypto::hash(alg, content));
            }
            assert_eq!(got, expected.finalize());
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(root.join("a"), root.join("link")).unwrap();
            assert!(matches!(
                hash_directory(HashAlgorithm::Sha256, &root, &mut |_| {}),
                Err(Error::Symlink { .. })
            ));
        }
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn reader_hash_equals_one_shot_hash_at_buffer_boundaries() {
        for len in [
            0,
            1,
            BUFFER_LEN - 1,
            BUFFER_LEN,
            BUFFER_LEN + 1,
            3 * BUFFER_LEN + 7,
        ] {
            let data: Vec<u8> = (0..len).map(|i| u8::try_from(i % 251).unwrap()).collect();
            for alg in [HashAlgorithm::Sha256, HashAlgorithm::Blake3] {
                let mut last = 0;
                let got = hash_reader(alg, data.as_slice(), &mut |n| last = n).unwrap();
                assert_eq!(got, lcm_crypto::hash(alg, &data), "len {len} {alg}");
                assert_eq!(last, len as u64);
            }
        }
    }
}
