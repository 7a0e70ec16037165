//! The commands that make and check headers, capsules and bundles: `demo`, `header`,
//! `export`, `materialize`, `verify`, `inspect`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use lcm_capsule::{
    Capsule, CapsuleHeader, DocumentKind, NOT_A_DOCUMENT, PolicyRequirements, Report,
    VerificationFailed, summarize, verify_capsule, verify_header, with_requirements,
};
use lcm_crypto::HashAlgorithm;
use lcm_model::{Policy, Timestamp};
use lcm_store::export::MaterializeError;
use lcm_store::files::{
    header_of, read_document as detect, read_strict_text, refuse_signer_private_key,
};
use lcm_store::lifecycle::demo;
use lcm_store::tlog_ops::range;
use lcm_store::{export, find, pipeline};
use serde_json::{Value, json};

use crate::cli::{Cli, DocumentArgs, MaterializeArgs, RequirementArgs, VerifyArgs};
use crate::error::{CliError, input, one_line};
use crate::io::{Out, file_err, read_signing_key, write_replacing};
use crate::progress::Progress;

/// `lcm header` and `lcm export`: signs the header of a lifecycle in the store, or its
/// whole bundle (`kind`), and writes it.
pub(crate) fn document(
    cli: &Cli,
    out: &mut Out,
    args: &DocumentArgs,
    kind: DocumentKind,
) -> Result<(), CliError> {
    let key = read_signing_key(&args.key)?;
    let store = lcm_store::open_read_only(&cli.store)?;
    lcm_store::keys::check_signing_key(&*store, &key.verifying_key())?;
    let deployment = export::lifecycle_of(&*store, args.deployment.as_deref())?;
    // The log origin is chosen as `lcm log checkpoint` chooses it: --name, the key's .vkey name.
    let signer = lcm_store::tlog_ops::log_signer(&args.key, args.name.as_deref(), &deployment)?;
    let origin = signer.name().to_string();
    // clap makes a sequence range and a time window exclusive.
    let selection = match (args.from_seq.zip(args.to_seq), &args.since, &args.until) {
        (Some((from, to)), ..) => Some(range::Selection::Sequence(from, to)),
        (None, None, None) => None,
        (None, since, until) => {
            let (since, until) = find::time_range(since.as_deref(), until.as_deref())?;
            Some(range::Selection::Time(since, until))
        }
    };
    if let Some(selection) = selection {
        if kind != DocumentKind::Bundle {
            return Err(input(
                "--from-seq/--to-seq/--since/--until: options of lcm export",
            ));
        }
        let write = |w: &mut dyn std::io::Write| {
            range::write_selection(&*store, &deployment, selection, &signer, w)
        };
        return match &args.out {
            Some(p) => {
                let made = lcm_store::files::write_replacing_with(p, write)?;
                let (value, line) = made.summary(p, &deployment);
                out.either(cli.json, &value, &line)
            }
            None => write(out.writer()).map(|_| ()).map_err(Into::into),
        };
    }
    // Written as it is made: a bundle's receipts are streamed from the store.
    let write = |w: &mut dyn std::io::Write| -> Result<_, CliError> {
        let (now, layout) = (Timestamp::now(), export::Layout::compact_if(args.compact));
        let doc = export::Document { kind, layout };
        let made = export::write_document(&*store, &deployment, doc, Some(&origin), now, &key, w)?;
        w.write_all(b"\n").map_err(lcm_store::Error::Write)?;
        Ok(made)
    };
    match &args.out {
        Some(p) => {
            let (header, bytes) = lcm_store::files::write_replacing_with(p, write)?;
            let bytes = usize::try_from(bytes).unwrap_or(usize::MAX);
            let (value, line) = export::written(kind, p, &deployment, &header, bytes)?;
            out.either(cli.json, &value, &line)
        }
        None => write(out.writer()).map(|_| ()),
    }
}

pub(crate) fn materialize(
    cli: &Cli,
    out: &mut Out,
    args: &MaterializeArgs,
) -> Result<(), CliError> {
    let (receipt_id, header_path, path) = (&args.receipt_id, &args.header, args.out.as_deref());
    let (query, output) = (
        pipeline::disclosed(
            args.query.as_deref(),
            args.query_file.as_deref(),
            "--query-file",
        )?,
        pipeline::disclosed(
            args.output.as_deref(),
            args.output_file.as_deref(),
            "--output-file",
        )?,
    );
    let (query, output) = (query.as_deref(), output.as_deref());
    let deployment = args.deployment.as_deref();
    let header = CapsuleHeader::from_json(&read_strict_text(header_path)?)
        .map_err(|e| input(format!("{}: {e}", header_path.display())))?;
    let store = lcm_store::open_read_only(&cli.store)?;
    let shown = header_path.display();
    let capsule = export::materialize(&*store, deployment, &header, receipt_id, (query, output))
        .map_err(|e| match e {
            MaterializeError::OtherDeployment { given, named } => input(format!(
                "--deployment {given}, but {shown} is the header of deployment {named}"
            )),
            MaterializeError::Header(e) => input(format!("{shown}: {e}")),
            MaterializeError::Capsule(e) => {
                input(format!("receipt {receipt_id} against {shown}: {e}"))
            }
            MaterializeError::Store(e) => e.into(),
            e => input(e.to_string()),
        })?;
    let text = capsule.to_json(Some(2))?;
    match path {
        Some(p) => {
            write_replacing(p, format!("{text}\n").as_bytes())?;
            let (value, line) = export::capsule_written(p, &text)?;
            out.either(cli.json, &value, &line)
        }
        None => out.line(&text),
    }
}

/// A document that is JSON but not a valid document of its kind fails verification (stage
/// document), like `verify_bundle_json` does for bundles.
fn document_failure(kind: DocumentKind, e: &lcm_capsule::Error) -> CliError {
    CliError::Verify(one_line(&format!("[document] {} parses: {e}", kind.name())))
}

/// The requirements `lcm verify` applies: the flags, with no plaintext commitments on a
/// dataset with personal data unless allowed.
fn requirements(args: &RequirementArgs) -> PolicyRequirements {
    PolicyRequirements {
        hash_algorithm: args.require_hash.map(HashAlgorithm::from),
        no_plaintext_with_pii: !args.allow_plaintext_pii,
        commitments: args.require_commitments,
        min_kdf_iterations: args.min_kdf_iterations,
        required_frameworks: args.require_framework.clone(),
        ..PolicyRequirements::default()
    }
}

pub(crate) fn verify(cli: &Cli, out: &mut Out, args: &VerifyArgs) -> Result<(), CliError> {
    let (file, header_path, proof) = (&args.file, args.header.as_ref(), args.proof.as_deref());
    // A bundle that starts with its header is verified streamed, never read whole.
    let leading = lcm_store::files::leading_bundle_header(file);
    let streamed = leading.is_some();
    let bundle = || Ok((DocumentKind::Bundle, String::new()));
    let (kind, text) = match leading.as_ref().map_or_else(|| detect(file), |_| bundle()) {
        Ok(found) => found,
        Err(e) => {
            let text = range::read_if_range(file)?.ok_or(e)?;
            let key = lcm_store::files::read_verifying_key(args.key.first().ok_or_else(|| {
                input("a range is verified with the log's public key: pass --key PUBKEY_FILE")
            })?)?;
            let (value, line) = range::verify_range(&text, &key)?.summary(file);
            return out.either(cli.json, &value, &line);
        }
    };
    let req = requirements(&args.requirements);
    let mut newer_header = None;
    // The header is parsed once, for the signer's key id and the summary.
    let header = leading.or_else(|| header_of(kind, &text, header_path.map(PathBuf::as_path)));
    let signer = header.as_ref().map(|h| h.signature.key_id);
    // Before a key is read as a public key (a private key's bytes are often not a point).
    if let Some(signer) = &signer {
        for key_path in &args.key {
            refuse_signer_private_key(key_path, signer, file)?;
        }
    }
    // Without a key given, the keys of the store's rotation chain, with their retirement times.
    let trusted = lcm_store::keys::trusted_keys(&cli.store, &args.key, &args.trusted_keys)?;
    let key = lcm_store::files::select_trusted_key(&trusted, header.as_ref())
        .map_err(|e| CliError::Verify(one_line(&e)))?;
    let progress = Progress::new(&format!("verifying {}", kind.name()), None, false);
    let result: Result<Report, VerificationFailed> = match kind {
        // A bundle's bulk is its receipts: the bar counts them as they are checked.
        DocumentKind::Bundle => {
            let text = (!streamed).then_some(text.as_str());
            lcm_store::files::verify_bundle_file(file, text, &key, &req, &mut |p| {
                if p.total > 0 {
                    progress.set_total(Some(p.total));
                    progress.set(p.done);
                }
            })?
        }
        DocumentKind::Header => {
            let header = CapsuleHeader::from_json(&text).map_err(|e| document_failure(kind, &e))?;
            let report = with_requirements(verify_header(&header, &key), &header, &req);
            newer_header = Some(header);
            report
        }
        DocumentKind::Capsule => {
            let header_path = header_path.ok_or_else(|| {
                input("a capsule is verified against its header: pass --header HEADER_FILE")
            })?;
            let header = CapsuleHeader::from_json(&read_strict_text(header_path)?)
                .map_err(|e| document_failure(DocumentKind::Header, &e))?;
            let capsule = Capsule::from_json(&text).map_err(|e| document_failure(kind, &e))?;
            with_requirements(verify_capsule(&capsule, &header, &key), &header, &req)
        }
        _ => return Err(input(format!("{}: {NOT_A_DOCUMENT}", file.display()))),
    };
    progress.finish();
    // A header given --header must extend the older one (its receipt log, item by item).
    let extends = match (&result, &newer_header, header_path) {
        (Ok(_), Some(header), Some(old)) => Some(crate::tlog::compare_headers(
            cli, out, header, old, proof, &key,
        )?),
        _ => None,
    };
    match result {
        Ok(report) => {
            let (mut value, mut text) = report.valid_summary(kind, &key.key_id(), header.as_ref());
            value["trusted_keys"] = json!(trusted.len());
            if let Some(extends) = &extends {
                value["extends"] = json!(extends);
                let _ = write!(text, "\n{extends}");
            }
            out.either(cli.json, &value, &text)
        }
        Err(failed) => {
            if cli.json {
                out.line(
                    &json!({"valid": false, "kind": kind.name(), "failures": failed.report.failures_json(),
                        "results": failed.report.results_json()})
                    .to_string(),
                )?;
            }
            let first = failed
                .first()
                .map_or_else(|| "a check failed".to_owned(), ToString::to_string);
            Err(CliError::Verify(one_line(&first)))
        }
    }
}

pub(crate) fn inspect(
    cli: &Cli,
    out: &mut Out,
    file: &Path,
    document: bool,
) -> Result<(), CliError> {
    let (kind, text) = detect(file)?;
    let summary = summarize(kind, &text).map_err(|e| document_failure(kind, &e))?;
    let mut lines = vec![format!("{}: {}", file.display(), kind.name())];
    lines.extend(summary.lines);
    let facts = summary.facts;
    if cli.json {
        let mut v = json!({"kind": kind.name(), "file": file.display().to_string(),
            "summary": lines});
        if let Value::Object(map) = &mut v {
            map.extend(facts);
            if document {
                let value: Value = serde_json::from_str(&text)
                    .map_err(|e| input(format!("{}: malformed JSON: {e}", file.display())))?;
                map.insert("document".to_owned(), value);
            }
        }
        out.line(&v.to_string())
    } else {
        out.lines(&lines)
    }
}

pub(crate) fn demo(cli: &Cli, out: &mut Out, receipts: u64, dir: &Path) -> Result<(), CliError> {
    std::fs::create_dir_all(dir).map_err(file_err(dir))?;
    let (mut store, _) = lcm_store::init(&cli.store, &Policy::default())?;
    if demo::holds_demo(&*store)? {
        return Err(input(format!(
            "store {} already holds the demo's lifecycle: pass another --store, or remove it",
            crate::io::store_name(cli)
        )));
    }
    let progress = Progress::new("demo receipts", Some(receipts), false);
    let run = demo::record_demo(&mut *store, receipts, &mut |n| progress.set(n))?;
    progress.finish();
    // Checked as an auditor would before it is handed out.
    let files = demo::write_artefacts(&*store, &run, dir, Timestamp::now())?;
    let value = files.summary_json(&cli.store, &run);
    let text = files.summary_lines(&cli.store, &run).join("\n");
    out.either(cli.json, &value, &text)
}
