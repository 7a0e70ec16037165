//! The commands that work on a store (`init`, `keygen`, `record`, `infer`, `batch`, `check`,
//! `list`, `show`, `fingerprint`) and the dispatcher; each returns `Ok(())` or a
//! [`CliError`] that decides the exit code. The store logic is `lcm_store`'s: these
//! functions read arguments and print.

use std::path::Path;
use std::process::ExitCode;

use clap::Parser;
use lcm_crypto::HashAlgorithm;
use lcm_model::records::InferenceReceipt;
use lcm_model::records::deployment::DeploymentStatus;
use lcm_model::{Policy, Record, Timestamp};
use lcm_store::lifecycle::{self, Stage};
use lcm_store::{Store, StoredBatch, StoredReceipt, StoredRecord, export, fingerprint, pipeline};
use serde_json::{Value, json};

use crate::cli::{
    Algorithm, BatchCommand, Cli, Command, CompatCommand, FingerprintArgs, RecordCommand, Status,
};
use crate::error::{CliError, input, one_line};
use crate::io::{Out, file_err, open, open_read_only, password, plural, read_file, read_json};
use crate::progress::Progress;

pub(crate) fn run() -> ExitCode {
    let mut cli = match Cli::try_parse() {
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
    // `--store` after the command wins over the top-level one (and `LCM_STORE`).
    if let Some(store) = cli.command.store() {
        cli.store = store.to_path_buf();
    }
    let mut out = Out::new();
    let result = dispatch(&cli, &mut out).and_then(|()| out.flush());
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::BrokenPipe) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = out.flush();
            eprintln!("lcm: {}", one_line(&e.to_string()));
            ExitCode::from(e.exit_code())
        }
    }
}

fn dispatch(cli: &Cli, out: &mut Out) -> Result<(), CliError> {
    match &cli.command {
        Command::Init { policy, .. } => init(cli, out, policy.as_deref()),
        Command::Keygen {
            out: path,
            force,
            name,
            witness,
        } => keygen(cli, out, path, *force, name.as_deref(), *witness),
        Command::Record {
            command: RecordCommand::Lifecycle { file, overrides },
            ..
        } => record_lifecycle(
            cli,
            out,
            file,
            &lifecycle::Overrides {
                plaintext_pii: overrides.allow_plaintext_pii.clone(),
                failed_security_scan: overrides.allow_failed_security_scan.clone(),
            },
        ),
        Command::Record { command, .. } => record_stage(cli, out, command),
        Command::Infer {
            model,
            deployment,
            batch_size,
            allow_repeated_request_id,
            ..
        } => infer(
            cli,
            out,
            model,
            deployment,
            pipeline::InferOptions {
                batch_size: usize::try_from(*batch_size).unwrap_or(usize::MAX),
                request_ids: if *allow_repeated_request_id {
                    pipeline::RequestIds::AllowRepeats
                } else {
                    pipeline::RequestIds::Unique
                },
            },
        ),
        Command::Batch {
            command:
                BatchCommand::Close {
                    deployment,
                    window,
                    until,
                },
            ..
        } => batch_close(
            cli,
            out,
            deployment.as_deref(),
            window.as_deref(),
            until.as_deref(),
        ),
        Command::Check { .. } => check(cli, out),
        Command::List {
            kind, deployment, ..
        } => list(cli, out, kind.as_deref(), deployment.as_deref()),
        Command::Show {
            kind,
            id,
            deployment,
            ..
        } => show(cli, out, kind, id, deployment.as_deref()),
        Command::Fingerprint(args) => fingerprint_cmd(cli, out, args),
        Command::Demo {
            receipts, out: dir, ..
        } => crate::capsules::demo(cli, out, *receipts, dir),
        Command::Header {
            key,
            out: path,
            deployment,
            ..
        } => crate::capsules::header(cli, out, key, path.as_deref(), deployment.as_deref()),
        Command::Export {
            key,
            out: path,
            deployment,
            ..
        } => crate::capsules::export_bundle(cli, out, key, path.as_deref(), deployment.as_deref()),
        Command::Materialize {
            receipt_id,
            header,
            query,
            output,
            out: path,
            deployment,
            ..
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
        Command::Verify {
            file,
            key,
            header,
            requirements,
            proof,
            ..
        } => crate::capsules::verify(
            cli,
            out,
            file,
            key.as_deref(),
            header.as_ref(),
            requirements,
            proof.as_deref(),
        ),
        Command::Inspect { file, document } => crate::capsules::inspect(cli, out, file, *document),
        Command::Log { command, .. } => crate::tlog::log(cli, out, command),
        Command::Witness { command } => crate::witness::cosign(cli, out, command),
        Command::Example { name } => out.raw(name.text().as_bytes()),
        Command::Compat {
            command: CompatCommand::Audit { file },
        } => crate::compat::audit_cmd(cli, out, file),
    }
}

fn init(cli: &Cli, out: &mut Out, policy: Option<&Path>) -> Result<(), CliError> {
    let policy: Policy = match policy {
        Some(p) => read_json(p)?,
        None => Policy::default(),
    };
    policy.validate()?;
    let (store, fresh) = lcm_store::init(&cli.store, &policy)?;
    let policy = store.policy()?;
    if cli.json {
        out.line(
            &json!({
                "store": crate::io::store_name(cli),
                "created": fresh,
                "policy_digest": policy.digest()?,
                "schema_version": store.schema_version(),
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
            crate::io::store_name(cli),
            policy.format_policy_line()?
        ))
    }
}

fn keygen(
    cli: &Cli,
    out: &mut Out,
    path: &Path,
    force: bool,
    name: Option<&str>,
    witness: bool,
) -> Result<(), CliError> {
    let files = lcm_store::tlog_ops::write_key_files(path, force, name, witness)?;
    let (public, public_path, vkey_path) = (files.public, files.public_path, files.vkey_path);
    let vkey = files.vkey.map(|v| v.to_string());
    if cli.json {
        let mut value = json!({
            "private_key": path.display().to_string(),
            "public_key": public_path.display().to_string(),
            "key_id": public.key_id().to_hex(),
        });
        if let Some(vkey) = &vkey {
            value["verifier_key"] = json!(vkey_path.display().to_string());
            value["vkey"] = json!(vkey);
        }
        out.line(&value.to_string())
    } else {
        out.line(&format!(
            "private key {} (mode 0600)\npublic key  {}\nkey id      {}",
            path.display(),
            public_path.display(),
            public.key_id()
        ))?;
        if let Some(vkey) = &vkey {
            out.line(&format!(
                "verifier key {}\n             {vkey}",
                vkey_path.display()
            ))?;
        }
        Ok(())
    }
}

fn record_lifecycle(
    cli: &Cli,
    out: &mut Out,
    file: &Path,
    overrides: &lifecycle::Overrides,
) -> Result<(), CliError> {
    // Any RFC 3339 timestamp in the file; the records keep the canonical form.
    let input: lifecycle::LifecycleInput = Timestamp::accepting_rfc3339(|| read_json(file))?;
    let mut dataset_password = password("LCM_DATASET_PASSWORD")?;
    let mut model_password = password("LCM_MODEL_PASSWORD")?;
    let mut store = open(cli)?;
    let recorded = lifecycle::record_into_with(
        &mut *store,
        input,
        &lifecycle::Passwords {
            dataset: &dataset_password,
            model: &model_password,
        },
        overrides,
    );
    zeroize::Zeroize::zeroize(&mut dataset_password);
    zeroize::Zeroize::zeroize(&mut model_password);
    print_records(cli, out, &recorded?)
}

/// A stage's input, read before the store is opened.
fn read_stage(command: &RecordCommand) -> Result<Stage, CliError> {
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
        RecordCommand::Dataset { file, .. } => {
            Stage::Dataset(parse("dataset", file)?, password("LCM_DATASET_PASSWORD")?)
        }
        RecordCommand::Model { file } => {
            Stage::Model(parse("model", file)?, password("LCM_MODEL_PASSWORD")?)
        }
        RecordCommand::Training { file } => Stage::Training(parse("training", file)?),
        RecordCommand::Predeployment { file } => {
            Stage::Predeployment(parse("predeployment", file)?)
        }
        RecordCommand::Deployment { file, .. } => Stage::Deployment(parse("deployment", file)?),
        RecordCommand::Test { file } => Stage::Test(parse("test evaluation", file)?),
        RecordCommand::Release { deployment, test } => Stage::Release {
            deployment: deployment.clone(),
            test: test.clone(),
        },
        RecordCommand::Status {
            deployment,
            status,
            reason,
        } => Stage::Status {
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

/// `lcm record STAGE`: rebuilds the managers from the store and records one stage, inside
/// one write transaction.
fn record_stage(cli: &Cli, out: &mut Out, command: &RecordCommand) -> Result<(), CliError> {
    let stage = read_stage(command)?;
    let overrides = lifecycle::Overrides {
        plaintext_pii: match command {
            RecordCommand::Dataset {
                allow_plaintext_pii,
                ..
            } => allow_plaintext_pii.clone(),
            _ => None,
        },
        failed_security_scan: match command {
            RecordCommand::Deployment {
                allow_failed_security_scan,
                ..
            } => allow_failed_security_scan.clone(),
            _ => None,
        },
    };
    let mut store = open(cli)?;
    let stored = lifecycle::record_stage_with(&mut *store, &stage, &overrides)?;
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

/// Appends the acknowledgment lines of `receipts` to `out`, as text.
fn text_acks(receipts: &[StoredReceipt], out: &mut String) {
    use std::fmt::Write as _;
    for r in receipts {
        let _ = writeln!(out, "{}\t{}\t{}", r.sequence, r.receipt_id, r.digest);
    }
}

/// Appends the acknowledgment lines of `receipts` to `out`, as JSON lines.
fn json_acks(receipts: &[StoredReceipt], out: &mut String) {
    use std::fmt::Write as _;
    for r in receipts {
        let _ = writeln!(
            out,
            "{}",
            json!({"sequence": r.sequence, "receipt_id": r.receipt_id, "digest": r.digest})
        );
    }
}

/// `lcm infer`: [`pipeline::infer`] on standard input, printing each receipt once it is
/// committed.
fn infer(
    cli: &Cli,
    out: &mut Out,
    model: &str,
    deployment: &str,
    options: pipeline::InferOptions,
) -> Result<(), CliError> {
    let mut store = open(cli)?;
    let mut progress = Progress::new("receipts", None, false);
    let summary = pipeline::infer(
        &mut *store,
        model,
        deployment,
        options,
        std::io::stdin(),
        if cli.json { json_acks } else { text_acks },
        &mut |acks: &str, appended| -> Result<(), CliError> {
            out.raw(acks.as_bytes())?;
            out.flush()?;
            progress.set(appended);
            Ok(())
        },
    );
    progress.finish();
    let summary = summary?;
    eprintln!(
        "lcm: appended {}; chain head {}",
        plural(summary.appended, "receipt", "receipts"),
        summary.head.map_or_else(
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
        .map(|u| Timestamp::parse_rfc3339(u).map_err(|e| input(format!("--until: {e}"))))
        .transpose()?;
    if let Some(w) = window {
        lcm_model::strict::check_id("--window", w).map_err(|e| input(e.to_string()))?;
    }
    let mut store = open(cli)?;
    let deployment = export::chain_of(&*store, deployment)?;
    let batch = pipeline::seal_next_batch(&mut *store, &deployment, window, until, None)?;
    print_batch(cli, out, batch)
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
    let store = open_read_only(cli)?;
    let mut total = 0u64;
    for d in store.chains()? {
        total = total.saturating_add(store.head(&d)?.map_or(0, |h| h.sequence.saturating_add(1)));
    }
    let total = Some(total);
    let mut progress = Progress::new("checking receipts", total, false);
    let report = lcm_store::check::check_store(&*store, &mut |n| progress.set(n))?;
    progress.finish();
    if cli.json {
        out.line(&serde_json::to_string(&report).map_err(|e| input(format!("report json: {e}")))?)
    } else {
        out.line(&format!(
            "store ok: {}, {} in {}, {}",
            plural(report.records, "record", "records"),
            plural(report.receipts, "receipt", "receipts"),
            plural(report.chains.len(), "chain", "chains"),
            plural(report.batches, "batch", "batches"),
        ))?;
        for c in &report.chains {
            out.line(&format!(
                "  chain of {}: {}, {}, head {}",
                c.deployment,
                plural(c.receipts, "receipt", "receipts"),
                plural(c.batches, "batch", "batches"),
                c.head.map_or_else(|| "none".to_owned(), |d| d.to_string())
            ))?;
        }
        Ok(())
    }
}

/// The kinds `lcm list` accepts besides the record kinds ([`lcm_store::RECORD_KINDS`], each
/// also in the plural).
const LIST_VIEWS: &[&str] = &["receipts", "lifecycles", "deployments", "batches"];

/// What `lcm list KIND` lists.
enum ListKind<'a> {
    /// Every record.
    All,
    /// The records of one kind.
    Records(&'a str),
    /// The receipts of a chain.
    Receipts,
    /// The lifecycles (deployments with a release root).
    Lifecycles,
    /// The deployments, with their status.
    Deployments,
    /// The inference batches of every chain (or of --deployment's).
    Batches,
}

/// `kind` as a [`ListKind`]: a record kind or its plural, or a view; anything else is an
/// input error naming the accepted kinds.
fn list_kind(kind: Option<&str>) -> Result<ListKind<'_>, CliError> {
    let Some(kind) = kind else {
        return Ok(ListKind::All);
    };
    match kind {
        "receipts" | "receipt" | "inference-receipt" | "inference-receipts" => {
            return Ok(ListKind::Receipts);
        }
        "lifecycles" | "lifecycle" => return Ok(ListKind::Lifecycles),
        "deployments" | "deployment" => return Ok(ListKind::Deployments),
        "batches" | "batch" | "inference-batch" | "inference-batches" => {
            return Ok(ListKind::Batches);
        }
        _ => {}
    }
    let singular = kind.strip_suffix('s').unwrap_or(kind);
    if let Some(k) = lcm_store::RECORD_KINDS
        .iter()
        .find(|k| **k == kind || **k == singular)
    {
        return Ok(ListKind::Records(k));
    }
    Err(input(format!(
        "unknown kind {kind:?}; accepted: {}, or a record kind: {}",
        LIST_VIEWS.join(", "),
        lcm_store::RECORD_KINDS.join(", ")
    )))
}

fn list(
    cli: &Cli,
    out: &mut Out,
    kind: Option<&str>,
    deployment: Option<&str>,
) -> Result<(), CliError> {
    let kind = list_kind(kind)?;
    let store = open_read_only(cli)?;
    match kind {
        ListKind::All => print_records(cli, out, &store.records(None)?),
        ListKind::Records(k) => print_records(cli, out, &store.records(Some(k))?),
        ListKind::Receipts => list_receipts(cli, out, &*store, deployment),
        ListKind::Lifecycles => list_lifecycles(cli, out, &*store),
        ListKind::Deployments => list_deployments(cli, out, &*store),
        ListKind::Batches => list_batches(cli, out, &*store, deployment),
    }
}

/// The receipts of a chain, one line each (the whole list is held before printing: memory
/// grows with the chain's length).
fn list_receipts(
    cli: &Cli,
    out: &mut Out,
    store: &dyn Store,
    deployment: Option<&str>,
) -> Result<(), CliError> {
    let deployment = export::chain_of(store, deployment)?;
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
    Ok(())
}

/// How many receipts the chain of `deployment` holds.
fn receipt_count(store: &dyn Store, deployment: &str) -> Result<u64, CliError> {
    Ok(store
        .head(deployment)?
        .map_or(0, |h| h.sequence.saturating_add(1)))
}

/// One line per lifecycle (a deployment with a release root): the deployment, the release
/// root's digest, its receipts and batches.
fn list_lifecycles(cli: &Cli, out: &mut Out, store: &dyn Store) -> Result<(), CliError> {
    for r in store.records(Some(lcm_model::records::ReleaseRoot::KIND))? {
        let receipts = receipt_count(store, &r.id)?;
        let batches = store.batches(&r.id)?.len();
        if cli.json {
            out.line(
                &json!({"deployment": r.id, "release_root": r.digest, "receipts": receipts,
                    "batches": batches})
                .to_string(),
            )?;
        } else {
            out.line(&format!(
                "{}\t{}\t{}\t{}",
                r.id,
                r.digest,
                plural(receipts, "receipt", "receipts"),
                plural(batches, "batch", "batches")
            ))?;
        }
    }
    Ok(())
}

/// One line per deployment anchor: the deployment, the anchor's digest, its latest status,
/// whether its lifecycle is released, its receipts.
fn list_deployments(cli: &Cli, out: &mut Out, store: &dyn Store) -> Result<(), CliError> {
    use lcm_model::records::{DeploymentAnchor, DeploymentStatusEvent, ReleaseRoot};
    // The latest status of each deployment: the event with the highest sequence.
    let mut latest: std::collections::BTreeMap<String, (u64, String)> =
        std::collections::BTreeMap::new();
    for e in store.records(Some(DeploymentStatusEvent::KIND))? {
        let v: Value =
            serde_json::from_str(&e.json).map_err(|err| input(format!("stored json: {err}")))?;
        let (Some(d), Some(seq), Some(status)) = (
            v["deployment_id"].as_str(),
            v["sequence"].as_u64(),
            v["status"].as_str(),
        ) else {
            continue;
        };
        let entry = latest
            .entry(d.to_owned())
            .or_insert_with(|| (seq, status.to_owned()));
        if seq >= entry.0 {
            *entry = (seq, status.to_owned());
        }
    }
    for r in store.records(Some(DeploymentAnchor::KIND))? {
        let status = latest.get(&r.id).map_or("", |(_, s)| s.as_str());
        let released = store.record(ReleaseRoot::KIND, &r.id)?.is_some();
        let receipts = receipt_count(store, &r.id)?;
        if cli.json {
            out.line(
                &json!({"deployment": r.id, "digest": r.digest, "status": status,
                    "released": released, "receipts": receipts})
                .to_string(),
            )?;
        } else {
            out.line(&format!(
                "{}\t{}\t{}\t{}\t{}",
                r.id,
                r.digest,
                if status.is_empty() { "-" } else { status },
                if released { "released" } else { "not released" },
                plural(receipts, "receipt", "receipts")
            ))?;
        }
    }
    Ok(())
}

/// One line per inference batch of --deployment's chain, or of every chain.
fn list_batches(
    cli: &Cli,
    out: &mut Out,
    store: &dyn Store,
    deployment: Option<&str>,
) -> Result<(), CliError> {
    let chains = match deployment {
        Some(d) => vec![d.to_owned()],
        None => store.chains()?,
    };
    for chain in chains {
        for b in store.batches(&chain)? {
            let count = b
                .last_sequence
                .saturating_sub(b.first_sequence)
                .saturating_add(1);
            if cli.json {
                out.line(
                    &json!({"deployment": chain, "window_id": b.window_id,
                        "first_sequence": b.first_sequence, "last_sequence": b.last_sequence,
                        "count": count, "digest": b.digest})
                    .to_string(),
                )?;
            } else {
                out.line(&format!(
                    "{chain}\t{}\t{}..={}\t{}\t{}",
                    b.window_id,
                    b.first_sequence,
                    b.last_sequence,
                    plural(count, "receipt", "receipts"),
                    b.digest
                ))?;
            }
        }
    }
    Ok(())
}

fn show(
    cli: &Cli,
    out: &mut Out,
    kind: &str,
    id: &str,
    deployment: Option<&str>,
) -> Result<(), CliError> {
    let store = open_read_only(cli)?;
    let (digest, json) = if kind == InferenceReceipt::KIND {
        let deployment = export::chain_of(&*store, deployment)?;
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
        let meta = std::fs::metadata(path).map_err(file_err(path))?;
        let shown = path.display().to_string();
        if meta.is_dir() {
            let total = fingerprint::walk(path)?
                .iter()
                .map(|(_, p)| std::fs::metadata(p).map_or(0, |m| m.len()))
                .sum();
            let mut progress = Progress::new(&shown, Some(total), true);
            let (digest, files) = fingerprint::hash_directory(algorithm, path, &mut |n| {
                progress.set(n);
            })?;
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
        let digest = fingerprint::hash_file(algorithm, path, &mut |n| progress.set(n))?;
        progress.finish();
        let params = if path.extension().is_some_and(|e| e == "safetensors") {
            let bytes = read_file(path)?;
            Some(fingerprint::safetensors_fingerprint(&policy, path, &bytes)?)
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
