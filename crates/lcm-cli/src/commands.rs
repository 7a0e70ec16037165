//! The commands that work on a store (`init`, `keygen`, `record`, `infer`, `batch`, `check`,
//! `list`, `show`) and the dispatcher; each returns `Ok(())` or a
//! [`CliError`] that decides the exit code. The store logic is `lcm_store`'s: these
//! functions read arguments and print.

use std::path::Path;
use std::process::ExitCode;

use clap::Parser;
use lcm_capsule::DocumentKind;
use lcm_model::{Policy, Timestamp};
use lcm_store::lifecycle::views::{self, ListKind};
use lcm_store::lifecycle::{self, Stage, StageKind};
use lcm_store::{Store, StoredRecord, export, find, pipeline};
use serde_json::{Value, json};

use crate::cli::{
    BatchCloseArgs, BatchCommand, Cli, Command, CompatCommand, InferArgs, KeygenArgs, ListArgs,
    RecordCommand, ShowArgs,
};
use crate::error::{CliError, input, one_line};
use crate::io::{Out, open, open_read_only, out_err, password, read_json};
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
        Ok(()) | Err(CliError::BrokenPipe) => ExitCode::SUCCESS,
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
            RecordCommand::Lifecycle { file, weights, .. } => {
                record_lifecycle(cli, out, file, weights.as_deref(), &overrides(command))
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
        Command::Key { command, .. } => crate::service::key(cli, out, command),
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
    let (value, text) = views::init_summary(&*store, &cli.store, fresh)?;
    out.either(cli.json, &value, &text)
}

fn keygen(cli: &Cli, out: &mut Out, args: &KeygenArgs) -> Result<(), CliError> {
    let path = &args.out;
    let format = if args.pem {
        lcm_store::files::KeyFormat::Pem
    } else {
        lcm_store::files::KeyFormat::Hex
    };
    let (name, witness) = (args.name.as_deref(), args.witness);
    let files = lcm_store::tlog_ops::write_key_files_as(path, args.force, name, witness, format)?;
    let (value, text) = files.summary(path);
    out.either(cli.json, &value, &text)
}

fn record_lifecycle(
    cli: &Cli,
    out: &mut Out,
    file: &Path,
    weights: Option<&Path>,
    overrides: &lifecycle::Overrides,
) -> Result<(), CliError> {
    // The input notations (any RFC 3339 timestamp, digests with or without `sha256:`); the
    // records keep the canonical form.
    let input = lifecycle::read_lifecycle(file, weights)?;
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
    let (kind, file, weights) = match command {
        RecordCommand::Lifecycle { .. } => {
            return Err(input("a lifecycle file is not one stage"));
        }
        RecordCommand::Dataset { file, .. } => (StageKind::Dataset, file, None),
        RecordCommand::Model { file, weights } => (StageKind::Model, file, weights.as_deref()),
        RecordCommand::Training { file, weights } => {
            (StageKind::Training, file, weights.as_deref())
        }
        RecordCommand::Predeployment { file } => (StageKind::Predeployment, file, None),
        RecordCommand::Deployment { file, .. } => (StageKind::Deployment, file, None),
        RecordCommand::Test { file } => (StageKind::Test, file, None),
        RecordCommand::Release { deployment, test } => {
            return Ok(Stage::Release {
                deployment: deployment.clone(),
                test: test.clone(),
            });
        }
        RecordCommand::Status {
            deployment,
            status,
            reason,
        } => {
            return Ok(Stage::Status {
                deployment: deployment.clone(),
                status: (*status).into(),
                reason: reason.clone(),
            });
        }
    };
    lifecycle::read_stage(kind, file, weights, |kind| {
        password(if kind == StageKind::Dataset {
            "LCM_DATASET_PASSWORD"
        } else {
            "LCM_MODEL_PASSWORD"
        })
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
    let (pii, scan) = match command {
        RecordCommand::Lifecycle { overrides: o, .. } => {
            (&o.allow_plaintext_pii, &o.allow_failed_security_scan)
        }
        RecordCommand::Dataset {
            allow_plaintext_pii: pii,
            ..
        } => (pii, &None),
        RecordCommand::Deployment {
            allow_failed_security_scan: scan,
            ..
        } => (&None, scan),
        _ => (&None, &None),
    };
    lifecycle::Overrides {
        plaintext_pii: pii.clone(),
        failed_security_scan: scan.clone(),
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

/// How receipts print, as `lcm infer` acknowledges them: JSON lines with `--json`, else text.
fn acks_format(cli: &Cli) -> fn(&[lcm_store::StoredReceipt], &mut String) {
    if cli.json {
        pipeline::json_acks
    } else {
        pipeline::text_acks
    }
}

/// `lcm infer`: [`pipeline::infer`] on standard input, printing each receipt once it is
/// committed.
fn infer(cli: &Cli, out: &mut Out, args: &InferArgs) -> Result<(), CliError> {
    let acks = acks_format(cli);
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
    let model = pipeline::release_model(&*store, &args.deployment, args.model.as_deref())?;
    let progress = Progress::new("receipts", None, false);
    let summary = pipeline::infer(
        &mut *store,
        &model,
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
    eprintln!("lcm: {}", summary?);
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
    let (value, text) = views::sealed_batch(batch.as_ref())?;
    out.either(cli.json, &value, &text)
}

fn check(cli: &Cli, out: &mut Out) -> Result<(), CliError> {
    let store = open_read_only(cli)?;
    let total = views::receipts_total(&*store)?;
    let progress = Progress::new("checking receipts", Some(total), false);
    let report = lcm_store::check::check_store(&*store, &mut |n| progress.set(n))?;
    progress.finish();
    let value = serde_json::to_value(&report).map_err(|e| input(format!("report json: {e}")))?;
    out.either(cli.json, &value, &report.to_string())
}

fn list(cli: &Cli, out: &mut Out, args: &ListArgs) -> Result<(), CliError> {
    let deployment = args.deployment.as_deref();
    if (args.since.is_some() || args.until.is_some()) && args.kind.as_deref() != Some("receipts") {
        return Err(input(
            "--since and --until select receipts: lcm list receipts --since …",
        ));
    }
    let kind = args
        .kind
        .as_deref()
        .map_or(Ok(ListKind::All), str::parse)
        .map_err(|e: views::UnknownKind| input(e.to_string()))?;
    let store = open_read_only(cli)?;
    match kind {
        ListKind::All => print_records(cli, out, &store.records(None)?),
        ListKind::Records(k) => print_records(cli, out, &store.records(Some(k))?),
        ListKind::Receipts => list_receipts(cli, out, &*store, args),
        ListKind::Lifecycles => print_rows(cli, out, &views::lifecycles(&*store)?),
        ListKind::Deployments => print_rows(cli, out, &views::deployments(&*store)?),
        ListKind::Batches => print_rows(cli, out, &views::batches(&*store, deployment)?),
        _ => Err(input(format!("lcm list cannot list {kind:?}"))),
    }
}

/// One line per row: its JSON object with `--json`, else its text line.
fn print_rows<T: serde::Serialize + std::fmt::Display>(
    cli: &Cli,
    out: &mut Out,
    rows: &[T],
) -> Result<(), CliError> {
    for row in rows {
        let value = serde_json::to_value(row).map_err(|e| input(format!("row json: {e}")))?;
        out.either(cli.json, &value, &row.to_string())?;
    }
    Ok(())
}

/// The receipts of a chain, one line each, written as the scan goes in pieces of about
/// 64 KiB ([`find::write_receipts_between`]): memory stays constant whatever the chain's length.
fn list_receipts(
    cli: &Cli,
    out: &mut Out,
    store: &dyn Store,
    args: &ListArgs,
) -> Result<(), CliError> {
    let range = find::time_range(args.since.as_deref(), args.until.as_deref())?;
    let deployment = export::chain_of(store, args.deployment.as_deref())?;
    let format = acks_format(cli);
    find::write_receipts_between(store, &deployment, range, format, out.writer()).map_err(|e| {
        match e {
            find::WriteError::Write(e) => out_err(e),
            find::WriteError::Store(e) => e.into(),
            other => input(other.to_string()),
        }
    })
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
