//! Key files (`keygen`, reading keys), fingerprints of model files and the audit of pyciaf
//! capsule headers.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use lcm_crypto::{HashAlgorithm, SigningKey, VerifyingKey};
use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::convert::read_file;
use crate::errors::{fingerprint_err, input};

/// The public key file next to the private key file `path`: `PATH.pub`.
fn pub_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".pub");
    s.into()
}

/// Writes `contents` to a new file with `mode` (refusing to overwrite unless `force`), synced.
fn write_new(path: &Path, contents: &[u8], mode: u32, force: bool) -> PyResult<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true);
    if force {
        opts.create(true).truncate(true);
    } else {
        opts.create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let file_err = |e: std::io::Error| input(format!("{}: {e}", path.display()));
    let mut f = opts.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            input(format!(
                "{} exists; pass force=True to overwrite it",
                path.display()
            ))
        } else {
            file_err(e)
        }
    })?;
    #[cfg(unix)]
    {
        // An existing file keeps its old mode under force: set it explicitly.
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(file_err)?;
    }
    f.write_all(contents)
        .and_then(|()| f.sync_all())
        .map_err(file_err)
}

/// Generates an Ed25519 signing key, as `lcm keygen --out PATH`: the private key at `path`
/// (mode 0600) and the public key at `path + ".pub"`, each 64 lowercase hex characters and a
/// newline. Returns the key id (64 hex). Refuses to overwrite either file unless `force`.
///
/// With a `name`, also writes the C2SP verifier key `PATH.vkey` (`lcm keygen --name`): a
/// transparency log's key (its name the log's origin), or with `witness=True` a witness's
/// cosignature key; the name is checked before anything is written.
///
/// Raises `InputError` when a file exists (without `force`) or cannot be written, or for a
/// bad name.
#[pyfunction]
#[pyo3(signature = (path, name = None, witness = false, *, force = false))]
pub(crate) fn keygen(
    path: PathBuf,
    name: Option<String>,
    witness: bool,
    force: bool,
) -> PyResult<String> {
    if let Some(name) = name {
        let files = lcm_store::tlog_ops::write_key_files(&path, force, Some(&name), witness)
            .map_err(crate::tlog::ops_err)?;
        return Ok(files.public.key_id().to_hex());
    }
    if witness {
        return Err(input("witness=True needs a name"));
    }
    let public_path = pub_path(&path);
    if !force {
        for p in [path.as_path(), public_path.as_path()] {
            if p.exists() {
                return Err(input(format!(
                    "{} exists; pass force=True to overwrite it",
                    p.display()
                )));
            }
        }
    }
    let key = SigningKey::generate(&mut lcm_crypto::OsRandom)
        .map_err(|e| input(format!("randomness: {e}")))?;
    let mut private = lcm_crypto::hex::encode(key.to_seed().expose_secret());
    private.push('\n');
    let written = write_new(&path, private.as_bytes(), 0o600, force);
    zeroize::Zeroize::zeroize(&mut private);
    written?;
    write_new(
        &public_path,
        format!("{}\n", key.verifying_key().to_hex()).as_bytes(),
        0o644,
        force,
    )?;
    Ok(key.verifying_key().key_id().to_hex())
}

/// Reads a private key file (64 hex characters, or PKCS#8 PEM).
pub(crate) fn read_signing_key(path: &Path) -> PyResult<SigningKey> {
    lcm_store::files::read_signing_key_any_mode(path).map_err(|e| input(e.to_string()))
}

/// Reads a public key file (64 hex characters, SPKI PEM or a C2SP verifier key).
pub(crate) fn read_verifying_key(path: &Path) -> PyResult<VerifyingKey> {
    lcm_store::files::read_verifying_key(path).map_err(|e| input(e.to_string()))
}

/// The hash algorithm named `name` (`"sha256"` or `"blake3"`).
pub(crate) fn algorithm(name: &str) -> PyResult<HashAlgorithm> {
    match name {
        "sha256" => Ok(HashAlgorithm::Sha256),
        "blake3" => Ok(HashAlgorithm::Blake3),
        other => Err(input(format!(
            "unknown hash algorithm {other:?} (expected \"sha256\" or \"blake3\")"
        ))),
    }
}

/// The per-tensor fingerprint of a safetensors model: each tensor's digest (over its name,
/// dtype, shape and bytes) and the root over them, as `lcm fingerprint` prints it.
#[pyclass(frozen, module = "lcm", get_all)]
#[derive(Debug, Clone)]
pub(crate) struct ParameterFingerprint {
    /// The root over the tensor digests (64 hex).
    root: String,
    /// Each tensor's digest (64 hex), by tensor name.
    tensors: BTreeMap<String, String>,
    /// The number of elements over all tensors.
    elements: u64,
}

py_repr!(
    ParameterFingerprint,
    r,
    "ParameterFingerprint(root={:?}, tensors={}, elements={})",
    r.root,
    r.tensors.len(),
    r.elements
);

/// The fingerprint of a file or directory: `kind` is `"file"` or `"directory"`; `digest`
/// is the file's hash or the directory's tree hash; `files` counts a directory's files;
/// `parameters` is the per-tensor fingerprint of a `.safetensors` file (else None).
#[pyclass(frozen, module = "lcm", get_all)]
#[derive(Debug, Clone)]
pub(crate) struct Fingerprint {
    /// The path fingerprinted.
    path: PathBuf,
    /// `"file"` or `"directory"`.
    kind: &'static str,
    /// `"sha256"` or `"blake3"`.
    algorithm: &'static str,
    /// The digest (64 hex).
    digest: String,
    /// A file's size in bytes (None for a directory).
    size: Option<u64>,
    /// A directory's number of files (None for a file).
    files: Option<usize>,
    /// A safetensors file's per-tensor fingerprint.
    parameters: Option<ParameterFingerprint>,
}

py_repr!(
    Fingerprint,
    r,
    "Fingerprint(path={:?}, kind={:?}, algorithm={:?}, digest={:?})",
    r.path.display().to_string(),
    r.kind,
    r.algorithm,
    r.digest
);

/// Fingerprints a file or a directory as `lcm fingerprint` does: a file's streaming hash, a
/// directory's tree hash over its files' relative paths and hashes, and for a
/// `.safetensors` file also the per-tensor parameter fingerprint. The GIL is released while
/// hashing.
///
/// Raises `InputError` for an unreadable path, an unknown algorithm or a malformed
/// safetensors file.
#[pyfunction]
#[pyo3(signature = (path, algorithm = "sha256"))]
pub(crate) fn fingerprint(py: Python<'_>, path: PathBuf, algorithm: &str) -> PyResult<Fingerprint> {
    let alg = self::algorithm(algorithm)?;
    let alg_name = match alg {
        HashAlgorithm::Sha256 => "sha256",
        _ => "blake3",
    };
    py.detach(|| {
        use lcm_store::fingerprint::Fingerprinted;
        let found = lcm_store::fingerprint::fingerprint(alg, &path, &mut |_| {})
            .map_err(fingerprint_err)?;
        let (kind, digest, size, files, parameters) = match found {
            Fingerprinted::Directory { digest, files } => {
                ("directory", digest, None, Some(files), None)
            }
            Fingerprinted::File {
                digest,
                bytes,
                parameters,
            } => ("file", digest, Some(bytes), None, parameters),
            _ => {
                return Err(input(format!(
                    "{}: not a file or directory",
                    path.display()
                )));
            }
        };
        Ok(Fingerprint {
            path,
            kind,
            algorithm: alg_name,
            digest: digest.to_hex(),
            size,
            files,
            parameters: parameters.map(|fp| ParameterFingerprint {
                root: fp.root().to_hex(),
                tensors: fp
                    .tensor_digests()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_hex()))
                    .collect(),
                elements: fp.element_count(),
            }),
        })
    })
}

/// One finding of a pyciaf header audit: the field, its status (`"consistent"`,
/// `"inconsistent"`, `"unverifiable"` or `"absent"`) and why.
#[pyclass(frozen, module = "lcm", get_all)]
#[derive(Debug, Clone)]
pub(crate) struct Finding {
    /// The field.
    field: String,
    /// What the audit could say.
    status: String,
    /// Why, in words.
    detail: String,
}

py_repr!(
    Finding,
    r,
    "Finding(field={:?}, status={:?}, detail={:?})",
    r.field,
    r.status,
    r.detail
);

/// The audit of a capsule header written by the Python reference (pyciaf 1.7.0), as
/// `lcm compat audit` prints it: what is consistent, inconsistent, and what cannot be checked.
#[pyclass(frozen, module = "lcm", get_all)]
#[derive(Debug, Clone)]
pub(crate) struct PyciafAudit {
    /// SHA-256 of the audited bytes (64 hex).
    file_sha256: String,
    /// The findings, in the header's order.
    findings: Vec<Finding>,
    /// How many findings have each status.
    summary: BTreeMap<String, usize>,
}

py_repr!(
    PyciafAudit,
    r,
    "PyciafAudit(findings={}, summary={:?})",
    r.findings.len(),
    r.summary
);

/// Audits a pyciaf capsule header (`CapsuleHeader.to_json()`), given as `bytes`, a `str` of
/// JSON, or a path (`pathlib.Path`). The audit never trusts the header: it recomputes what it
/// can and says why the rest cannot be checked (truncated digests, discarded salts).
///
/// Raises `InputError` when the input is not a JSON object with `capsule_version`.
#[pyfunction]
pub(crate) fn audit_pyciaf_header(header: &Bound<'_, PyAny>) -> PyResult<PyciafAudit> {
    let bytes: Vec<u8> = if let Ok(s) = header.cast::<PyString>() {
        s.to_str()?.as_bytes().to_vec()
    } else if let Ok(b) = header.extract::<Vec<u8>>() {
        b
    } else {
        let path: PathBuf = header
            .extract()
            .map_err(|_| input("expected bytes, a str of JSON or a path"))?;
        read_file(&path)?
    };
    let report = lcm_pyciaf::audit::audit_header(&bytes).map_err(|e| input(e.to_string()))?;
    let s = report.summary();
    let summary = BTreeMap::from([
        ("consistent".to_owned(), s.consistent),
        ("inconsistent".to_owned(), s.inconsistent),
        ("unverifiable".to_owned(), s.unverifiable),
        ("absent".to_owned(), s.absent),
    ]);
    Ok(PyciafAudit {
        file_sha256: report.file_sha256.to_hex(),
        findings: report
            .findings
            .into_iter()
            .map(|f| Finding {
                field: f.field,
                status: f.status.name().to_owned(),
                detail: f.detail,
            })
            .collect(),
        summary,
    })
}
