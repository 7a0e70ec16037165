//! Reading and writing the files the tools take: whole files, UTF-8 text, private key files
//! (refused when group or others may read them), and atomic replacement of a file.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use lcm_crypto::{Seed, SigningKey, VerifyingKey};

/// A file that could not be read or written, or does not hold what it should.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// The file could not be read or written.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file's contents are not what was expected (the message names the file).
    #[error("{what}")]
    Invalid {
        /// What is wrong, naming the file.
        what: String,
    },
}

/// An [`FileError::Io`] about `path`.
pub fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> FileError + '_ {
    move |source| FileError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The bytes of the file at `path`.
///
/// # Errors
///
/// [`FileError::Io`].
pub fn read_file(path: &Path) -> Result<Vec<u8>, FileError> {
    std::fs::read(path).map_err(io_err(path))
}

/// The file at `path` as UTF-8 text.
///
/// # Errors
///
/// [`FileError::Io`]; [`FileError::Invalid`] for bytes that are not UTF-8.
pub fn read_text(path: &Path) -> Result<String, FileError> {
    String::from_utf8(read_file(path)?).map_err(|_| FileError::Invalid {
        what: format!("{}: not UTF-8 text", path.display()),
    })
}

/// Refuses a private key file that group or others may read, as ssh does.
#[cfg(unix)]
fn check_private_mode(path: &Path) -> Result<(), FileError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(io_err(path))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(FileError::Invalid {
            what: format!(
                "{p}: permissions {:04o} are too open: a private key must not be accessible by \
                 group or others; it is refused (run `chmod 600 {p}`)",
                mode & 0o7777,
                p = path.display()
            ),
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private_mode(_path: &Path) -> Result<(), FileError> {
    Ok(())
}

/// Reads a private key file (64 hex characters and an optional newline), refusing one that
/// group or others may read. The text and seed are zeroized.
///
/// # Errors
///
/// [`FileError::Io`]; [`FileError::Invalid`] for a file open to others or not a key.
pub fn read_signing_key(path: &Path) -> Result<SigningKey, FileError> {
    check_private_mode(path)?;
    let mut text = String::from_utf8(read_file(path)?).map_err(|_| FileError::Invalid {
        what: format!("{}: key file is not text", path.display()),
    })?;
    let seed = lcm_crypto::hex::decode_array::<32>(text.trim_end_matches('\n')).map_err(|e| {
        FileError::Invalid {
            what: format!(
                "{}: expected a private key of 64 hex characters: {e}",
                path.display()
            ),
        }
    });
    zeroize::Zeroize::zeroize(&mut text);
    let mut seed = seed?;
    let key = SigningKey::from_seed(&Seed::from_bytes(seed));
    zeroize::Zeroize::zeroize(&mut seed);
    Ok(key)
}

/// The public key file next to the private key file `path`: `PATH.pub`.
pub fn pub_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".pub");
    s.into()
}

/// Reads a public key file (64 hex characters and an optional newline). A private key
/// (the same format) is named as such: the file whose `PATH.pub` holds its public key.
///
/// # Errors
///
/// [`FileError::Io`]; [`FileError::Invalid`] for a private key or a file that is not a key.
pub fn read_verifying_key(path: &Path) -> Result<VerifyingKey, FileError> {
    let mut text = String::from_utf8(read_file(path)?).map_err(|_| FileError::Invalid {
        what: format!("{}: key file is not text", path.display()),
    })?;
    let private = is_private_key(path, text.trim_end_matches('\n'));
    let key = VerifyingKey::from_hex(text.trim_end_matches('\n'));
    zeroize::Zeroize::zeroize(&mut text);
    if private {
        return Err(FileError::Invalid {
            what: format!(
                "{p} is a private key, not a public key: pass its public key {p}.pub (never hand \
                 the private key to a verifier)",
                p = path.display()
            ),
        });
    }
    key.map_err(|e| FileError::Invalid {
        what: format!(
            "{}: expected a public key of 64 hex characters: {e}",
            path.display()
        ),
    })
}

/// The key id of the public key that the file at `path` derives when read as a private key
/// (`None` when it is not 64 hex characters): a public key given as such derives a key no one
/// signs with, so a match with a document's signer names the file a private key.
pub fn key_id_as_private(path: &Path) -> Option<lcm_crypto::KeyId> {
    let mut text = String::from_utf8(std::fs::read(path).ok()?).ok()?;
    let seed = lcm_crypto::hex::decode_array::<32>(text.trim_end_matches('\n'));
    zeroize::Zeroize::zeroize(&mut text);
    let mut seed = seed.ok()?;
    let id = SigningKey::from_seed(&Seed::from_bytes(seed))
        .verifying_key()
        .key_id();
    zeroize::Zeroize::zeroize(&mut seed);
    Some(id)
}

/// Whether `hex`, read from `path`, is a private key: `PATH.pub` holds the public key it
/// derives.
fn is_private_key(path: &Path, hex: &str) -> bool {
    let Ok(mut seed) = lcm_crypto::hex::decode_array::<32>(hex) else {
        return false;
    };
    let derived = SigningKey::from_seed(&Seed::from_bytes(seed)).verifying_key();
    zeroize::Zeroize::zeroize(&mut seed);
    std::fs::read_to_string(pub_path(path))
        .ok()
        .and_then(|t| VerifyingKey::from_hex(t.trim_end_matches('\n')).ok())
        .is_some_and(|public| public == derived)
}

/// Writes `bytes` at `path` atomically: a temporary file in the same directory, fsynced,
/// renamed over `path`, then the directory fsynced (best effort).
///
/// # Errors
///
/// [`FileError::Io`].
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let mut f = std::fs::File::create(&tmp).map_err(io_err(&tmp))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(io_err(&tmp))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(io_err(path))?;
    if let Some(parent) = path.parent() {
        // Durability of the rename; a directory that cannot be opened is not an error.
        if let Ok(d) = std::fs::File::open(parent) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_reads_back() {
        let dir = std::env::temp_dir().join(format!("lcm-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("f");
        atomic_write(&p, b"one").unwrap();
        atomic_write(&p, b"two").unwrap();
        assert_eq!(read_text(&p).unwrap(), "two");
        std::fs::write(&p, [0xff]).unwrap();
        assert!(matches!(read_text(&p), Err(FileError::Invalid { .. })));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
