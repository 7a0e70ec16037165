//! The commands that make and check headers, capsules and bundles: `demo`, `header`,
//! `export`, `materialize`, `verify`, `inspect`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use lcm_capsule::{
    Bundle, Capsule, CapsuleHeader, DocumentKind, NOT_A_DOCUMENT, PolicyRequirements, Report,
    VerificationFailed, materialize_receipt, summarize, verify_bundle,
    verify_bundle_json_with_progress, verify_capsule, verify_header, warnings, with_requirements,
};
use lcm_crypto::{CommitmentScheme, HashAlgorithm};
use lcm_model::{Policy, Timestamp};
use lcm_store::export;
use lcm_store::files::refuse_signer_private_key;
use lcm_store::lifecycle::demo;
use serde_json::{Value, json};

use crate::cli::{Cli, DocumentArgs, MaterializeArgs, RequirementArgs, VerifyArgs};
use crate::error::{CliError, input, one_line};
use crate::io::{
    Out, file_err, plural, read_file, read_signing_key, read_verifying_key, write_replacing,
};
use crate::progress::Progress;

fn write_output(out: &mut Out, path: Option<&Path>, text: &str) -> Result<(), CliError> {
    match path {
        Some(p) => write_replacing(p, format!("{text}\n").as_bytes()),
        None => out.line(text),
    }
}

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
    let deployment = export::lifecycle_of(&*store, args.deployment.as_deref())?;
    let now = Timestamp::now();
    let (header, text) = if kind == DocumentKind::Bundle {
        let bundle = export::bundle(&*store, &deployment, now, &key)?;
        let text = bundle.to_json(Some(2))?;
        (bundle.header, text)
    } else {
        let (header, _) = export::header(&*store, &deployment, now, &key)?;
        let text = header.to_json(Some(2))?;
        (header, text)
    };
    write_output(out, args.out.as_deref(), &text)?;
    match &args.out {
        Some(p) => written(cli, out, kind, p, &deployment, &header, text.len()),
        None => Ok(()),
    }
}

/// What `header` and `export` print once they wrote the document to a file: a line, or with
/// `--json` an object with what a script needs (the path, the header digest and key id, the
/// receipts). With no `--out`, the document itself is the output and nothing else is printed.
fn written(
    cli: &Cli,
    out: &mut Out,
    kind: DocumentKind,
    path: &Path,
    deployment: &str,
    header: &CapsuleHeader,
    bytes: usize,
) -> Result<(), CliError> {
    let digest = header.digest()?;
    let inference = header.stage_g_inference.as_ref();
    let receipts = inference.map_or(0, |g| g.receipt_count);
    let batches = inference.map_or(0, |g| g.batches.len());
    let value = json!({
            "kind": kind.name(),
            "path": path.display().to_string(),
            "bytes": bytes.saturating_add(1),
            "deployment": deployment,
            "header_digest": digest,
            "key_id": header.signature.key_id.to_hex(),
            "generated_at": header.generated_at,
            "receipts": receipts,
            "batches": batches,
            "receipts_root": inference.map(|g| g.receipts_root),
            "chain_head": inference.and_then(|g| g.chain_head),
            "release_root": header.stage_h_roots.as_ref().map(|h| h.release_root),
            "synthetic": header.synthetic,
    });
    let text = format!(
        "wrote {} {}: header {digest} of {deployment}, {}, {}, signed by key {}",
        kind.name(),
        path.display(),
        plural(receipts, "receipt", "receipts"),
        plural(batches, "batch", "batches"),
        header.signature.key_id
    );
    out.either(cli.json, &value, &text)
}

/// The file at `path` as text, checked strictly (`lcm_model::strict`).
fn read_strict_text(path: &Path) -> Result<String, CliError> {
    let text = String::from_utf8(read_file(path)?)
        .map_err(|_| input(format!("{}: not UTF-8 text", path.display())))?;
    lcm_model::strict::check_json(&text).map_err(|e| input(format!("{}: {e}", path.display())))?;
    Ok(text)
}

pub(crate) fn materialize(
    cli: &Cli,
    out: &mut Out,
    args: &MaterializeArgs,
) -> Result<(), CliError> {
    let (receipt_id, header_path, path) = (&args.receipt_id, &args.header, args.out.as_deref());
    let (query, output) = (args.query.as_deref(), args.output.as_deref());
    let deployment = args.deployment.as_deref();
    let header = CapsuleHeader::from_json(&read_strict_text(header_path)?)
        .map_err(|e| input(format!("{}: {e}", header_path.display())))?;
    let store = lcm_store::open_read_only(&cli.store)?;
    // The header names its deployment; --deployment, when given, must agree.
    let named = header
        .stage_e_deployment
        .as_ref()
        .map(|e| e.deployment_id.as_str());
    if let (Some(given), Some(named)) = (deployment, named)
        && given != named
    {
        return Err(input(format!(
            "--deployment {given}, but {} is the header of deployment {named}",
            header_path.display()
        )));
    }
    let deployment = export::chain_of(&*store, deployment.or(named))?;
    let log = export::check_header_of(&*store, &deployment, &header)
        .map_err(|e| input(format!("{}: {e}", header_path.display())))?;
    let receipt = export::receipt(&*store, &deployment, receipt_id)?;
    let disclosure = export::disclosure(&*store, &deployment, &receipt, query, output)?;
    let capsule = materialize_receipt(&header, &*log, &receipt, disclosure).map_err(|e| {
        input(format!(
            "receipt {receipt_id} against {}: {e}",
            header_path.display()
        ))
    })?;
    write_output(out, path, &capsule.to_json(Some(2))?)
}

/// Reads a file, checks it is JSON, and tells which document it is from its top-level keys
/// (one pass that skips every value: no `serde_json::Value` of the whole document).
fn detect(path: &Path) -> Result<(DocumentKind, String), CliError> {
    let bytes = read_file(path)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| input(format!("{}: not UTF-8 text", path.display())))?;
    let kind = DocumentKind::of_json(&text)
        .map_err(|e| input(format!("{}: malformed JSON: {e}", path.display())))?;
    lcm_model::strict::check_json(&text).map_err(|e| input(format!("{}: {e}", path.display())))?;
    let kind = kind.ok_or_else(|| input(format!("{}: {NOT_A_DOCUMENT}", path.display())))?;
    Ok((kind, text))
}

/// A document that is JSON but not a valid document of its kind fails verification (stage
/// document), like `verify_bundle_json` does for bundles.
fn document_failure(kind: DocumentKind, e: &lcm_capsule::Error) -> CliError {
    CliError::Verify(one_line(&format!("[document] {} parses: {e}", kind.name())))
}

/// The requirements `lcm verify` applies: the flags, with no plaintext commitments on a
/// dataset with personal data unless allowed; and the required commitment scheme, which
/// `PolicyRequirements` does not express, on its own.
fn requirements(
    args: &RequirementArgs,
) -> Result<(PolicyRequirements, Option<CommitmentScheme>), CliError> {
    let scheme = args
        .require_commitments
        .as_deref()
        .map(|s| {
            s.parse::<CommitmentScheme>().map_err(|e| {
                input(format!(
                    "--require-commitments {s}: expected salted, hmac or plaintext: {e}"
                ))
            })
        })
        .transpose()?;
    let req = PolicyRequirements {
        hash_algorithm: args.require_hash.map(HashAlgorithm::from),
        no_plaintext_with_pii: !args.allow_plaintext_pii,
        min_kdf_iterations: args.min_kdf_iterations,
        required_frameworks: args.require_framework.clone(),
        ..PolicyRequirements::default()
    };
    Ok((req, scheme))
}

/// The header a document is checked against.
fn header_of(
    kind: DocumentKind,
    text: &str,
    header_path: Option<&PathBuf>,
) -> Option<CapsuleHeader> {
    match kind {
        DocumentKind::Header => CapsuleHeader::from_json(text).ok(),
        DocumentKind::Bundle => Bundle::from_json(text).ok().map(|b| b.header),
        DocumentKind::Capsule => header_path
            .and_then(|p| std::fs::read_to_string(p).ok())
            .and_then(|t| CapsuleHeader::from_json(&t).ok()),
        _ => None,
    }
}

pub(crate) fn verify(cli: &Cli, out: &mut Out, args: &VerifyArgs) -> Result<(), CliError> {
    let (file, header_path, proof) = (&args.file, args.header.as_ref(), args.proof.as_deref());
    let (kind, text) = detect(file)?;
    let (req, scheme) = requirements(&args.requirements)?;
    let mut newer_header = None;
    let key_path = args.key.as_deref().ok_or_else(|| {
        input("no public key: pass --key PUBKEY_FILE (or set LCM_PUBLIC_KEY)".to_owned())
    })?;
    // Before the key is read as a public key (a private key's bytes are often not a point).
    if let Some(h) = header_of(kind, &text, header_path) {
        refuse_signer_private_key(key_path, &h.signature.key_id, file)?;
    }
    let key = read_verifying_key(key_path)?;
    let mut progress = Progress::new(&format!("verifying {}", kind.name()), None, false);
    let result: Result<Report, VerificationFailed> = match kind {
        // A bundle's bulk is its receipts: the bar counts them as they are checked.
        DocumentKind::Bundle => verify_bundle_json_with_progress(&text, &key, &req, &mut |p| {
            if p.total > 0 {
                progress.set_total(Some(p.total));
                progress.set(p.done);
            }
        }),
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
    let header = header_of(kind, &text, header_path);
    if let (Ok(_), Some(required), Some(h)) = (&result, scheme, &header)
        && h.policy.commitments != required
    {
        return Err(CliError::Verify(format!(
            "[header] policy requirements: required commitment scheme: /policy/commitments: \
             required {required}, the document commits with {}",
            h.policy.commitments
        )));
    }
    let warnings = header.as_ref().map(warnings).unwrap_or_default();
    // A header given --header must extend the older one (its receipt log, item by item).
    let extends = match (&result, &newer_header, header_path) {
        (Ok(_), Some(header), Some(old)) => Some(crate::tlog::compare_headers(
            cli, out, header, old, proof, &key,
        )?),
        _ => None,
    };
    match result {
        Ok(report) => {
            // Checks that did not apply (a capsule whose header has no model stage, ...) are
            // reported as such, never counted as passed.
            let skipped = report.not_applicable_json();
            let passed = report.checks.len().saturating_sub(skipped.len());
            let mut value = json!({"valid": true, "kind": kind.name(), "checks": passed,
                "not_applicable": skipped, "key_id": key.key_id().to_hex(), "warnings": warnings,
                "synthetic": header.as_ref().and_then(|h| h.synthetic.clone()),
                "results": report.results_json()});
            let mut text = format!("valid {}: {passed} checks passed", kind.name());
            if !skipped.is_empty() {
                let _ = write!(text, ", {} not applicable", skipped.len());
            }
            let _ = write!(text, " (key {})", key.key_id());
            for w in &warnings {
                let _ = write!(text, "\n  warning: {w}");
            }
            for c in report.not_applicable() {
                let why = c.not_applicable.unwrap_or_default();
                let _ = write!(text, "\n  not applicable: [{}] {}: {why}", c.stage, c.name);
            }
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
        for l in &lines {
            out.line(l)?;
        }
        Ok(())
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
    let mut progress = Progress::new("demo receipts", Some(receipts), false);
    let run = demo::record_demo(&mut *store, receipts, &mut |n| progress.set(n))?;
    progress.finish();
    let (deployment, records, batches, head) =
        (&run.deployment, run.records.len(), run.batches, run.head);
    // The key: reused if the directory has one.
    let key_path = dir.join("signing.key");
    let key = demo::signing_key(&key_path)?;
    let now = Timestamp::now();
    let bundle = export::bundle(&*store, deployment, now, &key)?;
    // Check what we hand out, as an auditor would.
    verify_bundle(
        &bundle,
        &key.verifying_key(),
        &PolicyRequirements::default(),
    )
    .map_err(|f| CliError::Verify(one_line(&f.to_string())))?;
    let header_path = dir.join("header.json");
    let bundle_path = dir.join("bundle.json");
    let header_json = bundle.header.to_json(Some(2))?;
    let bundle_json = bundle.to_json(Some(2))?;
    write_replacing(&header_path, format!("{header_json}\n").as_bytes())?;
    write_replacing(&bundle_path, format!("{bundle_json}\n").as_bytes())?;

    let release = &bundle.lifecycle.release;
    let value = json!({
        "store": crate::io::store_name(cli),
        "records": records,
        "receipts": receipts,
        "batches": batches,
        "chain_head": head.map(|h| h.digest),
        "release_root": release.record.root,
        "header": header_path.display().to_string(),
        "bundle": bundle_path.display().to_string(),
        "public_key": format!("{}.pub", key_path.display()),
        "key_id": key.key_id().to_hex(),
    });
    let l = &bundle.lifecycle;
    let lines = [
        format!(
            "lcm demo: the example lifecycle is in {}",
            crate::io::store_name(cli)
        ),
        format!(
            "  A dataset   {} with {} splits",
            l.dataset.family.record.family_id,
            l.dataset.splits.len()
        ),
        format!(
            "  B model     {}@{}",
            l.model.record.description.model_name, l.model.record.description.version
        ),
        format!(
            "  C training  {} with {} checkpoints",
            l.training.session.record.session_id,
            l.training.checkpoints.len()
        ),
        format!(
            "  D/E release {} -> {}",
            l.predeployment.anchor.record.predeployment_id,
            l.deployment.anchor.record.deployment_id
        ),
        format!("  F test      {}", l.test_evaluation.record.test_id),
        format!(
            "  G inference {} in {}, chain head {}",
            plural(receipts, "receipt", "receipts"),
            plural(batches, "batch", "batches"),
            head.map_or_else(|| "none".to_owned(), |h| h.digest.to_string())
        ),
        format!("  H release root {}", release.record.root),
        format!(
            "wrote {} and {} ({} bytes), signed by key {}",
            header_path.display(),
            bundle_path.display(),
            bundle_json.len(),
            key.key_id()
        ),
        format!(
            "verify it: lcm verify {} --key {}.pub",
            bundle_path.display(),
            key_path.display()
        ),
    ];
    out.either(cli.json, &value, &lines.join("\n"))
}
