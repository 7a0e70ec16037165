//! The commands that work on a store (`init`, `keygen`, `record`, `infer`, `batch`, `check`,
//! `list`, `show`) and the dispatcher; each returns `Ok(())` or a
//! [`CliError`] that decides the exit code. The store logic is `lcm_store`'s: these
//! functions read arguments and print.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use clap::Parser;
use lcm_capsule::DocumentKind;
use lcm_model::records::deployment::DeploymentStatus;
use lcm_model::{Policy, Timestamp};
use lcm_store::lifecycle::views::{self, ListKind};
use lcm_store::lifecycle::{self, Stage};
use lcm_store::{Store, StoredBatch, StoredReceipt, StoredRecord, export, pipeline};
use serde_json::{Value, json};

use crate::cli::{
    BatchCloseArgs, BatchCommand, Cli, Command, CompatCommand, InferArgs, KeygenArgs, ListArgs,
    RecordCommand, ShowArgs, Status,
};
use crate::error::{CliError, input, one_line};
use crate::io::{Out, open, open_read_only, password, plural, read_file, read_json};
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
        Command::Keygen(args) => keygen(cli, out, args),
        Command::Record { command, .. } => match command {
            RecordCommand::Lifecycle { file, .. } => {
                record_lifecycle(cli, out, file, &overrides(command))
            }
            _ => record_stage(cli, out, command),
        },
        Command::Infer(args) => infer(cli, out, args),
        Command::Batch {
            command: BatchCommand::Close(args),
            ..
        } => batch_close(cli, out, args),
        Command::Check { .. } => check(cli, out),
        Command::List(args) => list(cli, out, args),
        Command::Show(args) => show(cli, out, args),
        Command::Fingerprint(args) => crate::fingerprint::fingerprint(cli, out, args),
        Command::Demo(args) => crate::capsules::demo(cli, out, args.receipts, &args.out),
        Command::Header(args) => crate::capsules::document(cli, out, args, DocumentKind::Header),
        Command::Export(args) => crate::capsules::document(cli, out, args, DocumentKind::Bundle),
        Command::Materialize(args) => crate::capsules::materialize(cli, out, args),
        Command::Verify(args) => crate::capsules::verify(cli, out, args),
        Command::Inspect { file, document } => crate::capsules::inspect(cli, out, file, *document),
        Command::Log { command, .. } => crate::tlog::log(cli, out, command),
        Command::Serve(args) => crate::service::serve(cli, args),
        Command::Token { command, .. } => crate::service::token(cli, out, command),
        Command::Witness { command } => crate::witness::cosign(cli, out, command),
        Command::Example { name } => out.raw(name.text().as_bytes()),
        Command::Schema { kind } => crate::fingerprint::schema(cli, out, kind.as_deref()),
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
    let value = json!({
        "store": crate::io::store_name(cli),
        "created": fresh,
        "policy_digest": policy.digest()?,
        "schema_version": store.schema_version(),
    });
    let done = if fresh {
        "initialized"
    } else {
        "already initialized:"
    };
    let text = format!("{done} store {}", crate::io::store_name(cli));
    out.either(
        cli.json,
        &value,
        &format!("{text}\n{}", policy.format_policy_line()?),
    )
}

fn keygen(cli: &Cli, out: &mut Out, args: &KeygenArgs) -> Result<(), CliError> {
    let path = &args.out;
    let files =
        lcm_store::tlog_ops::write_key_files(path, args.force, args.name.as_deref(), args.witness)?;
    let (public, public_path, vkey_path) = (files.public, files.public_path, files.vkey_path);
    let vkey = files.vkey.map(|v| v.to_string());
    let mut value = json!({
        "private_key": path.display().to_string(),
        "public_key": public_path.display().to_string(),
        "key_id": public.key_id().to_hex(),
    });
    let mut text = format!(
        "private key {} (mode 0600)\npublic key  {}\nkey id      {}",
        path.display(),
        public_path.display(),
        public.key_id()
    );
    if let Some(vkey) = &vkey {
        value["verifier_key"] = json!(vkey_path.display().to_string());
        value["vkey"] = json!(vkey);
        let _ = write!(
            text,
            "\nverifier key {}\n             {vkey}",
            vkey_path.display()
        );
    }
    out.either(cli.json, &value, &text)
}

fn record_lifecycle(
    cli: &Cli,
    out: &mut Out,
    file: &Path,
    overrides: &lifecycle::Overrides,
) -> Result<(), CliError> {
    // The input notations (any RFC 3339 timestamp, digests with or without `sha256:`); the
    // records keep the canonical form.
    let input = lifecycle::parse_lifecycle(&read_file(file)?)
        .map_err(|e| input(format!("{}: {e}", file.display())))?;
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
        RecordCommand::Training { file, weights } => {
            let mut training = parse("training", file)?;
            if let Some(weights) = weights {
                let manifest = lcm_store::fingerprint::Manifest::build(
                    lcm_crypto::HashAlgorithm::Sha256,
                    weights,
                    &mut |_, _| {},
                )?;
                lifecycle::final_weights(&mut training, &manifest)
                    .map_err(|e| input(format!("{}: {e}", file.display())))?;
            }
            Stage::Training(training)
        }
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
    let mut store = open(cli)?;
    let stored = lifecycle::record_stage_with(&mut *store, &stage, &overrides(command))?;
    print_records(cli, out, &stored)
}

/// The policy overrides a record command was given (`--allow-plaintext-pii`,
/// `--allow-failed-security-scan`).
fn overrides(command: &RecordCommand) -> lifecycle::Overrides {
    let (plaintext_pii, failed_security_scan) = match command {
        RecordCommand::Lifecycle { overrides: o, .. } => (
            o.allow_plaintext_pii.clone(),
            o.allow_failed_security_scan.clone(),
        ),
        RecordCommand::Dataset {
            allow_plaintext_pii,
            ..
        } => (allow_plaintext_pii.clone(), None),
        RecordCommand::Deployment {
            allow_failed_security_scan,
            ..
        } => (None, allow_failed_security_scan.clone()),
        _ => (None, None),
    };
    lifecycle::Overrides {
        plaintext_pii,
        failed_security_scan,
    }
}

fn print_records(cli: &Cli, out: &mut Out, records: &[StoredRecord]) -> Result<(), CliError> {
    for r in records {
        let value = json!({"kind": r.kind, "id": r.id, "digest": r.digest});
        out.either(
            cli.json,
            &value,
            &format!("{}\t{}\t{}", r.kind, r.id, r.digest),
        )?;
    }
    Ok(())
}

/// Appends the acknowledgment lines of `receipts` to `out`, as text.
pub(crate) fn text_acks(receipts: &[StoredReceipt], out: &mut String) {
    for r in receipts {
        let _ = writeln!(out, "{}\t{}\t{}", r.sequence, r.receipt_id, r.digest);
    }
}

/// Appends the acknowledgment lines of `receipts` to `out`, as JSON lines.
pub(crate) fn json_acks(receipts: &[StoredReceipt], out: &mut String) {
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
fn infer(cli: &Cli, out: &mut Out, args: &InferArgs) -> Result<(), CliError> {
    let acks = if cli.json { json_acks } else { text_acks };
    if let Some(server) = &args.server {
        let ca_file = args.ca_file.as_deref();
        return crate::service::infer_remote(
            out,
            server,
            ca_file,
            &args.deployment,
            args.batch_size,
            acks,
        );
    }
    let options = pipeline::InferOptions {
        batch_size: usize::try_from(args.batch_size).unwrap_or(usize::MAX),
        request_ids: if args.allow_repeated_request_id {
            pipeline::RequestIds::AllowRepeats
        } else {
            pipeline::RequestIds::Unique
        },
    };
    let mut store = open(cli)?;
    let mut progress = Progress::new("receipts", None, false);
    let summary = pipeline::infer(
        &mut *store,
        args.model.as_deref().unwrap_or_default(),
        &args.deployment,
        options,
        std::io::stdin(),
        acks,
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

fn batch_close(cli: &Cli, out: &mut Out, args: &BatchCloseArgs) -> Result<(), CliError> {
    let (deployment, window) = (args.deployment.as_deref(), args.window.as_deref());
    let until: Option<Timestamp> = args
        .until
        .as_deref()
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
        None => out.either(cli.json, &json!({"batch": null}), "no receipts to batch"),
        Some(b) => {
            let record: lcm_model::records::InferenceBatch =
                serde_json::from_str(&b.json).map_err(|e| input(format!("batch json: {e}")))?;
            let value = json!({"window_id": b.window_id, "first_sequence": b.first_sequence,
                "last_sequence": b.last_sequence, "count": record.count, "root": record.root,
                "digest": b.digest});
            let text = format!(
                "sealed batch {} receipts {}..={} ({}) root {}",
                b.window_id, b.first_sequence, b.last_sequence, record.count, record.root
            );
            out.either(cli.json, &value, &text)
        }
    }
}

fn check(cli: &Cli, out: &mut Out) -> Result<(), CliError> {
    let store = open_read_only(cli)?;
    let total = views::receipts_total(&*store)?;
    let mut progress = Progress::new("checking receipts", Some(total), false);
    let report = lcm_store::check::check_store(&*store, &mut |n| progress.set(n))?;
    progress.finish();
    if cli.json {
        return out.line(
            &serde_json::to_string(&report).map_err(|e| input(format!("report json: {e}")))?,
        );
    }
    let mut text = format!(
        "store ok: {}, {} in {}, {}",
        plural(report.records, "record", "records"),
        plural(report.receipts, "receipt", "receipts"),
        plural(report.chains.len(), "chain", "chains"),
        plural(report.batches, "batch", "batches"),
    );
    for c in &report.chains {
        let _ = write!(
            text,
            "\n  chain of {}: {}, {}, head {}",
            c.deployment,
            plural(c.receipts, "receipt", "receipts"),
            plural(c.batches, "batch", "batches"),
            c.head.map_or_else(|| "none".to_owned(), |d| d.to_string())
        );
    }
    out.line(&text)
}

fn list(cli: &Cli, out: &mut Out, args: &ListArgs) -> Result<(), CliError> {
    let deployment = args.deployment.as_deref();
    let kind = args
        .kind
        .as_deref()
        .map_or(Ok(ListKind::All), str::parse)
        .map_err(|e: views::UnknownKind| input(e.to_string()))?;
    let store = open_read_only(cli)?;
    match kind {
        ListKind::All => print_records(cli, out, &store.records(None)?),
        ListKind::Records(k) => print_records(cli, out, &store.records(Some(k))?),
        ListKind::Receipts => list_receipts(cli, out, &*store, deployment),
        ListKind::Lifecycles => print_rows(cli, out, &views::lifecycles(&*store)?, |r| {
            format!(
                "{}\t{}\t{}\t{}",
                r.deployment,
                r.release_root,
                plural(r.receipts, "receipt", "receipts"),
                plural(r.batches, "batch", "batches")
            )
        }),
        ListKind::Deployments => print_rows(cli, out, &views::deployments(&*store)?, |r| {
            format!(
                "{}\t{}\t{}\t{}\t{}",
                r.deployment,
                r.digest,
                if r.status.is_empty() { "-" } else { &r.status },
                if r.released {
                    "released"
                } else {
                    "not released"
                },
                plural(r.receipts, "receipt", "receipts")
            )
        }),
        ListKind::Batches => print_rows(cli, out, &views::batches(&*store, deployment)?, |b| {
            format!(
                "{}\t{}\t{}..={}\t{}\t{}",
                b.deployment,
                b.window_id,
                b.first_sequence,
                b.last_sequence,
                plural(b.count, "receipt", "receipts"),
                b.digest
            )
        }),
        _ => Err(input(format!("lcm list cannot list {kind:?}"))),
    }
}

/// One line per row: its JSON object with `--json`, else `text` of it.
fn print_rows<T: serde::Serialize>(
    cli: &Cli,
    out: &mut Out,
    rows: &[T],
    text: impl Fn(&T) -> String,
) -> Result<(), CliError> {
    for row in rows {
        if cli.json {
            let value = serde_json::to_value(row).map_err(|e| input(format!("row json: {e}")))?;
            out.line(&value.to_string())?;
        } else {
            out.line(&text(row))?;
        }
    }
    Ok(())
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

fn show(cli: &Cli, out: &mut Out, args: &ShowArgs) -> Result<(), CliError> {
    let (kind, id) = (&args.kind, &args.id);
    let store = open_read_only(cli)?;
    let (digest, json) = views::record(&*store, kind, id, args.deployment.as_deref())?
        .ok_or_else(|| input(format!("no {kind} {id} in the store")))?;
    if cli.json {
        let record: Value =
            serde_json::from_str(&json).map_err(|e| input(format!("stored json: {e}")))?;
        out.line(&json!({"kind": kind, "id": id, "digest": digest, "record": record}).to_string())
    } else {
        out.line(&json)
    }
}
