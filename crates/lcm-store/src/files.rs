//! Reading and writing the files the tools take: whole files, UTF-8 text, private key files
//! (refused when group or others may read them), and atomic replacement of a file.

use std::io::Write;
use std::path::{Path, PathBuf};

use lcm_crypto::{Seed, SigningKey, VerifyingKey};

use crate::keys::TrustedKey;

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
    /// The file is not the JSON it should be.
    #[error("{}: {source}", .path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The parser's error.
        source: serde_json::Error,
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

/// The forms a private key file may take, for messages.
pub const PRIVATE_KEY_FORMS: &str = "64 hex characters (lcm keygen) or a PKCS#8 PEM PRIVATE KEY \
     (lcm keygen --pem, openssl genpkey -algorithm ed25519)";

/// The forms a public key may take, for messages.
pub const PUBLIC_KEY_FORMS: &str = "64 hex characters (lcm keygen's PATH.pub), an SPKI PEM \
     PUBLIC KEY (lcm keygen --pem, openssl pkey -pubout) or a C2SP verifier key \
     NAME+hex(id)+base64(type||key) (lcm keygen --name)";

/// Whether `text` is PEM (it starts with a `-----BEGIN ` line).
fn is_pem(text: &str) -> bool {
    text.trim_start().starts_with("-----BEGIN ")
}

/// A private key in either form: PKCS#8 PEM, or 64 hex characters and an optional newline.
/// The decoded seed is zeroized.
fn parse_private_key(text: &str) -> Result<SigningKey, lcm_crypto::Error> {
    if is_pem(text) {
        return SigningKey::from_pkcs8_pem(text.trim());
    }
    let mut seed = lcm_crypto::hex::decode_array::<32>(text.trim_end_matches('\n'))?;
    let key = SigningKey::from_seed(&Seed::from_bytes(seed));
    zeroize::Zeroize::zeroize(&mut seed);
    Ok(key)
}

/// A public key in any of [`PUBLIC_KEY_FORMS`] (surrounding white space ignored).
///
/// # Errors
///
/// The parser's error for the form `text` looks like.
pub fn parse_public_key(text: &str) -> Result<VerifyingKey, String> {
    let text = text.trim();
    if is_pem(text) {
        return VerifyingKey::from_public_key_pem(text).map_err(|e| e.to_string());
    }
    if text.contains('+') {
        return lcm_tlog::note::VerifierKey::parse(text)
            .map(|k| *k.public_key())
            .map_err(|e| e.to_string());
    }
    VerifyingKey::from_hex(text).map_err(|e| e.to_string())
}

/// Reads a private key file ([`PRIVATE_KEY_FORMS`]), refusing one that group or others may
/// read. The text and seed are zeroized.
///
/// # Errors
///
/// [`FileError::Io`]; [`FileError::Invalid`] for a file open to others or not a key.
pub fn read_signing_key(path: &Path) -> Result<SigningKey, FileError> {
    check_private_mode(path)?;
    read_signing_key_any_mode(path)
}

/// Reads a private key file as [`read_signing_key`] does, whatever the file's mode (the
/// Python binding's `key=` files, whose mode the caller answers for).
///
/// # Errors
///
/// [`FileError::Io`]; [`FileError::Invalid`] for a file that is not a key, naming the
/// accepted forms.
pub fn read_signing_key_any_mode(path: &Path) -> Result<SigningKey, FileError> {
    let mut text = String::from_utf8(read_file(path)?).map_err(|_| FileError::Invalid {
        what: format!("{}: key file is not text", path.display()),
    })?;
    let key = parse_private_key(&text);
    zeroize::Zeroize::zeroize(&mut text);
    key.map_err(|e| FileError::Invalid {
        what: format!(
            "{}: not a private key ({e}); expected {PRIVATE_KEY_FORMS}",
            path.display()
        ),
    })
}

/// The public key file next to the private key file `path`: `PATH.pub`.
pub fn pub_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".pub");
    s.into()
}

/// Reads a public key file ([`PUBLIC_KEY_FORMS`]). A private key is named as such: a PEM
/// `PRIVATE KEY`, or hex whose `PATH.pub` holds the public key it derives.
///
/// # Errors
///
/// [`FileError::Io`]; [`FileError::Invalid`] for a private key or a file that is not a key,
/// naming the accepted forms.
pub fn read_verifying_key(path: &Path) -> Result<VerifyingKey, FileError> {
    let mut text = String::from_utf8(read_file(path)?).map_err(|_| FileError::Invalid {
        what: format!("{}: key file is not text", path.display()),
    })?;
    let private = text.contains("PRIVATE KEY-----") || is_private_key(path, &text);
    let key = parse_public_key(&text);
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
            "{}: not a public key ({e}); expected {PUBLIC_KEY_FORMS}",
            path.display()
        ),
    })
}

/// Reads a trusted-key file: one public key a line ([`PUBLIC_KEY_FORMS`]; a PEM key spans
/// its lines), blank lines and lines starting with `#` ignored; or the JSON object of `lcm key
/// list --json` (a store's keys with their retirement times,
/// [`crate::keys::parse_key_list`]). At least one key.
///
/// # Errors
///
/// [`FileError::Io`]; [`FileError::Invalid`] naming the line of a key that does not parse,
/// a private key, or a file with no key.
pub fn read_trusted_keys(path: &Path) -> Result<Vec<TrustedKey>, FileError> {
    let text = read_text(path)?;
    if text.trim_start().starts_with('{') {
        let keys = crate::keys::parse_key_list(&text).map_err(|e| invalid(path, e))?;
        if keys.is_empty() {
            return Err(invalid(path, "no key: the store has recorded no rotation"));
        }
        return Ok(keys);
    }
    let mut keys = Vec::new();
    let mut pem: Option<(usize, String)> = None;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        let bad = |e: String| {
            invalid(
                path,
                format!("line {}: {e}; expected {PUBLIC_KEY_FORMS}", n + 1),
            )
        };
        if line.contains("PRIVATE KEY") {
            return Err(bad(
                "a private key (never hand a private key to a verifier)".to_owned(),
            ));
        }
        if let Some((start, block)) = &mut pem {
            block.push_str(line);
            block.push('\n');
            if line.starts_with("-----END ") {
                let key = parse_public_key(block).map_err(|e| {
                    invalid(
                        path,
                        format!("line {start}: {e}; expected {PUBLIC_KEY_FORMS}"),
                    )
                })?;
                keys.push(TrustedKey::plain(key));
                pem = None;
            }
        } else if line.starts_with("-----BEGIN ") {
            pem = Some((n + 1, format!("{line}\n")));
        } else if !line.is_empty() && !line.starts_with('#') {
            keys.push(TrustedKey::plain(parse_public_key(line).map_err(bad)?));
        }
    }
    if let Some((start, _)) = pem {
        return Err(invalid(
            path,
            format!("line {start}: a PEM block without its END line"),
        ));
    }
    if keys.is_empty() {
        return Err(invalid(
            path,
            format!("no key; expected one a line: {PUBLIC_KEY_FORMS}"),
        ));
    }
    Ok(keys)
}

/// The public keys a verifier trusts: the key in each of `keys` (public key files) and every
/// key in each of `lists` (trusted-key files, [`read_trusted_keys`]), in that order.
///
/// # Errors
///
/// As [`read_verifying_key`] and [`read_trusted_keys`].
pub fn trusted_keys(keys: &[PathBuf], lists: &[PathBuf]) -> Result<Vec<TrustedKey>, FileError> {
    let mut trusted = keys
        .iter()
        .map(|k| read_verifying_key(k).map(TrustedKey::plain))
        .collect::<Result<Vec<_>, _>>()?;
    for list in lists {
        trusted.extend(read_trusted_keys(list)?);
    }
    Ok(trusted)
}

/// The key of `trusted` to verify a document whose header is `header`: the trusted key with
/// the id its signature names, unless that key was retired (a store's key rotation) by the
/// header's `generated_at`; with no such key, the one key of a set of one (its verification
/// then names both ids). `None` for `header` (a document whose header does not parse): the
/// first key, whose verification reports the document.
///
/// # Errors
///
/// The failure to report (a verification failure, exit 1) when the set holds several keys
/// and none has the signer's id, naming that id; when the signer's key was retired before the
/// header was made; or when the set is empty.
pub fn select_trusted_key(
    trusted: &[TrustedKey],
    header: Option<&lcm_capsule::CapsuleHeader>,
) -> Result<VerifyingKey, String> {
    let signer = header.map(|h| &h.signature.key_id);
    if let Some(header) = header
        && let Some(key) = trusted
            .iter()
            .find(|k| k.key.key_id() == header.signature.key_id)
    {
        key.check_not_retired(header.generated_at)?;
        return Ok(key.key);
    }
    match (trusted, signer) {
        ([one], _) | ([one, ..], None) => Ok(one.key),
        ([], _) => Err("no trusted key: pass --key PUBKEY_FILE or --trusted-keys FILE".into()),
        (_, Some(id)) => Err(format!(
            "[signature] signed by key id {id}, which is not one of the {} trusted keys",
            trusted.len()
        )),
    }
}

/// The key id of the public key that the file at `path` derives when read as a private key
/// (`None` when it is not one): a public key given as such derives a key no one signs with,
/// so a match with a document's signer names the file a private key.
pub fn key_id_as_private(path: &Path) -> Option<lcm_crypto::KeyId> {
    let mut text = String::from_utf8(std::fs::read(path).ok()?).ok()?;
    let key = parse_private_key(&text);
    zeroize::Zeroize::zeroize(&mut text);
    Some(key.ok()?.key_id())
}

/// Refuses the key file `path` given to verify `document` when it is the private key that
/// signed it (read as a private key, it derives `signer`). A verifier calls this before it
/// reads the file as a public key, since a private key's bytes are often not a point.
///
/// # Errors
///
/// [`FileError::Invalid`] naming both files, when `path` is the signer's private key.
pub fn refuse_signer_private_key(
    path: &Path,
    signer: &lcm_crypto::KeyId,
    document: &Path,
) -> Result<(), FileError> {
    if key_id_as_private(path).is_some_and(|id| id == *signer) {
        return Err(FileError::Invalid {
            what: format!(
                "{p} is a private key, not a public key (it is the key that signed {f}): pass \
                 its public key, for example {p}.pub (never hand the private key to a verifier)",
                p = path.display(),
                f = document.display()
            ),
        });
    }
    Ok(())
}

/// Whether `hex`, read from `path`, is a private key: `PATH.pub` holds the public key it
/// derives.
fn is_private_key(path: &Path, text: &str) -> bool {
    let Ok(mut seed) = lcm_crypto::hex::decode_array::<32>(text.trim_end_matches('\n')) else {
        return false;
    };
    let derived = SigningKey::from_seed(&Seed::from_bytes(seed)).verifying_key();
    zeroize::Zeroize::zeroize(&mut seed);
    std::fs::read_to_string(pub_path(path))
        .ok()
        .and_then(|t| parse_public_key(&t).ok())
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

/// Reads a JSON file as `T`, under strict input (no key twice, exact numbers, printable ids).
///
/// # Errors
///
/// [`FileError::Io`]; [`FileError::Json`] for bytes that are not JSON or not a `T`;
/// [`FileError::Invalid`] for what strict input refuses.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, FileError> {
    let bytes = read_file(path)?;
    let json = |source| FileError::Json {
        path: path.to_path_buf(),
        source,
    };
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(json)?;
    crate::lifecycle::strict_value(&bytes, &value).map_err(|e| FileError::Invalid {
        what: format!("{}: {e}", path.display()),
    })?;
    serde_json::from_value(value).map_err(json)
}

/// Writes `contents` to `path` atomically, with `mode` (refusing to overwrite unless
/// `force`): the bytes go to a temporary file in the same folder, which is fsynced and then
/// renamed over `path` (or, without `force`, linked to it, which fails if `path` exists), and
/// the folder is fsynced. A failure at any point leaves `path` as it was — a previous file
/// intact, no new file empty or half written.
///
/// # Errors
///
/// [`FileError::Invalid`] when `path` exists and not `force`; [`FileError::Io`].
pub fn write_new(path: &Path, contents: &[u8], mode: u32, force: bool) -> Result<(), FileError> {
    let exists = |p: &Path| FileError::Invalid {
        what: format!("{} exists; pass --force to overwrite it", p.display()),
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
            io_err(path)(e)
        });
    }
    sync_parent(path);
    Ok(())
}

/// Replaces `path` atomically with `contents` (as [`write_new`] with `force`), keeping the
/// mode of the file it replaces (0644 for a new one).
///
/// # Errors
///
/// [`FileError::Io`].
pub fn write_replacing(path: &Path, contents: &[u8]) -> Result<(), FileError> {
    write_new(path, contents, replaced_mode(path), true)
}

/// The mode of the file at `path`, 0644 when there is none.
fn replaced_mode(path: &Path) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).map_or(0o644, |m| m.permissions().mode() & 0o7777)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        0o644
    }
}

/// Replaces `path` atomically (as [`write_replacing`]) with what `write` writes, as it writes
/// it: a document too large to hold (a streamed bundle) goes to the temporary file through a
/// buffer, which is fsynced and renamed over `path` only when `write` succeeds. On any failure
/// the temporary file is removed and `path` is left as it was.
///
/// # Errors
///
/// `write`'s error; [`FileError::Io`] (as `E`) for the file itself.
pub fn write_replacing_with<T, E: From<FileError>>(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<T, E>,
) -> Result<T, E> {
    let tmp = temp_path(path);
    let io = |e| E::from(io_err(path)(e));
    let mut buf = std::io::BufWriter::with_capacity(
        1 << 16,
        open_temp(&tmp, replaced_mode(path)).map_err(io)?,
    );
    let done = write(&mut buf).and_then(|value| {
        let file = buf.into_inner().map_err(|e| io(e.into_error()))?;
        file.sync_all()
            .and_then(|()| std::fs::rename(&tmp, path))
            .map_err(io)?;
        Ok(value)
    });
    if done.is_err() {
        let _ = std::fs::remove_file(&tmp);
    } else {
        sync_parent(path);
    }
    done
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
    let mut f = open_temp(tmp, mode)?;
    f.write_all(contents)?;
    f.sync_all()
}

/// A new (truncated) temporary file with `mode`.
fn open_temp(tmp: &Path, mode: u32) -> std::io::Result<std::fs::File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let f = opts.open(tmp)?;
    #[cfg(unix)]
    {
        // A stale temporary file keeps its old mode: set it explicitly.
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    Ok(f)
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

/// The form of the key files `lcm keygen` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum KeyFormat {
    /// 64 lowercase hex characters and a newline, each file.
    #[default]
    Hex,
    /// PKCS#8 `PRIVATE KEY` and SPKI `PUBLIC KEY` PEM (RFC 8410), as openssl writes them.
    Pem,
}

/// Writes a key pair in hex: [`write_key_pair_as`] with [`KeyFormat::Hex`].
///
/// # Errors
///
/// As [`write_new`].
pub fn write_key_pair(path: &Path, key: &SigningKey, force: bool) -> Result<(), FileError> {
    write_key_pair_as(path, key, force, KeyFormat::Hex)
}

/// Writes a key pair in `format`: the private key (mode 0600) at `path`, the public key at
/// `PATH.pub`. The private key's text is zeroized; without `force`, a failure to write the
/// public key removes the new private key (no half pair is left).
///
/// # Errors
///
/// As [`write_new`]; [`FileError::Invalid`] if the PEM encoder fails.
pub fn write_key_pair_as(
    path: &Path,
    key: &SigningKey,
    force: bool,
    format: KeyFormat,
) -> Result<(), FileError> {
    let encoder = |e: lcm_crypto::Error| invalid(path, e);
    let (private, public) = match format {
        KeyFormat::Hex => {
            let mut private =
                zeroize::Zeroizing::new(lcm_crypto::hex::encode(key.to_seed().expose_secret()));
            private.push('\n');
            (private, format!("{}\n", key.verifying_key().to_hex()))
        }
        KeyFormat::Pem => (
            key.to_pkcs8_pem().map_err(encoder)?,
            key.verifying_key().to_public_key_pem().map_err(encoder)?,
        ),
    };
    write_new(path, private.as_bytes(), 0o600, force)?;
    let written = write_new(&pub_path(path), public.as_bytes(), 0o644, force);
    if written.is_err() && !force {
        // Without its public key the new private key is of no use: no half pair is left.
        let _ = std::fs::remove_file(path);
    }
    written
}

/// The file at `path` as UTF-8 text that is JSON in the strict profile
/// (`lcm_model::strict`: no duplicate keys, no lone surrogates, ...).
///
/// # Errors
///
/// The failures of [`read_text`]; [`FileError::Invalid`] naming the file for text the
/// strict check refuses.
pub fn read_strict_text(path: &Path) -> Result<String, FileError> {
    let text = read_text(path)?;
    lcm_model::strict::check_json(&text).map_err(|e| invalid(path, e))?;
    Ok(text)
}

/// Reads a header, capsule or bundle file: checks it is strict JSON and tells which
/// document it is from its top-level keys (one pass that skips every value: no
/// `serde_json::Value` of the whole document).
///
/// # Errors
///
/// The failures of [`read_text`]; [`FileError::Invalid`] naming the file for malformed or
/// non-strict JSON, or JSON that is none of the documents.
pub fn read_document(path: &Path) -> Result<(lcm_capsule::DocumentKind, String), FileError> {
    let text = read_text(path)?;
    let kind = lcm_capsule::DocumentKind::of_json(&text)
        .map_err(|e| invalid(path, format!("malformed JSON: {e}")))?;
    lcm_model::strict::check_json(&text).map_err(|e| invalid(path, e))?;
    let kind = kind.ok_or_else(|| invalid(path, lcm_capsule::NOT_A_DOCUMENT))?;
    Ok((kind, text))
}

/// The header the document `text` of `kind` is checked against: its own, or for a capsule
/// the one in the file `header_path`; `None` when there is none to be had.
#[must_use]
pub fn header_of(
    kind: lcm_capsule::DocumentKind,
    text: &str,
    header_path: Option<&Path>,
) -> Option<lcm_capsule::CapsuleHeader> {
    use lcm_capsule::{Bundle, CapsuleHeader, DocumentKind};
    match kind {
        DocumentKind::Header => CapsuleHeader::from_json(text).ok(),
        DocumentKind::Bundle => Bundle::from_json(text).ok().map(|b| b.header),
        DocumentKind::Capsule => header_path
            .and_then(|p| std::fs::read_to_string(p).ok())
            .and_then(|t| CapsuleHeader::from_json(&t).ok()),
        _ => None,
    }
}

/// The header of the bundle file at `path` when the file starts with its version and header
/// (as `lcm export` writes it), read from its first bytes only: such a file is verified
/// streamed ([`verify_bundle_file`]). `None` for any other file.
#[must_use]
pub fn leading_bundle_header(path: &Path) -> Option<lcm_capsule::CapsuleHeader> {
    lcm_capsule::leading_bundle_header(std::fs::File::open(path).ok()?)
}

/// Verifies the bundle file at `path`: its `text` when it was read whole, otherwise streamed
/// ([`lcm_capsule::verify_bundle_reader`]: one read, memory that does not grow with its
/// receipts). A streamed file that does not parse, or that the streamed reader refuses, is
/// read whole and verified as [`read_document`] and [`lcm_capsule::verify_bundle_json`] do,
/// so that its errors (and a non-strict file's refusal) are those of every other document.
///
/// # Errors
///
/// [`FileError::Io`] when the file cannot be opened; those of [`read_document`] for a file
/// read whole.
pub fn verify_bundle_file(
    path: &Path,
    text: Option<&str>,
    key: &VerifyingKey,
    requirements: &lcm_capsule::PolicyRequirements,
    progress: &mut dyn FnMut(lcm_capsule::VerifyProgress),
) -> Result<Result<lcm_capsule::Report, lcm_capsule::VerificationFailed>, FileError> {
    if let Some(text) = text {
        let verified =
            lcm_capsule::verify_bundle_json_with_progress(text, key, requirements, progress);
        return Ok(verified);
    }
    let file = std::fs::File::open(path).map_err(io_err(path))?;
    let streamed =
        lcm_capsule::verify_bundle_reader_with_progress(file, key, requirements, progress);
    match &streamed {
        Err(failed) if failed.first().is_some_and(|c| c.name == "document parses") => {
            let (_, text) = read_document(path)?;
            Ok(lcm_capsule::verify_bundle_json_with_progress(
                &text,
                key,
                requirements,
                progress,
            ))
        }
        _ => Ok(streamed),
    }
}

/// A [`FileError::Invalid`]: `path: what`.
fn invalid(path: &Path, what: impl std::fmt::Display) -> FileError {
    FileError::Invalid {
        what: format!("{}: {what}", path.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_read_strictly_and_told_apart() {
        use lcm_capsule::DocumentKind;
        let dir = std::env::temp_dir().join(format!("lcm-files-doc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("doc.json");
        let message = |e: FileError| e.to_string();
        std::fs::write(&p, [0xff]).unwrap();
        assert!(message(read_document(&p).unwrap_err()).ends_with("not UTF-8 text"));
        std::fs::write(&p, "{\"a\": ").unwrap();
        assert!(message(read_document(&p).unwrap_err()).contains(": malformed JSON: "));
        std::fs::write(&p, r#"{"a": 1, "a": 2}"#).unwrap();
        assert!(read_document(&p).is_err());
        assert!(read_strict_text(&p).is_err());
        std::fs::write(&p, r#"{"a": 1}"#).unwrap();
        assert_eq!(read_strict_text(&p).unwrap(), r#"{"a": 1}"#);
        let e = message(read_document(&p).unwrap_err());
        assert_eq!(
            e,
            format!("{}: {}", p.display(), lcm_capsule::NOT_A_DOCUMENT)
        );
        assert!(header_of(DocumentKind::Header, "{}", None).is_none());
        assert!(header_of(DocumentKind::Capsule, "{}", Some(&dir.join("none"))).is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

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

    #[test]
    fn the_signers_private_key_is_refused_as_its_public_key() {
        let dir = std::env::temp_dir().join(format!("lcm-files-signer-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (path, doc) = (dir.join("signing.key"), dir.join("header.json"));
        let key = SigningKey::from_seed(&Seed::from_bytes([9; 32]));
        write_key_pair(&path, &key, true).unwrap();
        let signer = key.verifying_key().key_id();
        let e = refuse_signer_private_key(&path, &signer, &doc).unwrap_err();
        assert!(
            e.to_string().contains("is a private key, not a public key"),
            "{e}"
        );
        assert!(e.to_string().contains("header.json"), "{e}");
        // Its public key, another signer, or no file at all: not refused here.
        let public = pub_path(&path);
        refuse_signer_private_key(&public, &signer, &doc).unwrap();
        let other = SigningKey::from_seed(&Seed::from_bytes([8; 32]))
            .verifying_key()
            .key_id();
        refuse_signer_private_key(&path, &other, &doc).unwrap();
        refuse_signer_private_key(&dir.join("none"), &signer, &doc).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
