//! `lcm.Store`: a store of lifecycles (`lcm_store`), with recording, receipts, batches,
//! headers, bundles, capsules and the integrity check.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use lcm_capsule::{CapsuleHeader, materialize_receipt};
use lcm_model::records::deployment::DeploymentStatus;
use lcm_model::{Policy, Timestamp};
use lcm_store::lifecycle::{self, LifecycleInput, Passwords, Stage};
use lcm_store::log::Log;
use lcm_store::pipeline::{self, RequestLine};
use lcm_store::tlog_ops;
use lcm_store::{Store, StoredReceipt, export};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};
use serde_json::{Map, Value};

use crate::convert::{
    committed_text, document, from_json_text, read_file, stage_document, to_json,
};
use crate::errors::{StoreError, check_err, input, store_err};
use crate::files::read_signing_key;
use crate::records::{Batch, Receipt, StoredRecord, records};
use crate::tlog;

/// A master password: the argument, else the environment variable `var`.
fn password(given: Option<String>, var: &str, arg: &str) -> PyResult<String> {
    match given {
        Some(p) if !p.is_empty() => Ok(p),
        Some(_) => Err(input(format!("{arg} is empty"))),
        None => match std::env::var(var) {
            Ok(p) if !p.is_empty() => Ok(p),
            _ => Err(input(format!(
                "pass {arg}= (or set the environment variable {var})"
            ))),
        },
    }
}

/// Turns request `i` (a dict) into a request line. Where an error names (`requests[i].field`)
/// is formatted only for an error: the conversion runs before any receipt is made, on the
/// calling thread.
fn request(i: usize, item: &Bound<'_, PyAny>) -> PyResult<RequestLine> {
    let at = Name(i);
    let dict = item
        .cast::<PyDict>()
        .map_err(|_| input(format!("{at}: expected a dict")))?;
    let mut line = RequestLine {
        request_id: String::new(),
        query: String::new(),
        output: String::new(),
        receipt_id: None,
        input_metadata: Map::new(),
        output_metadata: Map::new(),
        explanation_digests: Vec::new(),
    };
    let (mut has_id, mut has_query, mut has_output) = (false, false, false);
    let object = |v: &Bound<'_, PyAny>, field: &str| -> PyResult<Map<String, Value>> {
        match to_json(v, &format!("{at}.{field}"))? {
            Value::Object(m) => Ok(m),
            _ => Err(input(format!("{at}.{field}: expected a dict"))),
        }
    };
    for (k, v) in dict.iter() {
        let key = k
            .cast::<PyString>()
            .map_err(|_| input(format!("{at}: a key that is not a str")))?;
        match key.to_str()? {
            "request_id" => {
                line.request_id = v
                    .extract()
                    .map_err(|_| input(format!("{at}.request_id: expected a str")))?;
                has_id = true;
            }
            "query" => {
                line.query = committed_text(&v, &format_args!("{at}.query"))?;
                has_query = true;
            }
            "output" => {
                line.output = committed_text(&v, &format_args!("{at}.output"))?;
                has_output = true;
            }
            "receipt_id" => {
                line.receipt_id = v
                    .extract()
                    .map_err(|_| input(format!("{at}.receipt_id: expected a str or None")))?;
            }
            "input_metadata" => line.input_metadata = object(&v, "input_metadata")?,
            "output_metadata" => line.output_metadata = object(&v, "output_metadata")?,
            "explanation_digests" => {
                let texts: Vec<String> = v.extract().map_err(|_| {
                    input(format!("{at}.explanation_digests: expected a list of str"))
                })?;
                line.explanation_digests = texts
                    .iter()
                    .map(|t| {
                        t.parse()
                            .map_err(|e| input(format!("{at}.explanation_digests: {e}")))
                    })
                    .collect::<PyResult<_>>()?;
            }
            other => {
                return Err(input(format!(
                    "{at}: unknown field {other:?} (expected request_id, query, output, \
                     receipt_id, input_metadata, output_metadata, explanation_digests)"
                )));
            }
        }
    }
    for (present, field) in [
        (has_id, "request_id"),
        (has_query, "query"),
        (has_output, "output"),
    ] {
        if !present {
            return Err(input(format!("{at}: missing field {field}")));
        }
    }
    Ok(line)
}

/// `requests[i]`, as errors name a request.
#[derive(Debug, Clone, Copy)]
struct Name(usize);

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "requests[{}]", self.0)
    }
}

/// A store of lifecycles: an embedded `SQLite` file (or `sqlite:PATH`), or a `PostgreSQL`
/// database given by its URL (`postgres://USER@HOST:PORT/DB`, as `lcm --store` takes it;
/// pass it as a `str`), created and initialised when missing (with `policy`, a dict in the format of `lcm init --policy`,
/// default the default policy), opened as it is otherwise.
///
/// Every method that writes is atomic and returns once what it wrote is durable. A store
/// can be used from several threads (calls are serialised) and as a context manager; the GIL
/// is released during long work.
#[pyclass(name = "Store", module = "lcm", frozen)]
pub(crate) struct PyStore {
    path: PathBuf,
    inner: Mutex<Option<Box<dyn Store>>>,
}

impl std::fmt::Debug for PyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PyStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// An error of the receipt appends: the store's, or the exception of `on_receipt`.
struct Fail(PyErr);

impl From<lcm_store::Error> for Fail {
    fn from(e: lcm_store::Error) -> Self {
        Self(store_err(e))
    }
}

impl PyStore {
    /// The location as messages show it: a URL's password replaced by `***`.
    fn location(&self) -> String {
        lcm_store::redact_location(&self.path.to_string_lossy())
    }

    fn lock(&self) -> PyResult<MutexGuard<'_, Option<Box<dyn Store>>>> {
        let guard = self
            .inner
            .lock()
            .map_err(|_| StoreError::new_err("the store's lock is poisoned"))?;
        if guard.is_none() {
            return Err(input(format!("store {} is closed", self.location())));
        }
        Ok(guard)
    }

    /// Runs `f` on the store with the GIL released. The store's lock is taken after the GIL
    /// is released: a thread waiting for the store never holds the GIL that the thread using
    /// the store needs back.
    fn with<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut dyn Store) -> PyResult<T> + Send,
    ) -> PyResult<T> {
        py.detach(|| {
            let mut guard = self.lock()?;
            let store: &mut dyn Store = guard
                .as_deref_mut()
                .ok_or_else(|| input("the store is closed"))?;
            f(store)
        })
    }

    /// The `document` of `deployment`'s lifecycle (default: the store's only one) signed with
    /// the private key file `key`, as its JSON text; written to `out` too if given.
    fn signed(
        &self,
        py: Python<'_>,
        document: Signed,
        deployment: Option<String>,
        key: &Path,
        out: Option<&Path>,
    ) -> PyResult<String> {
        let key = read_signing_key(key)?;
        let text = self.with(py, |s| {
            let deployment = export::lifecycle_of(s, deployment.as_deref()).map_err(store_err)?;
            let now = Timestamp::now();
            pretty(match document {
                Signed::Header => export::header(s, &deployment, now, &key)
                    .map_err(store_err)?
                    .0
                    .to_json(Some(2)),
                Signed::Bundle => export::bundle(s, &deployment, now, &key)
                    .map_err(store_err)?
                    .to_json(Some(2)),
            })
        })?;
        write_out(out, &text)?;
        Ok(text)
    }

    fn stage(&self, py: Python<'_>, stage: &Stage) -> PyResult<Vec<StoredRecord>> {
        self.with(py, |s| lifecycle::record_stage(s, stage).map_err(store_err))
            .map(records)
    }
}

#[pymethods]
impl PyStore {
    #[new]
    #[pyo3(signature = (path, *, policy = None))]
    fn new(py: Python<'_>, path: PathBuf, policy: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let policy: Policy = match policy {
            Some(p) => document(p, "policy")?,
            None => Policy::default(),
        };
        policy
            .validate()
            .map_err(|e| input(format!("policy: {e}")))?;
        let store = py.detach(|| lcm_store::init(&path, &policy).map_err(store_err))?;
        Ok(Self {
            path,
            inner: Mutex::new(Some(store.0)),
        })
    }

    /// The store's location: a `pathlib.Path` for an `SQLite` file; for a `PostgreSQL` store
    /// its URL as a `str`, the password replaced by `***` (a `Path` would fold the URL's `//`
    /// and show the password).
    #[getter]
    fn path<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let text = self.path.to_string_lossy();
        if text.contains("://") {
            Ok(PyString::new(py, &lcm_store::redact_location(&text)).into_any())
        } else {
            Ok(self.path.clone().into_pyobject(py)?.into_any())
        }
    }

    /// The store's schema version.
    #[getter]
    fn schema_version(&self, py: Python<'_>) -> PyResult<i64> {
        self.with(py, |s| Ok(s.schema_version()))
    }

    /// The store's policy, as a dict.
    #[getter]
    fn policy<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let policy = self.with(py, |s| s.policy().map_err(store_err))?;
        let text =
            lcm_model::canonical::to_string(&policy).map_err(|e| input(format!("policy: {e}")))?;
        from_json_text(py, &text)
    }

    /// Closes the store; later calls raise `InputError`.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| {
            let mut guard = self
                .inner
                .lock()
                .map_err(|_| StoreError::new_err("the store's lock is poisoned"))?;
            *guard = None;
            Ok(())
        })
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    fn __repr__(&self) -> String {
        format!("Store({:?})", self.location())
    }

    /// Records a whole lifecycle (dataset family and splits, model, training with checkpoints,
    /// pre-deployment, deployment, test evaluation, release root) in one transaction, as
    /// `lcm record lifecycle FILE`: `doc` is a dict or a path in that file's format. The master
    /// passwords default to the environment variables `LCM_DATASET_PASSWORD` and
    /// `LCM_MODEL_PASSWORD`. Returns the stored records.
    #[pyo3(signature = (doc, *, dataset_password = None, model_password = None))]
    fn record_lifecycle(
        &self,
        py: Python<'_>,
        doc: &Bound<'_, PyAny>,
        dataset_password: Option<String>,
        model_password: Option<String>,
    ) -> PyResult<Vec<StoredRecord>> {
        let input_doc: LifecycleInput = document(doc, "lifecycle")?;
        let mut dataset = password(dataset_password, "LCM_DATASET_PASSWORD", "dataset_password")?;
        let mut model = password(model_password, "LCM_MODEL_PASSWORD", "model_password")?;
        let result = self.with(py, |s| {
            lifecycle::record_into(
                s,
                input_doc,
                &Passwords {
                    dataset: &dataset,
                    model: &model,
                },
            )
            .map_err(store_err)
        });
        zeroize::Zeroize::zeroize(&mut dataset);
        zeroize::Zeroize::zeroize(&mut model);
        result.map(records)
    }

    /// Stage A: a dataset family and its splits (`lcm record dataset`).
    #[pyo3(signature = (doc, *, password = None))]
    fn record_dataset(
        &self,
        py: Python<'_>,
        doc: &Bound<'_, PyAny>,
        password: Option<String>,
    ) -> PyResult<Vec<StoredRecord>> {
        let input_doc = stage_document(doc, "dataset")?;
        let p = self::password(password, "LCM_DATASET_PASSWORD", "password")?;
        self.stage(py, &Stage::Dataset(input_doc, p))
    }

    /// Stage B: a model anchor, authorized on stored dataset families (`lcm record model`).
    #[pyo3(signature = (doc, *, password = None))]
    fn record_model(
        &self,
        py: Python<'_>,
        doc: &Bound<'_, PyAny>,
        password: Option<String>,
    ) -> PyResult<Vec<StoredRecord>> {
        let input_doc = stage_document(doc, "model")?;
        let p = self::password(password, "LCM_MODEL_PASSWORD", "password")?;
        self.stage(py, &Stage::Model(input_doc, p))
    }

    /// Stage C: start a training session, add checkpoints, complete it (`lcm record training`).
    fn record_training(
        &self,
        py: Python<'_>,
        doc: &Bound<'_, PyAny>,
    ) -> PyResult<Vec<StoredRecord>> {
        self.stage(py, &Stage::Training(stage_document(doc, "training")?))
    }

    /// Stage D: a pre-deployment anchor (`lcm record predeployment`).
    fn record_predeployment(
        &self,
        py: Python<'_>,
        doc: &Bound<'_, PyAny>,
    ) -> PyResult<Vec<StoredRecord>> {
        self.stage(
            py,
            &Stage::Predeployment(stage_document(doc, "predeployment")?),
        )
    }

    /// Stage E: a deployment anchor (`lcm record deployment`).
    fn record_deployment(
        &self,
        py: Python<'_>,
        doc: &Bound<'_, PyAny>,
    ) -> PyResult<Vec<StoredRecord>> {
        self.stage(py, &Stage::Deployment(stage_document(doc, "deployment")?))
    }

    /// Stage F: a test evaluation of a stored split (`lcm record test`).
    fn record_test(&self, py: Python<'_>, doc: &Bound<'_, PyAny>) -> PyResult<Vec<StoredRecord>> {
        self.stage(py, &Stage::Test(stage_document(doc, "test evaluation")?))
    }

    /// The training session root and the release root of `deployment` on `test`
    /// (`lcm record release`).
    fn record_release(
        &self,
        py: Python<'_>,
        deployment: String,
        test: String,
    ) -> PyResult<Vec<StoredRecord>> {
        self.stage(py, &Stage::Release { deployment, test })
    }

    /// A deployment status change: `status` is `"deployed"`, `"failed"` or `"rollback"`
    /// (`lcm record status`).
    fn record_status(
        &self,
        py: Python<'_>,
        deployment: String,
        status: &str,
        reason: String,
    ) -> PyResult<Vec<StoredRecord>> {
        let status = match status {
            "deployed" => DeploymentStatus::Deployed,
            "failed" => DeploymentStatus::Failed,
            "rollback" | "rolled_back" => DeploymentStatus::RolledBack,
            other => {
                return Err(input(format!(
                    "status {other:?}: expected \"deployed\", \"failed\" or \"rollback\""
                )));
            }
        };
        self.stage(
            py,
            &Stage::Status {
                deployment,
                status,
                reason,
            },
        )
    }

    /// Appends a chained, durable receipt for each request to `deployment`'s chain, as
    /// `lcm infer` does. `requests` is a list of dicts with `request_id`, `query` and `output`
    /// (any JSON value: a `str` is committed as it is, anything else as its canonical JSON),
    /// optionally `receipt_id`, `input_metadata`, `output_metadata` and
    /// `explanation_digests`. `model` (`NAME@VERSION`) defaults to the model the deployment
    /// releases. Receipts are committed in transactions of at most `batch_size`; after each
    /// commit `on_receipt`, if given, is called with each committed receipt, in order (an
    /// exception from it stops the appends; what was committed stays). Returns the receipts.
    ///
    /// Memory: the requests are converted first (one copy of their text), and the returned
    /// list holds every receipt: both grow linearly with `len(requests)`.
    #[pyo3(signature = (deployment, requests, *, model = None, batch_size = 16384, on_receipt = None))]
    fn infer(
        &self,
        py: Python<'_>,
        deployment: String,
        requests: &Bound<'_, PyAny>,
        model: Option<String>,
        batch_size: usize,
        on_receipt: Option<Py<PyAny>>,
    ) -> PyResult<Vec<Receipt>> {
        if batch_size == 0 {
            return Err(input("batch_size must be at least 1"));
        }
        let lines: Vec<RequestLine> = if let Ok(list) = requests.cast::<PyList>() {
            list.iter()
                .enumerate()
                .map(|(i, item)| request(i, &item))
                .collect::<PyResult<_>>()?
        } else {
            requests
                .try_iter()
                .map_err(|_| input("requests: expected a list of dicts"))?
                .enumerate()
                .map(|(i, item)| request(i, &item?))
                .collect::<PyResult<_>>()?
        };
        let mut out: Vec<Receipt> = Vec::with_capacity(lines.len());
        self.with(py, |s| {
            let model = match model {
                Some(m) => m,
                None => pipeline::model_of(s, &deployment).map_err(store_err)?,
            };
            pipeline::append_requests(
                s,
                &model,
                &deployment,
                &lines,
                batch_size,
                &mut |committed: Vec<StoredReceipt>| -> Result<(), Fail> {
                    let start = out.len();
                    out.extend(committed.into_iter().map(Receipt::from));
                    if let Some(callback) = &on_receipt {
                        Python::attach(|py| -> PyResult<()> {
                            for r in &out[start..] {
                                callback.call1(py, (r.clone(),))?;
                            }
                            Ok(())
                        })
                        .map_err(Fail)?;
                    }
                    Ok(())
                },
            )
            .map_err(|Fail(e)| e)
        })?;
        Ok(out)
    }

    /// Seals the receipts of `deployment`'s chain (default: the store's only chain) not yet in
    /// a batch, up to `until` (an RFC 3339 UTC time) if given, into the next batch and its
    /// Merkle root (`lcm batch close`). Returns the batch, or None when there was nothing to
    /// seal.
    #[pyo3(signature = (deployment = None, *, window = None, until = None))]
    fn close_batch(
        &self,
        py: Python<'_>,
        deployment: Option<String>,
        window: Option<String>,
        until: Option<String>,
    ) -> PyResult<Option<Batch>> {
        let until: Option<Timestamp> = until
            .map(|u| {
                u.parse()
                    .map_err(|e| input(format!("until {u}: expected an RFC 3339 UTC time: {e}")))
            })
            .transpose()?;
        let batch = self.with(py, |s| {
            let deployment = export::chain_of(s, deployment.as_deref()).map_err(store_err)?;
            pipeline::seal_next_batch(s, &deployment, window.as_deref(), until, None)
                .map_err(store_err)
        })?;
        batch
            .map(|b| {
                let record: lcm_model::records::InferenceBatch = serde_json::from_str(&b.json)
                    .map_err(|e| StoreError::new_err(format!("batch json: {e}")))?;
                Ok(Batch {
                    window_id: b.window_id,
                    first_sequence: b.first_sequence,
                    last_sequence: b.last_sequence,
                    count: record.count,
                    root: record.root.to_hex(),
                    digest: b.digest.to_hex(),
                })
            })
            .transpose()
    }

    /// Signs and returns the capsule header of `deployment`'s lifecycle (default: the store's
    /// only one) with the private key file `key`, writing it to `out` too if given
    /// (`lcm header`).
    #[pyo3(signature = (deployment = None, *, key, out = None))]
    fn header(
        &self,
        py: Python<'_>,
        deployment: Option<String>,
        key: PathBuf,
        out: Option<PathBuf>,
    ) -> PyResult<String> {
        self.signed(py, Signed::Header, deployment, &key, out.as_deref())
    }

    /// Signs and returns the self-contained bundle of `deployment`'s lifecycle (default: the
    /// store's only one) with the private key file `key`, writing it to `out` too if given
    /// (`lcm export`).
    #[pyo3(signature = (deployment = None, *, key, out = None))]
    fn export(
        &self,
        py: Python<'_>,
        deployment: Option<String>,
        key: PathBuf,
        out: Option<PathBuf>,
    ) -> PyResult<String> {
        self.signed(py, Signed::Bundle, deployment, &key, out.as_deref())
    }

    /// Signs and returns the C2SP checkpoint (its text, ending with a newline) of
    /// `deployment`'s receipt log at its current size with the key file `key` (`lcm log
    /// checkpoint`): a C2SP signer key, or an `lcm.keygen` key file. The origin is `origin`
    /// when given, else the name in `KEY.vkey` (from `lcm.keygen(key, name=...)`), else
    /// `lcm.local/DEPLOYMENT`.
    ///
    /// Raises `InputError` for an unreadable key, a key of another name or type, or a bad
    /// origin.
    #[pyo3(signature = (deployment, *, key, origin = None))]
    fn checkpoint(
        &self,
        py: Python<'_>,
        deployment: String,
        key: PathBuf,
        origin: Option<String>,
    ) -> PyResult<String> {
        self.with(py, |s| {
            let signer = tlog_ops::log_signer(&key, origin.as_deref(), &deployment)
                .map_err(tlog::ops_err)?;
            let log = Log::open(&*s, &deployment).map_err(store_err)?;
            let signed = tlog_ops::sign_checkpoint(&log, &signer).map_err(tlog::ops_err)?;
            Ok(signed.to_text())
        })
    }

    /// Returns the consistency proof (one base64 hash a line, as `lcm log prove` writes it;
    /// empty from size 0) from `old_checkpoint` to `deployment`'s receipt log at its current
    /// size. `old_checkpoint` is a signed checkpoint or a capsule header, given as its text
    /// (bytes, or a str holding a newline) or as a path to a file holding it.
    ///
    /// Raises `VerificationError` (`rollback`, `fork`) when `old_checkpoint` is not a state of
    /// the log, `InputError` when it does not parse.
    fn prove(
        &self,
        py: Python<'_>,
        deployment: String,
        old_checkpoint: &Bound<'_, PyAny>,
    ) -> PyResult<String> {
        let (old, from) = tlog::checkpoint_or_header(old_checkpoint)?;
        self.with(py, |s| {
            let log = Log::open(&*s, &deployment).map_err(store_err)?;
            let proved = tlog_ops::prove(&log, &old, &from).map_err(tlog::ops_err)?;
            Ok(tlog::proof_text(&proved))
        })
    }

    /// Returns one receipt's capsule (the receipt, its inclusion proof into the `header`'s
    /// receipts root and its chain neighbours), optionally disclosing its `query` and `output`
    /// (which must be the committed values, given as to `infer`), writing it to `out` too if
    /// given (`lcm materialize`). `header` is the header file (from `header()`).
    #[pyo3(signature = (receipt_id, *, header, query = None, output = None, out = None, deployment = None))]
    #[allow(clippy::too_many_arguments)]
    fn materialize(
        &self,
        py: Python<'_>,
        receipt_id: String,
        header: PathBuf,
        query: Option<&Bound<'_, PyAny>>,
        output: Option<&Bound<'_, PyAny>>,
        out: Option<PathBuf>,
        deployment: Option<String>,
    ) -> PyResult<String> {
        let query = query.map(|q| committed_text(q, &"query")).transpose()?;
        let output = output.map(|o| committed_text(o, &"output")).transpose()?;
        let header_text = String::from_utf8(read_file(&header)?)
            .map_err(|_| input(format!("{}: not UTF-8", header.display())))?;
        let parsed = CapsuleHeader::from_json(&header_text)
            .map_err(|e| input(format!("{}: {e}", header.display())))?;
        let named = parsed
            .stage_e_deployment
            .as_ref()
            .map(|e| e.deployment_id.clone());
        if let (Some(given), Some(named)) = (&deployment, &named)
            && given != named
        {
            return Err(input(format!(
                "deployment {given}, but {} is the header of deployment {named}",
                header.display()
            )));
        }
        let text = self.with(py, |s| {
            let policy = s.policy().map_err(store_err)?;
            let deployment = export::chain_of(s, deployment.as_deref().or(named.as_deref()))
                .map_err(store_err)?;
            let receipt = export::receipt(s, &deployment, &receipt_id).map_err(store_err)?;
            let log = export::chain_log(s, &deployment, &policy).map_err(store_err)?;
            let disclosure = export::disclosure(
                s,
                &deployment,
                &receipt,
                query.as_deref(),
                output.as_deref(),
            )
            .map_err(store_err)?;
            let capsule =
                materialize_receipt(&parsed, &*log, &receipt, disclosure).map_err(|e| {
                    input(format!(
                        "receipt {receipt_id} against {}: {e}",
                        header.display()
                    ))
                })?;
            pretty(capsule.to_json(Some(2)))
        })?;
        write_out(out.as_deref(), &text)?;
        Ok(text)
    }

    /// Recomputes every record digest, link, receipt chain and batch (`lcm check`). Returns
    /// what was covered, as a dict; raises `VerificationError` naming the first failure.
    fn check<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let report = self.with(py, |s| {
            lcm_store::check::check_store(s, &mut |_| {}).map_err(check_err)
        })?;
        let text = serde_json::to_string(&report)
            .map_err(|e| StoreError::new_err(format!("report json: {e}")))?;
        from_json_text(py, &text)
    }

    /// The stored records, all or of one `kind` (for example `"model-anchor"`).
    #[pyo3(signature = (kind = None))]
    fn records(&self, py: Python<'_>, kind: Option<String>) -> PyResult<Vec<StoredRecord>> {
        self.with(py, |s| s.records(kind.as_deref()).map_err(store_err))
            .map(records)
    }

    /// The model (`NAME@VERSION`) that `deployment` releases.
    fn model_of(&self, py: Python<'_>, deployment: String) -> PyResult<String> {
        self.with(py, |s| {
            pipeline::model_of(s, &deployment).map_err(store_err)
        })
    }
}

/// The documents [`PyStore::signed`] signs.
#[derive(Clone, Copy)]
enum Signed {
    /// The capsule header (`lcm header`).
    Header,
    /// The self-contained bundle (`lcm export`).
    Bundle,
}

/// A document's JSON text, or the error that made it fail as a `StoreError`.
fn pretty<E: std::fmt::Display>(json: Result<String, E>) -> PyResult<String> {
    json.map_err(|e| StoreError::new_err(e.to_string()))
}

/// Writes `text` and a newline to `path`, when given.
fn write_out(path: Option<&Path>, text: &str) -> PyResult<()> {
    if let Some(p) = path {
        std::fs::write(p, format!("{text}\n"))
            .map_err(|e| input(format!("{}: {e}", p.display())))?;
    }
    Ok(())
}
