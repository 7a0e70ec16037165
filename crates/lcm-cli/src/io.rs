//! Standard output ([`Out`]), and reading and writing the files the commands take: JSON
//! inputs, key files, new files with a mode. Depends only on [`crate::error`].

use std::io::Write;
use std::path::{Path, PathBuf};

use lcm_crypto::SigningKey;

use crate::error::{CliError, input};

pub(crate) use lcm_store::files::{
    key_id_as_private, pub_path, read_signing_key, read_verifying_key,
};

/// Standard output, where a closed pipe ends the command quietly.
pub(crate) struct Out {
    inner: std::io::BufWriter<std::io::Stdout>,
}

impl Out {
    pub(crate) fn new() -> Self {
        Self {
            inner: std::io::BufWriter::with_capacity(1 << 16, std::io::stdout()),
        }
    }

    pub(crate) fn line(&mut self, s: &str) -> Result<(), CliError> {
        self.inner
            .write_all(s.as_bytes())
            .and_then(|()| self.inner.write_all(b"\n"))
            .map_err(out_err)
    }

    pub(crate) fn raw(&mut self, bytes: &[u8]) -> Result<(), CliError> {
        self.inner.write_all(bytes).map_err(out_err)
    }

    pub(crate) fn flush(&mut self) -> Result<(), CliError> {
        self.inner.flush().map_err(out_err)
    }
}

fn out_err(e: std::io::Error) -> CliError {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        CliError::BrokenPipe
    } else {
        input(format!("writing standard output: {e}"))
    }
}

/// `e` about the file at `path`.
pub(crate) fn file_err(path: &Path) -> impl FnOnce(std::io::Error) -> CliError + '_ {
    move |source| CliError::File {
        path: path.to_path_buf(),
        source,
    }
}

pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(file_err(path))
}

/// Reads a JSON file as `T`, under strict input (no key twice, exact numbers, printable ids).
pub(crate) fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, CliError> {
    let bytes = read_file(path)?;
    let json = |source| CliError::Json {
        path: path.to_path_buf(),
        source,
    };
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(json)?;
    lcm_store::lifecycle::strict_value(&bytes, &value)
        .map_err(|e| input(format!("{}: {e}", path.display())))?;
    serde_json::from_value(value).map_err(json)
}

/// Writes `contents` to `path` atomically, with `mode` (refusing to overwrite unless
/// `force`): the bytes go to a temporary file in the same folder, which is fsynced and then
/// renamed over `path` (or, without `force`, linked to it, which fails if `path` exists), and
/// the folder is fsynced. A failure at any point leaves `path` as it was — a previous file
/// intact, no new file empty or half written.
pub(crate) fn write_new(
    path: &Path,
    contents: &[u8],
    mode: u32,
    force: bool,
) -> Result<(), CliError> {
    let exists = |p: &Path| {
        input(format!(
            "{} exists; pass --force to overwrite it",
            p.display()
        ))
    };
    if !force && path.exists() {
        return Err(exists(path));
    }
    let tmp = temp_path(path);
    let written = write_temp(&tmp, contents, mode).and_then(|()| {
        if force {
            std::fs::rename(&tmp, path)
        } else {
            std::fs::hard_link(&tmp, path).and_then(|()| std::fs::remove_file(&tmp))
        }
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(if e.kind() == std::io::ErrorKind::AlreadyExists {
            exists(path)
        } else {
            file_err(path)(e)
        });
    }
    sync_parent(path);
    Ok(())
}

/// Replaces `path` atomically with `contents` (as [`write_new`] with `force`), keeping the
/// mode of the file it replaces (0644 for a new one).
pub(crate) fn write_replacing(path: &Path, contents: &[u8]) -> Result<(), CliError> {
    #[cfg(unix)]
    let mode = {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).map_or(0o644, |m| m.permissions().mode() & 0o7777)
    };
    #[cfg(not(unix))]
    let mode = 0o644;
    write_new(path, contents, mode, true)
}

/// `.NAME.tmp-PID` in `path`'s folder: the same file system, so the rename is atomic.
fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let tmp = format!(".{name}.tmp-{}", std::process::id());
    match path.parent() {
        Some(dir) => dir.join(tmp),
        None => PathBuf::from(tmp),
    }
}

fn write_temp(tmp: &Path, contents: &[u8], mode: u32) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut f = opts.open(tmp)?;
    #[cfg(unix)]
    {
        // A stale temporary file keeps its old mode: set it explicitly.
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    f.write_all(contents)?;
    f.sync_all()
}

/// Makes a rename in `path`'s folder durable (best effort: not every platform can open a
/// folder).
fn sync_parent(path: &Path) {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Writes a key pair: the private key (mode 0600) at `path`, the public key at `PATH.pub`.
pub(crate) fn write_key_pair(path: &Path, key: &SigningKey, force: bool) -> Result<(), CliError> {
    let mut private = lcm_crypto::hex::encode(key.to_seed().expose_secret());
    private.push('\n');
    let written = write_new(path, private.as_bytes(), 0o600, force);
    zeroize::Zeroize::zeroize(&mut private);
    written?;
    let public = write_new(
        &pub_path(path),
        format!("{}\n", key.verifying_key().to_hex()).as_bytes(),
        0o644,
        force,
    );
    if public.is_err() && !force {
        // Without its public key the new private key is of no use: no half pair is left.
        let _ = std::fs::remove_file(path);
    }
    public
}

/// The master password in the environment variable `var`.
pub(crate) fn password(var: &str) -> Result<String, CliError> {
    match std::env::var(var) {
        Ok(p) if !p.is_empty() => Ok(p),
        _ => Err(input(format!(
            "the environment variable {var} must hold the master password"
        ))),
    }
}
