//! The deterministic walk of a model directory, following symbolic links inside the
//! directory (or, for a Hugging Face cache snapshot, inside its repository), with cycle
//! protection.
//!
//! The rule, for a directory `ROOT` given to [`walk`]:
//!
//! - The *boundary* is `ROOT` itself, resolved (`fs::canonicalize`); except when `ROOT`
//!   resolves to a Hugging Face cache snapshot, `REPO/snapshots/REVISION` where `REPO` also
//!   holds a `blobs` directory, or to a directory inside one (`REVISION/text_encoder`): then
//!   the boundary is `REPO`, because every file of a snapshot is a link into `REPO/blobs`
//!   (`../../blobs/HASH`).
//! - A symbolic link is followed when its target, fully resolved, lies inside the boundary;
//!   a link that leaves it is refused ([`Error::LinkOutside`]), as is a dangling link
//!   ([`Error::Io`] naming the link).
//! - A link to a directory that is one of its own ancestors (after resolution), or a chain of
//!   links that never ends, is a cycle and is refused ([`Error::SymlinkCycle`]); the walk
//!   never loops. A directory reached twice through different links is walked twice, under
//!   each name (no cycle).
//! - Files are named by their path *below `ROOT`* (the link's name, not its target's), so a
//!   snapshot's manifest names `config.json`, not `blobs/5f3a...`.

use std::path::{Path, PathBuf};

use super::{Error, io_err};

/// The resolved directory inside which links may point, for the resolved root `root`: the
/// repository of the Hugging Face cache snapshot `root` is (or is inside), else `root`.
fn boundary(root: &Path) -> PathBuf {
    for revision in root.ancestors() {
        let snapshots = revision.parent();
        let repo = snapshots.and_then(Path::parent);
        if let (Some(s), Some(r)) = (snapshots, repo)
            && s.file_name().is_some_and(|n| n == "snapshots")
            && r.join("blobs").is_dir()
        {
            return r.to_owned();
        }
    }
    root.to_owned()
}

/// One directory still to read: its relative name, its path as reached, and the resolved
/// directories from the root down to it (for cycle detection).
struct Pending {
    rel: String,
    path: PathBuf,
    ancestors: Vec<PathBuf>,
}

/// The regular files below `root`, as (relative `/`-separated path, path to open), sorted by
/// the relative path's bytes; symbolic links are followed as the module docs say.
///
/// # Examples
///
/// ```
/// let dir = std::env::temp_dir().join(format!("lcm-walk-doc-{}", std::process::id()));
/// std::fs::create_dir_all(dir.join("sub"))?;
/// std::fs::write(dir.join("sub/b"), b"")?;
/// std::fs::write(dir.join("a"), b"")?;
/// let files = lcm_store::fingerprint::walk(&dir)?;
/// let names: Vec<&str> = files.iter().map(|(rel, _)| rel.as_str()).collect();
/// assert_eq!(names, ["a", "sub/b"]);
/// std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`Error::Io`], [`Error::LinkOutside`], [`Error::SymlinkCycle`], [`Error::NonUtf8Path`].
pub fn walk(root: &Path) -> Result<Vec<(String, PathBuf)>, Error> {
    let resolved = std::fs::canonicalize(root).map_err(io_err(root))?;
    let boundary = boundary(&resolved);
    let mut out = Vec::new();
    let mut stack = vec![Pending {
        rel: String::new(),
        path: root.to_owned(),
        ancestors: vec![resolved],
    }];
    while let Some(Pending {
        rel,
        path: dir,
        ancestors,
    }) = stack.pop()
    {
        for entry in std::fs::read_dir(&dir).map_err(io_err(&dir))? {
            let entry = entry.map_err(io_err(&dir))?;
            let path = entry.path();
            let name = entry
                .file_name()
                .into_string()
                .map_err(|_| Error::NonUtf8Path { path: path.clone() })?;
            let rel_path = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            let mut kind = entry.file_type().map_err(io_err(&path))?;
            let mut here = ancestors
                .last()
                .map(|d| d.join(&name))
                .unwrap_or_else(|| path.clone());
            if kind.is_symlink() {
                here = resolve_link(&path, &boundary)?;
                kind = std::fs::metadata(&here).map_err(io_err(&path))?.file_type();
            }
            if kind.is_dir() {
                if ancestors.contains(&here) {
                    return Err(Error::SymlinkCycle { path, target: here });
                }
                let mut below = ancestors.clone();
                below.push(here);
                stack.push(Pending {
                    rel: rel_path,
                    path,
                    ancestors: below,
                });
            } else if kind.is_file() {
                out.push((rel_path, path));
            }
        }
    }
    out.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    Ok(out)
}

/// The resolved target of the link at `link`, which must lie inside `boundary`.
fn resolve_link(link: &Path, boundary: &Path) -> Result<PathBuf, Error> {
    let target = std::fs::canonicalize(link).map_err(|source| {
        // ELOOP: a chain of links that never reaches a file.
        if source.raw_os_error() == Some(LOOP_ERRNO) {
            Error::SymlinkCycle {
                path: link.to_owned(),
                target: std::fs::read_link(link).unwrap_or_default(),
            }
        } else {
            Error::Io {
                path: link.to_owned(),
                source,
            }
        }
    })?;
    if target.starts_with(boundary) {
        Ok(target)
    } else {
        Err(Error::LinkOutside {
            path: link.to_owned(),
            target,
            boundary: boundary.to_owned(),
        })
    }
}

/// `ELOOP`, "too many levels of symbolic links" (40 on Linux, 62 on the BSDs and macOS).
#[cfg(target_os = "linux")]
const LOOP_ERRNO: i32 = 40;
#[cfg(not(target_os = "linux"))]
const LOOP_ERRNO: i32 = 62;
