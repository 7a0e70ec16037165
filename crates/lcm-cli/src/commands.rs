//! The commands: each returns `Ok(())` or a [`CliError`] that decides the exit code.

use std::fmt;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::mpsc;

use clap::Parser;
use lcm_cli::fingerprint;
use lcm_cli::lifecycle::{self, Managers};
use lcm_cli::progress::Progress;
use lcm_cli::store::{self, SqliteStore, Store, StoredBatch, StoredReceipt, StoredRecord};
use lcm_crypto::{Digest, HashAlgorithm, Seed, SigningKey};
use lcm_managers::{
    Context, InferenceBatchBuilder, ReceiptChain, ReceiptFields, ReceiptLink, RootManager,
};
use lcm_model::records::deployment::DeploymentStatus;
use lcm_model::records::{
    DeploymentAnchor, DeploymentStatusEvent, InferenceReceipt, ModelAnchor, PreDeploymentAnchor,
};
use lcm_model::{Policy, Record, Timestamp, canonical};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::cli::{
    Algorithm, BatchCommand, Cli, Command, CompatCommand, FingerprintArgs, RecordCommand, Status,
};

/// Why a command failed; decides the exit code.
#[derive(Debug)]
pub(crate) enum CliError {
    /// Exit 1: a verification failed.
    Verify(String),
    /// Exit 2: usage or input errors, and every other failure.
    Input(String),
    /// Standard output was closed by its reader (`lcm list receipts | head`): stop quietly
    /// with exit 0, as other command-line tools do. Whatever was committed stays committed.
    BrokenPipe,
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Verify(m) => write!(f, "verification failed: {m}"),
            Self::Input(m) => f.write_str(m),
            Self::BrokenPipe => f.write_str("standard output closed"),
        }
    }
}

pub(crate) fn input(e: impl fmt::Display) -> CliError {
    CliError::Input(one_line(&e.to_string()))
}

/// Errors print as one line.
pub(crate) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl From<store::Error> for CliError {
    fn from(e: store::Error) -> Self {
        input(e)
    }
}

impl From<lcm_cli::Error> for CliError {
    fn from(e: lcm_cli::Error) -> Self {
        input(e)
    }
}

impl From<lcm_model::Error> for CliError {
    fn from(e: lcm_model::Error) -> Self {
        input(e)
    }
}

impl From<lcm_managers::Error> for CliError {
    fn from(e: lcm_managers::Error) -> Self {
        input(e)
    }
}

/// Standard output, where a closed pipe ends the command quietly.
pub(crate) struct Out {
    inner: std::io::BufWriter<std::io::Stdout>,
}

impl Out {
    fn new() -> Self {
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

    fn raw(&mut self, bytes: &[u8]) -> Result<(), CliError> {
        self.inner.write_all(bytes).map_err(out_err)
    }

    fn flush(&mut self) -> Result<(), CliError> {
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

pub(crate) fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // Help and version print to stdout and succeed; usage errors are one line on
            // standard error and exit with 2.
            if !e.use_stderr() {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            let rendered = e.render().to_string();
            let first = rendered.lines().next().unwrap_or("invalid arguments");
            let first = first.strip_prefix("error: ").unwrap_or(first);
            eprintln!("lcm: {} (see lcm --help)", one_line(first));
            return ExitCode::from(2);
        }
    };
    let mut out = Out::new();
    let result = dispatch(&cli, &mut out).and_then(|()| out.flush());
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::BrokenPipe) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = out.flush();
            eprintln!("lcm: {e}");
            ExitCode::from(match e {
                CliError::Verify(_) => 1,
                CliError::Input(_) | CliError::BrokenPipe => 2,
            })
        }
    }
}

fn dispatch(cli: &Cli, out: &mut Out) -> Result<(), CliError> {
    match &cli.command {
        Command::Init { policy } => init(cli, out, policy.as_deref()),
        Command::Keygen { out: path, force } => keygen(cli, out, path, *force),
        Command::Record {
            command: RecordCommand::Lifecycle { file },
        } => record_lifecycle(cli, out, file),
        Command::Record { command } => record_stage(cli, out, command),
        Command::Infer {
            model,
            deployment,
            batch_size,
        } => infer(cli, out, model, deployment, *batch_size),
        Command::Batch {
            command:
                BatchCommand::Close {
                    deployment,
                    window,
                    until,
                },
        } => batch_close(
            cli,
            out,
            deployment.as_deref(),
            window.as_deref(),
            until.as_deref(),
        ),
        Command::Check => check(cli, out),
        Command::List { kind, deployment } => {
            list(cli, out, kind.as_deref(), deployment.as_deref())
        }
        Command::Show {
            kind,
            id,
            deployment,
        } => show(cli, out, kind, id, deployment.as_deref()),
        Command::Fingerprint(args) => fingerprint_cmd(cli, out, args),
        Command::Demo { receipts, out: dir } => crate::capsules::demo(cli, out, *receipts, dir),
        Command::Header {
            key,
            out: path,
            deployment,
        } => crate::capsules::header(cli, out, key, path.as_deref(), deployment.as_deref()),
        Command::Export {
            key,
            out: path,
            deployment,
        } => crate::capsules::export_bundle(cli, out, key, path.as_deref(), deployment.as_deref()),
        Command::Materialize {
            receipt_id,
            header,
            query,
            output,
            out: path,
            deployment,
        } => crate::capsules::materialize(
            cli,
            out,
            &crate::capsules::MaterializeArgs {
                receipt_id,
                header_path: header,
                query: query.as_deref(),
                output: output.as_deref(),
                path: path.as_deref(),
                deployment: deployment.as_deref(),
            },
        ),
        Command::Verify { file, key, header } => {
            crate::capsules::verify(cli, out, file, key.as_deref(), header.as_ref())
        }
        Command::Inspect { file } => crate::capsules::inspect(cli, out, file),
        Command::Compat {
            command: CompatCommand::Audit { file },
        } => crate::compat::audit_cmd(cli, out, file),
    }
}

pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|e| input(format!("{}: {e}", path.display())))
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, CliError> {
    let bytes = read_file(path)?;
    serde_json::from_slice(&bytes).map_err(|e| input(format!("{}: {e}", path.display())))
}

fn open(cli: &Cli) -> Result<SqliteStore, CliError> {
    Ok(SqliteStore::open(&cli.store)?)
}

fn init(cli: &Cli, out: &mut Out, policy: Option<&Path>) -> Result<(), CliError> {
    let policy: Policy = match policy {
        Some(p) => read_json(p)?,
        None => Policy::default(),
    };
    policy.validate()?;
    let (store, fresh) = SqliteStore::init(&cli.store, &policy)?;
    let policy = store.policy()?;
    if cli.json {
        out.line(
            &json!({
                "store": cli.store.display().to_string(),
                "created": fresh,
                "policy_digest": policy.digest()?,
                "schema_version": store::SCHEMA_VERSION,
            })
            .to_string(),
        )
    } else {
        out.line(&format!(
            "{} store {}\n{}",
            if fresh {
                "initialized"
            } else {
                "already initialized:"
            },
            cli.store.display(),
            policy.format_policy_line()?
        ))
    }
}

/// Writes `contents` to a new file with `mode` (refusing to overwrite unless `force`).
pub(crate) fn write_new(
    path: &Path,
    contents: &[u8],
    mode: u32,
    force: bool,
) -> Result<(), CliError> {
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
    let mut f = opts.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            input(format!(
                "{} exists; pass --force to overwrite it",
                path.display()
            ))
        } else {
            input(format!("{}: {e}", path.display()))
        }
    })?;
    #[cfg(unix)]
    {
        // An existing file keeps its old mode under --force: set it explicitly.
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(|e| input(format!("{}: {e}", path.display())))?;
    }
    f.write_all(contents)
        .and_then(|()| f.sync_all())
        .map_err(|e| input(format!("{}: {e}", path.display())))
}

fn pub_path(path: &Path) -> std::path::PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".pub");
    s.into()
}

fn keygen(cli: &Cli, out: &mut Out, path: &Path, force: bool) -> Result<(), CliError> {
    let public_path = pub_path(path);
    if !force {
        for p in [path, public_path.as_path()] {
            if p.exists() {
                return Err(input(format!(
                    "{} exists; pass --force to overwrite it",
                    p.display()
                )));
            }
        }
    }
    let key = SigningKey::generate(&mut lcm_crypto::OsRandom).map_err(input)?;
    let seed = key.to_seed();
    let mut private = lcm_crypto::hex::encode(seed.expose_secret());
    private.push('\n');
    write_new(path, private.as_bytes(), 0o600, force)?;
    zeroize::Zeroize::zeroize(&mut private);
    let public = key.verifying_key();
    write_new(
        &public_path,
        format!("{}\n", public.to_hex()).as_bytes(),
        0o644,
        force,
    )?;
    if cli.json {
        out.line(
            &json!({
                "private_key": path.display().to_string(),
                "public_key": public_path.display().to_string(),
                "key_id": public.key_id().to_hex(),
            })
            .to_string(),
        )
    } else {
        out.line(&format!(
            "private key {} (mode 0600)\npublic key  {}\nkey id      {}",
            path.display(),
            public_path.display(),
            public.key_id()
        ))
    }
}

/// Reads a private key file (64 hex characters and an optional newline).
pub(crate) fn read_signing_key(path: &Path) -> Result<SigningKey, CliError> {
    let mut text = String::from_utf8(read_file(path)?)
        .map_err(|_| input(format!("{}: key file is not text", path.display())))?;
    let seed = lcm_crypto::hex::decode_array::<32>(text.trim_end_matches('\n')).map_err(|e| {
        input(format!(
            "{}: expected a private key of 64 hex characters: {e}",
            path.display()
        ))
    });
    zeroize::Zeroize::zeroize(&mut text);
    let mut seed = seed?;
    let key = SigningKey::from_seed(&Seed::from_bytes(seed));
    zeroize::Zeroize::zeroize(&mut seed);
    Ok(key)
}

/// Reads a public key file (64 hex characters and an optional newline).
pub(crate) fn read_verifying_key(path: &Path) -> Result<lcm_crypto::VerifyingKey, CliError> {
    let text = String::from_utf8(read_file(path)?)
        .map_err(|_| input(format!("{}: key file is not text", path.display())))?;
    lcm_crypto::VerifyingKey::from_hex(text.trim_end_matches('\n')).map_err(|e| {
        input(format!(
            "{}: expected a public key of 64 hex characters: {e}",
            path.display()
        ))
    })
}

fn password(var: &str) -> Result<String, CliError> {
    match std::env::var(var) {
        Ok(p) if !p.is_empty() => Ok(p),
        _ => Err(input(format!(
            "the environment variable {var} must hold the master password"
        ))),
    }
}

fn record_lifecycle(cli: &Cli, out: &mut Out, file: &Path) -> Result<(), CliError> {
    let input: lifecycle::LifecycleInput = read_json(file)?;
    let mut dataset_password = password("LCM_DATASET_PASSWORD")?;
    let mut model_password = password("LCM_MODEL_PASSWORD")?;
    let mut store = open(cli)?;
    let recorded = record_into(&mut store, input, &dataset_password, &model_password);
    zeroize::Zeroize::zeroize(&mut dataset_password);
    zeroize::Zeroize::zeroize(&mut model_password);
    let stored = recorded?;
    print_records(cli, out, &stored)
}

/// Records a whole lifecycle into `store`, next to the lifecycles it holds already (every
/// id must be new).
pub(crate) fn record_into(
    store: &mut SqliteStore,
    input: lifecycle::LifecycleInput,
    dataset_password: &str,
    model_password: &str,
) -> Result<Vec<StoredRecord>, CliError> {
    let ctx = Context::with_policy(store.policy()?)?;
    let staged = Managers::new(&ctx).lifecycle(
        input,
        &lifecycle::Passwords {
            dataset: dataset_password,
            model: model_password,
        },
    )?;
    store.put_records(&staged.records, &staged.evidence)?;
    Ok(staged.records)
}

/// A stage's input, read before the store is opened.
enum StageInput {
    Dataset(lifecycle::DatasetInput, String),
    Model(lifecycle::ModelInput, String),
    Training(lifecycle::TrainingInput),
    Predeployment(lifecycle::PreDeploymentInput),
    Deployment(lifecycle::DeploymentInput),
    Test(lifecycle::TestEvaluationInput),
    Release {
        deployment: String,
        test: String,
    },
    Status {
        deployment: String,
        status: DeploymentStatus,
        reason: String,
    },
}

impl StageInput {
    fn read(command: &RecordCommand) -> Result<Self, CliError> {
        fn parse<T: serde::de::DeserializeOwned>(
            stage: &'static str,
            file: &Path,
        ) -> Result<T, CliError> {
            lifecycle::parse_stage(stage, &read_file(file)?)
                .map_err(|e| input(format!("{}: {e}", file.display())))
        }
        Ok(match command {
            RecordCommand::Lifecycle { .. } => {
                return Err(input("a lifecycle file is not one stage"));
            }
            RecordCommand::Dataset { file } => {
                Self::Dataset(parse("dataset", file)?, password("LCM_DATASET_PASSWORD")?)
            }
            RecordCommand::Model { file } => {
                Self::Model(parse("model", file)?, password("LCM_MODEL_PASSWORD")?)
            }
            RecordCommand::Training { file } => Self::Training(parse("training", file)?),
            RecordCommand::Predeployment { file } => {
                Self::Predeployment(parse("predeployment", file)?)
            }
            RecordCommand::Deployment { file } => Self::Deployment(parse("deployment", file)?),
            RecordCommand::Test { file } => Self::Test(parse("test evaluation", file)?),
            RecordCommand::Release { deployment, test } => Self::Release {
                deployment: deployment.clone(),
                test: test.clone(),
            },
            RecordCommand::Status {
                deployment,
                status,
                reason,
            } => Self::Status {
                deployment: deployment.clone(),
                status: match status {
                    Status::Deployed => DeploymentStatus::Deployed,
                    Status::Failed => DeploymentStatus::Failed,
                    Status::Rollback => DeploymentStatus::RolledBack,
                },
                reason: reason.clone(),
            },
        })
    }

    fn run(&self, m: &mut Managers) -> Result<lifecycle::Staged, lcm_cli::Error> {
        match self {
            Self::Dataset(i, p) => m.dataset(i.clone(), p),
            Self::Model(i, p) => m.model(i.clone(), p),
            Self::Training(i) => m.training(i.clone()),
            Self::Predeployment(i) => m.predeployment(i.clone()),
            Self::Deployment(i) => m.deployment(i.clone()),
            Self::Test(i) => m.test_evaluation(i.clone()),
            Self::Release { deployment, test } => m.release(deployment, test),
            Self::Status {
                deployment,
                status,
                reason,
            } => m.status(deployment, *status, reason),
        }
    }
}

impl Drop for StageInput {
    fn drop(&mut self) {
        if let Self::Dataset(_, p) | Self::Model(_, p) = self {
            zeroize::Zeroize::zeroize(p);
        }
    }
}

/// `lcm record STAGE`: rebuilds the managers from the store and records one stage, inside
/// one write transaction.
fn record_stage(cli: &Cli, out: &mut Out, command: &RecordCommand) -> Result<(), CliError> {
    let stage = StageInput::read(command)?;
    let mut store = open(cli)?;
    let ctx = Context::with_policy(store.policy()?)?;
    let stored = store
        .put_records_with(&mut |s| {
            let mut managers = Managers::restore(&ctx, s)?;
            let staged = stage.run(&mut managers)?;
            Ok((staged.records, staged.evidence))
        })
        .map_err(|e| match e {
            store::Error::Append(inner) => input(inner),
            other => input(other),
        })?;
    print_records(cli, out, &stored)
}

fn print_records(cli: &Cli, out: &mut Out, records: &[StoredRecord]) -> Result<(), CliError> {
    for r in records {
        if cli.json {
            out.line(&json!({"kind": r.kind, "id": r.id, "digest": r.digest}).to_string())?;
        } else {
            out.line(&format!("{}\t{}\t{}", r.kind, r.id, r.digest))?;
        }
    }
    Ok(())
}

fn parse_record<T: serde::de::DeserializeOwned>(r: &StoredRecord) -> Result<T, CliError> {
    serde_json::from_str(&r.json).map_err(|e| input(format!("stored {} {}: {e}", r.kind, r.id)))
}

/// One line of `lcm infer`'s input.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InferLine {
    request_id: String,
    query: String,
    output: String,
    #[serde(default)]
    receipt_id: Option<String>,
    #[serde(default)]
    input_metadata: Map<String, Value>,
    #[serde(default)]
    output_metadata: Map<String, Value>,
    #[serde(default)]
    explanation_digests: Vec<Digest>,
}

/// What the reader thread sends: parsed lines, or the first bad line.
type Chunk = Result<Vec<InferLine>, String>;

fn read_lines(reader: impl Read, tx: &mpsc::SyncSender<Chunk>, max: usize) {
    let mut reader = BufReader::with_capacity(1 << 20, reader);
    let mut line = String::new();
    let mut chunk = Vec::new();
    let mut number = 0u64;
    loop {
        line.clear();
        let n = match reader.read_line(&mut line) {
            Ok(n) => n,
            Err(e) => {
                let _ = tx.send(Ok(std::mem::take(&mut chunk)));
                let _ = tx.send(Err(format!("reading standard input: {e}")));
                return;
            }
        };
        if n == 0 {
            break;
        }
        number += 1;
        if !line.trim().is_empty() {
            match serde_json::from_str::<InferLine>(&line) {
                Ok(l) => chunk.push(l),
                Err(e) => {
                    let _ = tx.send(Ok(std::mem::take(&mut chunk)));
                    let _ = tx.send(Err(format!("standard input line {number}: {e}")));
                    return;
                }
            }
        }
        // Hand over what is parsed when no more input is buffered (so that a slow producer
        // gets each line committed at once) or when the chunk is full.
        if (chunk.len() >= max || (reader.buffer().is_empty() && !chunk.is_empty()))
            && tx.send(Ok(std::mem::take(&mut chunk))).is_err()
        {
            return;
        }
    }
    if !chunk.is_empty() {
        let _ = tx.send(Ok(chunk));
    }
}

/// The model anchor and deployment anchor digests for `lcm infer`, after checking that the
/// deployment releases that model and is not stopped.
fn resolve_release(
    store: &dyn Store,
    model: &str,
    deployment: &str,
) -> Result<(Digest, Digest), CliError> {
    let model_rec = store
        .record(ModelAnchor::KIND, model)?
        .ok_or_else(|| input(format!("no model anchor {model} in the store")))?;
    let dep_rec = store
        .record(DeploymentAnchor::KIND, deployment)?
        .ok_or_else(|| input(format!("no deployment anchor {deployment} in the store")))?;
    let dep: DeploymentAnchor = parse_record(&dep_rec)?;
    let pre_rec = store
        .record(PreDeploymentAnchor::KIND, &dep.predeployment_id)?
        .ok_or_else(|| input(format!("no predeployment anchor {}", dep.predeployment_id)))?;
    if pre_rec.digest != dep.predeployment {
        return Err(CliError::Verify(format!(
            "stage deployment: deployment {deployment} field predeployment: expected {}, stored {}",
            dep.predeployment, pre_rec.digest
        )));
    }
    let pre: PreDeploymentAnchor = parse_record(&pre_rec)?;
    if pre.model_anchor != model_rec.digest {
        return Err(input(format!(
            "deployment {deployment} does not release model {model} (it releases {})",
            pre.model_anchor
        )));
    }
    let events = store.records(Some(DeploymentStatusEvent::KIND))?;
    let mut latest: Option<DeploymentStatusEvent> = None;
    for r in &events {
        let e: DeploymentStatusEvent = parse_record(r)?;
        if e.deployment_id == deployment && latest.as_ref().is_none_or(|l| e.sequence > l.sequence)
        {
            latest = Some(e);
        }
    }
    if let Some(e) = latest
        && e.status != DeploymentStatus::Deployed
    {
        return Err(input(format!(
            "deployment {deployment} has status {}, not deployed",
            e.status.name()
        )));
    }
    Ok((model_rec.digest, dep_rec.digest))
}

/// Appends `n` demo receipts (ids `inf_<sequence>`) for `model` on `deployment` after the
/// head of its chain, in transactions of at most 10,000.
pub(crate) fn make_receipts_for_demo(
    store: &mut SqliteStore,
    model: &str,
    deployment: &str,
    start: u64,
    n: u64,
) -> Result<(), CliError> {
    let policy = store.policy()?;
    let anchors = resolve_release(store, model, deployment)?;
    let seed = store.open_chain(deployment)?;
    let mut chain = ReceiptChain::from_seed(&policy, &seed);
    let mut i = start;
    let end = start.saturating_add(n);
    while i < end {
        let chunk = (end - i).min(10_000);
        let lines: Vec<InferLine> = (i..i + chunk)
            .map(|k| InferLine {
                request_id: format!("req_{k:06}"),
                query: format!("Is there pneumonia in chest X-ray {k}?"),
                output: if k % 3 == 0 {
                    "Pneumonia detected (confidence: 91%)".to_owned()
                } else {
                    "No pneumonia detected (confidence: 95%)".to_owned()
                },
                receipt_id: None,
                input_metadata: Map::new(),
                output_metadata: Map::new(),
                explanation_digests: Vec::new(),
            })
            .collect();
        store.append_receipts(deployment, &mut |h| {
            Ok(make_receipts(&mut chain, anchors, h, &lines)?)
        })?;
        i += chunk;
    }
    Ok(())
}

/// A batch of receipts made by the maker thread, with the lines they were made from and the
/// chain head they were made after.
struct MadeBatch {
    lines: Vec<InferLine>,
    base: Option<store::ChainHead>,
    receipts: Vec<StoredReceipt>,
    /// The acknowledgment lines of `receipts`, formatted ahead (printed after the commit).
    acks: String,
}

/// Appends the acknowledgment lines of `receipts` to `out`.
fn format_acks(json_output: bool, receipts: &[StoredReceipt], out: &mut String) {
    use std::fmt::Write as _;
    for r in receipts {
        if json_output {
            let _ = writeln!(
                out,
                "{}",
                json!({"sequence": r.sequence, "receipt_id": r.receipt_id, "digest": r.digest})
            );
        } else {
            let _ = writeln!(out, "{}\t{}\t{}", r.sequence, r.receipt_id, r.digest);
        }
    }
}

/// Makes the receipts of `lines` after `head` on `chain` (moved there first) for the release
/// `(model anchor, deployment anchor)`; returns them with their canonical JSON.
fn make_receipts(
    chain: &mut ReceiptChain,
    (model_anchor, deployment_anchor): (Digest, Digest),
    head: Option<store::ChainHead>,
    lines: &[InferLine],
) -> Result<Vec<StoredReceipt>, lcm_cli::Error> {
    let next = match head {
        None => 0,
        Some(h) => h.sequence.checked_add(1).ok_or(lcm_cli::Error::ChainFull)?,
    };
    chain.set_head(head.map(|h| h.digest), next)?;
    let mut made = Vec::with_capacity(lines.len());
    let mut id = String::new();
    for line in lines {
        let receipt_id = if let Some(r) = &line.receipt_id {
            r.as_str()
        } else {
            use std::fmt::Write as _;
            id.clear();
            let _ = write!(id, "inf_{:06}", chain.len());
            id.as_str()
        };
        let (sealed, json) = chain.append_encoded(ReceiptFields {
            receipt_id,
            model_anchor,
            deployment_anchor,
            request_id: &line.request_id,
            query: &line.query,
            output: &line.output,
            input_metadata: line.input_metadata.clone(),
            output_metadata: line.output_metadata.clone(),
            explanation_digests: line.explanation_digests.clone(),
            timestamp: Timestamp::now(),
        })?;
        let json = String::from_utf8(json.to_vec()).map_err(|_| lcm_cli::Error::NotUtf8)?;
        let (record, digest) = sealed.into_parts();
        made.push(StoredReceipt {
            sequence: record.sequence,
            receipt_id: record.receipt_id,
            digest,
            timestamp: record.timestamp.unix_micros(),
            json,
        });
    }
    Ok(made)
}

/// `lcm infer`: three threads in a pipeline. The reader parses lines; the maker groups them
/// into batches and makes their receipts after the head it expects; the writer (this
/// thread) appends each batch in one transaction. Inside the transaction the writer reads
/// the real head: if another process appended meanwhile, it remakes the batch after the real
/// head (still inside the transaction, so the chain stays correct) and tells the maker to
/// continue from there. A receipt is acknowledged (printed) only after its commit.
fn infer(
    cli: &Cli,
    out: &mut Out,
    model: &str,
    deployment: &str,
    batch_size: u32,
) -> Result<(), CliError> {
    let mut store = open(cli)?;
    let policy = store.policy()?;
    let anchors = resolve_release(&store, model, deployment)?;
    let seed = store.open_chain(deployment)?;
    let mut writer_chain = ReceiptChain::from_seed(&policy, &seed);
    let mut maker_chain = ReceiptChain::from_seed(&policy, &seed);
    drop(seed);
    let max = usize::try_from(batch_size).unwrap_or(usize::MAX);
    let start_head = store.head(deployment)?;
    // Checkpoints run on their own thread and connection, off the writer's path.
    store.disable_autocheckpoint()?;
    let checkpointer = store::Checkpointer::open(&cli.store)?;
    let (ckpt_tx, ckpt_rx) = mpsc::sync_channel::<()>(1);
    let ckpt_thread = std::thread::spawn(move || {
        while ckpt_rx.recv().is_ok() {
            // A failed checkpoint loses nothing: the frames stay in the WAL for the next one.
            let _ = checkpointer.passive();
        }
        let _ = checkpointer.passive();
    });
    // Set by the writer when the maker must continue from another head.
    type Rebase = std::sync::Mutex<Option<Option<store::ChainHead>>>;
    let rebase: std::sync::Arc<Rebase> = std::sync::Arc::default();
    let (line_tx, line_rx) = mpsc::sync_channel::<Chunk>(4);
    let (batch_tx, batch_rx) = mpsc::sync_channel::<Result<MadeBatch, String>>(2);
    let mut progress = Progress::new("receipts", None, false);
    let mut appended = 0u64;
    let mut head = start_head;
    let json_output = cli.json;
    // The reader and the maker are detached: when the writer stops on an error, the process
    // exits without waiting for standard input to close.
    std::thread::spawn(move || read_lines(std::io::stdin().lock(), &line_tx, max));
    let maker_rebase = std::sync::Arc::clone(&rebase);
    std::thread::spawn(move || {
        let rebase = maker_rebase;
        let mut expected = start_head;
        let mut pending: Vec<InferLine> = Vec::new();
        let mut failure = None;
        loop {
            match line_rx.recv() {
                Ok(Ok(chunk)) => pending.extend(chunk),
                Ok(Err(e)) => failure = Some(e),
                Err(_) => break,
            }
            while pending.len() < max && failure.is_none() {
                match line_rx.try_recv() {
                    Ok(Ok(chunk)) => pending.extend(chunk),
                    Ok(Err(e)) => failure = Some(e),
                    Err(_) => break,
                }
            }
            if !pending.is_empty() {
                let lines = std::mem::take(&mut pending);
                if let Some(h) = rebase.lock().ok().and_then(|mut g| g.take()) {
                    expected = h;
                }
                let made = match make_receipts(&mut maker_chain, anchors, expected, &lines) {
                    Ok(m) => m,
                    Err(e) => {
                        let _ = batch_tx.send(Err(e.to_string()));
                        return;
                    }
                };
                let base = expected;
                let mut acks = String::with_capacity(made.len().saturating_mul(96));
                format_acks(json_output, &made, &mut acks);
                if let Some(last) = made.last() {
                    expected = Some(store::ChainHead {
                        sequence: last.sequence,
                        digest: last.digest,
                    });
                }
                if batch_tx
                    .send(Ok(MadeBatch {
                        lines,
                        base,
                        receipts: made,
                        acks,
                    }))
                    .is_err()
                {
                    return;
                }
            }
            if let Some(e) = failure.take() {
                let _ = batch_tx.send(Err(e));
                return;
            }
        }
    });
    let result: Result<Option<String>, CliError> = (|| {
        // The writer.
        while let Ok(batch) = batch_rx.recv() {
            let batch = match batch {
                Ok(b) => b,
                Err(e) => return Ok(Some(e)),
            };
            let MadeBatch {
                lines,
                base,
                receipts,
                mut acks,
            } = batch;
            let count = lines.len();
            let mut receipts = Some(receipts);
            let mut remade = false;
            let committed = store
                .append_receipts(deployment, &mut |h| {
                    if h == base
                        && let Some(r) = receipts.take()
                    {
                        return Ok(r);
                    }
                    // Another process appended since the maker's view: remake after the
                    // real head, inside this transaction.
                    remade = true;
                    Ok(make_receipts(&mut writer_chain, anchors, h, &lines)?)
                })
                .map_err(|e| match e {
                    store::Error::Duplicate { kind, id } => input(format!(
                        "{kind} {id} is already stored; this batch of {count} lines was not appended"
                    )),
                    other => input(other),
                })?;
            if let Some(last) = committed.last() {
                head = Some(store::ChainHead {
                    sequence: last.sequence,
                    digest: last.digest,
                });
            }
            if remade && let Ok(mut g) = rebase.lock() {
                *g = Some(head);
            }
            // Committed and durable: acknowledge.
            appended = appended.saturating_add(u64::try_from(committed.len()).unwrap_or(u64::MAX));
            if remade {
                acks.clear();
                format_acks(cli.json, &committed, &mut acks);
            }
            out.raw(acks.as_bytes())?;
            // Wake the checkpointer (if it is busy, it will see these frames next time).
            let _ = ckpt_tx.try_send(());
            out.flush()?;
            progress.set(appended);
        }
        Ok(None)
    })();
    progress.finish();
    drop(ckpt_tx);
    let _ = ckpt_thread.join();
    if let Some(e) = result? {
        return Err(input(format!(
            "{e} ({appended} receipts before it were appended and acknowledged)"
        )));
    }
    eprintln!(
        "lcm: appended {appended} receipts; chain head {}",
        head.map_or_else(
            || "none".to_owned(),
            |h| format!("{} at {}", h.digest, h.sequence)
        )
    );
    Ok(())
}

fn batch_close(
    cli: &Cli,
    out: &mut Out,
    deployment: Option<&str>,
    window: Option<&str>,
    until: Option<&str>,
) -> Result<(), CliError> {
    let until: Option<Timestamp> = until
        .map(|u| {
            u.parse()
                .map_err(|e| input(format!("--until {u}: expected an RFC 3339 UTC time: {e}")))
        })
        .transpose()?;
    let mut store = open(cli)?;
    let deployment = lcm_cli::export::chain_of(&store, deployment).map_err(input)?;
    let batch = seal_next_batch(&mut store, &deployment, window, until, None)?;
    print_batch(cli, out, batch)
}

/// Seals the receipts of `deployment`'s chain not yet in a batch (up to the first made after
/// `until`, and up to the sequence number `upto`) into the next batch and its root (stored
/// as the record `inference-batch-root` `DEPLOYMENT/WINDOW`).
pub(crate) fn seal_next_batch(
    store: &mut SqliteStore,
    deployment: &str,
    window: Option<&str>,
    until: Option<Timestamp>,
    upto: Option<u64>,
) -> Result<Option<StoredBatch>, CliError> {
    let policy = store.policy()?;
    let ctx = Context::with_policy(policy.clone())?;
    let batch = store.close_batch(deployment, &mut |s, next| {
        let mut links = Vec::new();
        let mut digests = Vec::new();
        let mut bad = None;
        let mut stopped = false;
        s.scan_receipts(deployment, next, upto, &mut |r| {
            // The window ends at the first receipt made after `until`.
            if stopped || bad.is_some() {
                return Ok(());
            }
            if until.is_some_and(|u| r.timestamp > u.unix_micros()) {
                stopped = true;
                return Ok(());
            }
            match serde_json::from_str::<InferenceReceipt>(&r.json) {
                Ok(rec) => {
                    links.push(ReceiptLink {
                        digest: r.digest,
                        sequence: r.sequence,
                        prev_receipt: rec.prev_receipt,
                        timestamp: rec.timestamp,
                    });
                    digests.push(r.digest);
                }
                Err(e) => bad = Some(format!("stored receipt {}: {e}", r.receipt_id)),
            }
            Ok(())
        })?;
        if let Some(b) = bad {
            return Err(b.into());
        }
        let (Some(first), Some(last)) = (links.first(), links.last()) else {
            return Ok(None);
        };
        let window_id = window.map_or_else(
            || format!("batch_{}_{}", first.sequence, last.sequence),
            str::to_owned,
        );
        let (first_sequence, last_sequence) = (first.sequence, last.sequence);
        let mut builder = InferenceBatchBuilder::new(&policy, &window_id);
        for l in links {
            builder.push(l)?;
        }
        let batch = builder.finish()?;
        let digest = batch.digest(&policy)?;
        let json = canonical::to_string(&batch)?;
        let root =
            RootManager::new(ctx.clone()).compute_inference_batch_root(&window_id, &digests)?;
        Ok(Some((
            StoredBatch {
                window_id,
                first_sequence,
                last_sequence,
                digest,
                json,
            },
            vec![StoredRecord {
                kind: lcm_model::records::InferenceBatchRoot::KIND.to_owned(),
                id: format!("{deployment}/{}", root.record().window_id),
                digest: root.digest(),
                json: canonical::to_string(&root.record())?,
            }],
        )))
    })?;
    Ok(batch)
}

fn print_batch(cli: &Cli, out: &mut Out, batch: Option<StoredBatch>) -> Result<(), CliError> {
    match batch {
        None => {
            if cli.json {
                out.line(&json!({"batch": null}).to_string())
            } else {
                out.line("no receipts to batch")
            }
        }
        Some(b) => {
            let record: lcm_model::records::InferenceBatch =
                serde_json::from_str(&b.json).map_err(|e| input(format!("batch json: {e}")))?;
            if cli.json {
                out.line(
                    &json!({
                        "window_id": b.window_id,
                        "first_sequence": b.first_sequence,
                        "last_sequence": b.last_sequence,
                        "count": record.count,
                        "root": record.root,
                        "digest": b.digest,
                    })
                    .to_string(),
                )
            } else {
                out.line(&format!(
                    "sealed batch {} receipts {}..={} ({}) root {}",
                    b.window_id, b.first_sequence, b.last_sequence, record.count, record.root
                ))
            }
        }
    }
}

fn check(cli: &Cli, out: &mut Out) -> Result<(), CliError> {
    let store = open(cli)?;
    let mut total = 0u64;
    for d in store.chains()? {
        total = total.saturating_add(store.head(&d)?.map_or(0, |h| h.sequence.saturating_add(1)));
    }
    let total = Some(total);
    let mut progress = Progress::new("checking receipts", total, false);
    let report = lcm_cli::check::check_store(&store, &mut |n| progress.set(n))
        .map_err(|f| CliError::Verify(one_line(&f.to_string())))?;
    progress.finish();
    if cli.json {
        out.line(&serde_json::to_string(&report).map_err(|e| input(format!("report json: {e}")))?)
    } else {
        out.line(&format!(
            "store ok: {} records, {} receipts in {} chains, {} batches",
            report.records,
            report.receipts,
            report.chains.len(),
            report.batches,
        ))?;
        for c in &report.chains {
            out.line(&format!(
                "  chain of {}: {} receipts, {} batches, head {}",
                c.deployment,
                c.receipts,
                c.batches,
                c.head.map_or_else(|| "none".to_owned(), |d| d.to_string())
            ))?;
        }
        Ok(())
    }
}

fn list(
    cli: &Cli,
    out: &mut Out,
    kind: Option<&str>,
    deployment: Option<&str>,
) -> Result<(), CliError> {
    let store = open(cli)?;
    if matches!(kind, Some("receipts" | "inference-receipt")) {
        let deployment = lcm_cli::export::chain_of(&store, deployment).map_err(input)?;
        let mut lines = Vec::new();
        store.scan_receipts(&deployment, 0, None, &mut |r| {
            lines.push(if cli.json {
                json!({"sequence": r.sequence, "receipt_id": r.receipt_id, "digest": r.digest})
                    .to_string()
            } else {
                format!("{}\t{}\t{}", r.sequence, r.receipt_id, r.digest)
            });
            Ok(())
        })?;
        for l in lines {
            out.line(&l)?;
        }
        return Ok(());
    }
    print_records(cli, out, &store.records(kind)?)
}

fn show(
    cli: &Cli,
    out: &mut Out,
    kind: &str,
    id: &str,
    deployment: Option<&str>,
) -> Result<(), CliError> {
    let store = open(cli)?;
    let (digest, json) = if kind == InferenceReceipt::KIND {
        let deployment = lcm_cli::export::chain_of(&store, deployment).map_err(input)?;
        let r = store
            .receipt(&deployment, id)?
            .ok_or_else(|| input(format!("no {kind} {id} in the store")))?;
        (r.digest, r.json)
    } else {
        let r = store
            .record(kind, id)?
            .ok_or_else(|| input(format!("no {kind} {id} in the store")))?;
        (r.digest, r.json)
    };
    if cli.json {
        let record: Value =
            serde_json::from_str(&json).map_err(|e| input(format!("stored json: {e}")))?;
        out.line(&json!({"kind": kind, "id": id, "digest": digest, "record": record}).to_string())
    } else {
        out.line(&json)
    }
}

fn fingerprint_cmd(cli: &Cli, out: &mut Out, args: &FingerprintArgs) -> Result<(), CliError> {
    let algorithm = match args.algorithm {
        Algorithm::Sha256 => HashAlgorithm::Sha256,
        Algorithm::Blake3 => HashAlgorithm::Blake3,
    };
    let policy = Policy {
        hash_algorithm: algorithm,
        ..Policy::default()
    };
    for path in &args.paths {
        let meta =
            std::fs::metadata(path).map_err(|e| input(format!("{}: {e}", path.display())))?;
        let shown = path.display().to_string();
        if meta.is_dir() {
            let total = fingerprint::walk(path)
                .map_err(input)?
                .iter()
                .map(|(_, p)| std::fs::metadata(p).map_or(0, |m| m.len()))
                .sum();
            let mut progress = Progress::new(&shown, Some(total), true);
            let (digest, files) = fingerprint::hash_directory(algorithm, path, &mut |n| {
                progress.set(n);
            })
            .map_err(input)?;
            progress.finish();
            if cli.json {
                out.line(
                    &json!({"path": shown, "type": "directory", "algorithm": algorithm,
                        "digest": digest, "files": files})
                    .to_string(),
                )?;
            } else {
                out.line(&format!(
                    "{digest}  {shown}/  ({files} files, {algorithm} tree)"
                ))?;
            }
            continue;
        }
        let mut progress = Progress::new(&shown, Some(meta.len()), true);
        let digest =
            fingerprint::hash_file(algorithm, path, &mut |n| progress.set(n)).map_err(input)?;
        progress.finish();
        let params = if path.extension().is_some_and(|e| e == "safetensors") {
            let bytes = read_file(path)?;
            let fp = fingerprint::safetensors_fingerprint(&policy, path, &bytes).map_err(input)?;
            Some(fp)
        } else {
            None
        };
        if cli.json {
            let mut v = json!({"path": shown, "type": "file", "algorithm": algorithm,
                "digest": digest, "bytes": meta.len()});
            if let (Some(fp), Some(obj)) = (&params, v.as_object_mut()) {
                obj.insert(
                    "parameters".into(),
                    json!({"root": fp.root(), "tensors": fp.tensor_digests().len(),
                        "elements": fp.element_count()}),
                );
            }
            out.line(&v.to_string())?;
        } else {
            out.line(&format!("{digest}  {shown}"))?;
            if let Some(fp) = params {
                out.line(&format!(
                    "{}  {shown} (parameter fingerprint: {} tensors, {} elements)",
                    fp.root(),
                    fp.tensor_digests().len(),
                    fp.element_count()
                ))?;
            }
        }
    }
    Ok(())
}
