//! The commands that make and check headers, capsules and bundles: `demo`, `header`,
//! `export`, `materialize`, `verify`, `inspect`.

use std::path::{Path, PathBuf};

use lcm_capsule::{
    Bundle, Capsule, CapsuleHeader, CapsuleItem, DocumentKind, NOT_A_DOCUMENT, PolicyRequirements,
    Report, SYNTHETIC_DEMO, VerificationFailed, materialize_receipt, validate_lcm_policy,
    verify_bundle, verify_bundle_json_with_progress, verify_capsule, verify_header,
};
use lcm_crypto::{CommitmentScheme, HashAlgorithm};
use lcm_model::{Policy, Record as _, Timestamp};
use lcm_store::export;
use lcm_store::lifecycle::{EXAMPLE, LifecycleInput, Passwords, record_synthetic_into};
use lcm_store::pipeline::{make_demo_receipts, seal_next_batch};
use serde_json::{Value, json};

use crate::cli::{Algorithm, Cli, RequirementArgs};
use crate::error::{CliError, input, one_line};
use crate::io::plural;
use crate::io::{
    Out, file_err, key_id_as_private, read_file, read_signing_key, read_verifying_key,
    write_key_pair, write_replacing,
};
use crate::progress::Progress;

/// The demo's master passwords: demonstration only, printed in docs/CLI.md.
const DEMO_DATASET_PASSWORD: &str = "demo-family-password";
const DEMO_MODEL_PASSWORD: &str = "demo-model-password";

fn write_output(out: &mut Out, path: Option<&Path>, text: &str) -> Result<(), CliError> {
    match path {
        Some(p) => write_replacing(p, format!("{text}\n").as_bytes()),
        None => out.line(text),
    }
}

pub(crate) fn header(
    cli: &Cli,
    out: &mut Out,
    key: &Path,
    path: Option<&Path>,
    deployment: Option<&str>,
) -> Result<(), CliError> {
    let key = read_signing_key(key)?;
    let store = lcm_store::open_read_only(&cli.store)?;
    let deployment = export::lifecycle_of(&*store, deployment)?;
    let (header, _) = export::header(&*store, &deployment, Timestamp::now(), &key)?;
    let text = header.to_json(Some(2))?;
    write_output(out, path, &text)?;
    match path {
        Some(p) => written(cli, out, Kind::Header, p, &deployment, &header, text.len()),
        None => Ok(()),
    }
}

/// What `header` and `export` print once they wrote the document to a file: a line, or with
/// `--json` an object with what a script needs (the path, the header digest and key id, the
/// receipts). With no `--out`, the document itself is the output and nothing else is printed.
fn written(
    cli: &Cli,
    out: &mut Out,
    kind: Kind,
    path: &Path,
    deployment: &str,
    header: &CapsuleHeader,
    bytes: usize,
) -> Result<(), CliError> {
    let digest = header.digest()?;
    let inference = header.stage_g_inference.as_ref();
    let receipts = inference.map_or(0, |g| g.receipt_count);
    let batches = inference.map_or(0, |g| g.batches.len());
    if cli.json {
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
        out.line(&value.to_string())
    } else {
        out.line(&format!(
            "wrote {} {}: header {digest} of {deployment}, {}, {}, signed by key {}",
            kind.name(),
            path.display(),
            plural(receipts, "receipt", "receipts"),
            plural(batches, "batch", "batches"),
            header.signature.key_id
        ))
    }
}

pub(crate) fn export_bundle(
    cli: &Cli,
    out: &mut Out,
    key: &Path,
    path: Option<&Path>,
    deployment: Option<&str>,
) -> Result<(), CliError> {
    let key = read_signing_key(key)?;
    let store = lcm_store::open_read_only(&cli.store)?;
    let deployment = export::lifecycle_of(&*store, deployment)?;
    let bundle = export::bundle(&*store, &deployment, Timestamp::now(), &key)?;
    let text = bundle.to_json(Some(2))?;
    write_output(out, path, &text)?;
    match path {
        Some(p) => written(
            cli,
            out,
            Kind::Bundle,
            p,
            &deployment,
            &bundle.header,
            text.len(),
        ),
        None => Ok(()),
    }
}

/// The arguments of `lcm materialize`.
pub(crate) struct MaterializeArgs<'a> {
    pub(crate) receipt_id: &'a str,
    pub(crate) header_path: &'a Path,
    pub(crate) query: Option<&'a str>,
    pub(crate) output: Option<&'a str>,
    pub(crate) path: Option<&'a Path>,
    pub(crate) deployment: Option<&'a str>,
}

pub(crate) fn materialize(
    cli: &Cli,
    out: &mut Out,
    args: &MaterializeArgs<'_>,
) -> Result<(), CliError> {
    let &MaterializeArgs {
        receipt_id,
        header_path,
        query,
        output,
        path,
        deployment,
    } = args;
    let header_text = String::from_utf8(read_file(header_path)?)
        .map_err(|_| input(format!("{}: not UTF-8", header_path.display())))?;
    lcm_model::strict::check_json(&header_text)
        .map_err(|e| input(format!("{}: {e}", header_path.display())))?;
    let header = CapsuleHeader::from_json(&header_text)
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
    let capsule = materialize_receipt(&header, &log, &receipt, disclosure).map_err(|e| {
        input(format!(
            "receipt {receipt_id} against {}: {e}",
            header_path.display()
        ))
    })?;
    write_output(out, path, &capsule.to_json(Some(2))?)
}

/// What a JSON document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bundle,
    Capsule,
    Header,
}

impl Kind {
    /// The document kind of `value` (`lcm_capsule::DocumentKind`), among those this tool
    /// knows.
    fn of(value: &Value) -> Option<Self> {
        match DocumentKind::of(value)? {
            DocumentKind::Bundle => Some(Self::Bundle),
            DocumentKind::Capsule => Some(Self::Capsule),
            DocumentKind::Header => Some(Self::Header),
            _ => None,
        }
    }

    const fn name(self) -> &'static str {
        match self {
            Self::Bundle => DocumentKind::Bundle.name(),
            Self::Capsule => DocumentKind::Capsule.name(),
            Self::Header => DocumentKind::Header.name(),
        }
    }
}

/// Reads a file, checks it is JSON, and tells which document it is from its top-level keys.
fn detect(path: &Path) -> Result<(Kind, String, Value), CliError> {
    let bytes = read_file(path)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| input(format!("{}: not UTF-8 text", path.display())))?;
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| input(format!("{}: malformed JSON: {e}", path.display())))?;
    lcm_model::strict::check_json(&text).map_err(|e| input(format!("{}: {e}", path.display())))?;
    let kind =
        Kind::of(&value).ok_or_else(|| input(format!("{}: {NOT_A_DOCUMENT}", path.display())))?;
    Ok((kind, text, value))
}

fn failure_json(f: &VerificationFailed) -> Value {
    Value::Array(
        f.report
            .failures()
            .map(|c| {
                json!({
                    "stage": c.stage.to_string(),
                    "check": c.name,
                    "record": c.record,
                    "field": c.field,
                    "error": c.outcome.as_ref().err().map(ToString::to_string),
                })
            })
            .collect(),
    )
}

/// Every check of `report`, in the order made, with its stage and result (`passed`,
/// `failed` with the error, or `not applicable` with why): a verification's `--json`
/// `results`. One entry per check, so it grows linearly with the document's records and
/// receipts.
fn results_json(report: &Report) -> Value {
    Value::Array(
        report
            .checks
            .iter()
            .map(|c| {
                let mut v = json!({
                    "stage": c.stage.to_string(),
                    "check": c.name,
                    "record": c.record,
                    "field": c.field,
                    "result": match (&c.outcome, c.not_applicable) {
                        (Err(_), _) => "failed",
                        (Ok(()), Some(_)) => "not applicable",
                        (Ok(()), None) => "passed",
                    },
                });
                if let Err(e) = &c.outcome {
                    v["error"] = json!(e.to_string());
                }
                if let Some(why) = c.not_applicable {
                    v["why"] = json!(why);
                }
                v
            })
            .collect(),
    )
}

/// A document that is JSON but not a valid document of its kind fails verification (stage
/// document), like `verify_bundle_json` does for bundles.
fn document_failure(kind: Kind, e: &lcm_capsule::Error) -> CliError {
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
        hash_algorithm: args.require_hash.map(|a| match a {
            Algorithm::Sha256 => HashAlgorithm::Sha256,
            Algorithm::Blake3 => HashAlgorithm::Blake3,
        }),
        no_plaintext_with_pii: !args.allow_plaintext_pii,
        min_kdf_iterations: args.min_kdf_iterations,
        required_frameworks: args.require_framework.clone(),
        ..PolicyRequirements::default()
    };
    Ok((req, scheme))
}

/// What an auditor should know about a valid document: plaintext commitments, personal
/// data in the clear, synthetic demo data.
fn warnings(header: &CapsuleHeader) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(note) = &header.synthetic {
        out.push(format!("this is {note} (signed marker `synthetic`)"));
    }
    if header.policy.commitments == CommitmentScheme::Plaintext {
        out.push(
            "commitments are plaintext: every query and output is in the clear wherever \
             receipts go"
                .to_owned(),
        );
        if header
            .stage_a_dataset
            .as_ref()
            .is_some_and(|a| a.contains_pii)
        {
            out.push(
                "the dataset contains personal data and its receipts are committed in \
                 plaintext (accepted by --allow-plaintext-pii)"
                    .to_owned(),
            );
        }
    }
    out
}

/// The header a document is checked against.
fn header_of(kind: Kind, text: &str, header_path: Option<&PathBuf>) -> Option<CapsuleHeader> {
    match kind {
        Kind::Header => CapsuleHeader::from_json(text).ok(),
        Kind::Bundle => Bundle::from_json(text).ok().map(|b| b.header),
        Kind::Capsule => header_path
            .and_then(|p| std::fs::read_to_string(p).ok())
            .and_then(|t| CapsuleHeader::from_json(&t).ok()),
    }
}

pub(crate) fn verify(
    cli: &Cli,
    out: &mut Out,
    file: &Path,
    key: Option<&Path>,
    header_path: Option<&PathBuf>,
    args: &RequirementArgs,
    proof: Option<&Path>,
) -> Result<(), CliError> {
    let (kind, text, _) = detect(file)?;
    let (req, scheme) = requirements(args)?;
    let mut newer_header = None;
    let key_path = key.ok_or_else(|| {
        input("no public key: pass --key PUBKEY_FILE (or set LCM_PUBLIC_KEY)".to_owned())
    })?;
    // Before the key is read as a public key (a private key's bytes are often not a point).
    if let Some(h) = header_of(kind, &text, header_path)
        && key_id_as_private(key_path).is_some_and(|id| id == h.signature.key_id)
    {
        return Err(input(format!(
            "{p} is a private key, not a public key (it is the key that signed {f}): pass its \
             public key, for example {p}.pub (never hand the private key to a verifier)",
            p = key_path.display(),
            f = file.display()
        )));
    }
    let key = read_verifying_key(key_path)?;
    let mut progress = Progress::new(&format!("verifying {}", kind.name()), None, false);
    let result: Result<Report, VerificationFailed> = match kind {
        // A bundle's bulk is its receipts: the bar counts them as they are checked.
        Kind::Bundle => verify_bundle_json_with_progress(&text, &key, &req, &mut |p| {
            if p.total > 0 {
                progress.set_total(Some(p.total));
                progress.set(p.done);
            }
        }),
        Kind::Header => {
            let header = CapsuleHeader::from_json(&text).map_err(|e| document_failure(kind, &e))?;
            let report = verify_header(&header, &key).and_then(|r| with_policy(r, &header, &req));
            newer_header = Some(header);
            report
        }
        Kind::Capsule => {
            let header_path = header_path.ok_or_else(|| {
                input("a capsule is verified against its header: pass --header HEADER_FILE")
            })?;
            let header_text = String::from_utf8(read_file(header_path)?)
                .map_err(|_| input(format!("{}: not UTF-8 text", header_path.display())))?;
            lcm_model::strict::check_json(&header_text)
                .map_err(|e| input(format!("{}: {e}", header_path.display())))?;
            let header = CapsuleHeader::from_json(&header_text)
                .map_err(|e| document_failure(Kind::Header, &e))?;
            let capsule = Capsule::from_json(&text).map_err(|e| document_failure(kind, &e))?;
            verify_capsule(&capsule, &header, &key).and_then(|r| with_policy(r, &header, &req))
        }
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
            let skipped: Vec<Value> = report
                .not_applicable()
                .map(|c| {
                    json!({"stage": c.stage.to_string(), "check": c.name, "record": c.record,
                        "why": c.not_applicable})
                })
                .collect();
            let passed = report.checks.len().saturating_sub(skipped.len());
            if cli.json {
                let mut value = json!({"valid": true, "kind": kind.name(), "checks": passed,
                        "not_applicable": skipped, "key_id": key.key_id().to_hex(),
                        "warnings": warnings,
                        "synthetic": header.as_ref().and_then(|h| h.synthetic.clone()),
                        "results": results_json(&report)});
                if let Some(extends) = &extends {
                    value["extends"] = json!(extends);
                }
                out.line(&value.to_string())
            } else {
                let mut line = format!("valid {}: {passed} checks passed", kind.name());
                if !skipped.is_empty() {
                    use std::fmt::Write as _;
                    let _ = write!(line, ", {} not applicable", skipped.len());
                }
                out.line(&format!("{line} (key {})", key.key_id()))?;
                for w in &warnings {
                    out.line(&format!("  warning: {w}"))?;
                }
                for c in report.not_applicable() {
                    out.line(&format!(
                        "  not applicable: [{}] {}: {}",
                        c.stage,
                        c.name,
                        c.not_applicable.unwrap_or_default()
                    ))?;
                }
                if let Some(extends) = &extends {
                    out.line(extends)?;
                }
                Ok(())
            }
        }
        Err(failed) => {
            if cli.json {
                out.line(
                    &json!({"valid": false, "kind": kind.name(), "failures": failure_json(&failed),
                        "results": results_json(&failed.report)})
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

/// `report` with the policy requirements checked on `header` too (a header or capsule
/// verifier checks signatures and proofs, not requirements).
fn with_policy(
    mut report: Report,
    header: &CapsuleHeader,
    req: &PolicyRequirements,
) -> Result<Report, VerificationFailed> {
    let policy = validate_lcm_policy(header, req)?;
    report.checks.extend(policy.checks);
    Ok(report)
}

/// The scalar fields of a header stage, as `name=value` pairs.
fn stage_summary(stage: &Value) -> String {
    match stage {
        Value::Object(map) => map
            .iter()
            .filter_map(|(k, v)| match v {
                Value::String(s) => Some(format!("{k}={s}")),
                Value::Number(n) => Some(format!("{k}={n}")),
                Value::Bool(b) => Some(format!("{k}={b}")),
                Value::Array(a) => Some(format!("{k}=[{} items]", a.len())),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join(" "),
        Value::Null => "absent".to_owned(),
        other => other.to_string(),
    }
}

fn header_lines(header: &CapsuleHeader, lines: &mut Vec<String>) -> Result<Value, CliError> {
    let value = serde_json::to_value(header).map_err(|e| input(format!("header: {e}")))?;
    lines.push(format!("generated_at: {}", header.generated_at));
    lines.push(format!("signed by key: {}", header.signature.key_id));
    lines.push(header.policy.format_policy_line()?);
    if let Some(note) = &header.synthetic {
        lines.push(format!("SYNTHETIC: {note}"));
    }
    lines.push(format!("header digest: {}", header.digest()?));
    if let Value::Object(map) = &value {
        for (k, v) in map {
            if k.starts_with("stage_") {
                lines.push(format!("{k}: {}", stage_summary(v)));
            }
        }
    }
    Ok(value)
}

/// The facts of a header a script needs, for `inspect --json`.
fn header_facts(header: &CapsuleHeader) -> Result<serde_json::Map<String, Value>, CliError> {
    let inference = header.stage_g_inference.as_ref();
    let value = json!({
        "header_digest": header.digest()?,
        "key_id": header.signature.key_id.to_hex(),
        "generated_at": header.generated_at,
        "policy_digest": header.policy_digest,
        "synthetic": header.synthetic,
        "deployment": header.stage_e_deployment.as_ref().map(|e| e.deployment_id.clone()),
        "receipts": inference.map(|g| g.receipt_count),
        "batches": inference.map(|g| g.batches.len()),
        "receipts_root": inference.map(|g| g.receipts_root),
        "chain_head": inference.and_then(|g| g.chain_head),
        "release_root": header.stage_h_roots.as_ref().map(|h| h.release_root),
    });
    match value {
        Value::Object(map) => Ok(map),
        _ => Ok(serde_json::Map::new()),
    }
}

pub(crate) fn inspect(
    cli: &Cli,
    out: &mut Out,
    file: &Path,
    document: bool,
) -> Result<(), CliError> {
    let (kind, text, value) = detect(file)?;
    let mut lines = vec![format!("{}: {}", file.display(), kind.name())];
    let mut facts = serde_json::Map::new();
    match kind {
        Kind::Header => {
            let header = CapsuleHeader::from_json(&text).map_err(|e| document_failure(kind, &e))?;
            header_lines(&header, &mut lines)?;
            facts = header_facts(&header)?;
        }
        Kind::Bundle => {
            let bundle = Bundle::from_json(&text).map_err(|e| document_failure(kind, &e))?;
            header_lines(&bundle.header, &mut lines)?;
            facts = header_facts(&bundle.header)?;
            let l = &bundle.lifecycle;
            let receipts = l.inference.receipts().count();
            lines.push(format!(
                "records: {}, {}, {}, {} in {} ({})",
                plural(l.dataset.splits.len(), "split", "splits"),
                plural(l.training.checkpoints.len(), "checkpoint", "checkpoints"),
                plural(
                    l.deployment.status_history.len(),
                    "status event",
                    "status events"
                ),
                plural(receipts, "receipt", "receipts"),
                plural(l.inference.batches.len(), "group", "groups"),
                plural(
                    l.inference.sealed_batches().len(),
                    "sealed batch",
                    "sealed batches"
                ),
            ));
            facts.insert(
                "records".to_owned(),
                json!({
                    "splits": l.dataset.splits.len(),
                    "checkpoints": l.training.checkpoints.len(),
                    "status_events": l.deployment.status_history.len(),
                    "receipts": receipts,
                    "receipt_groups": l.inference.batches.len(),
                    "sealed_batches": l.inference.sealed_batches().len(),
                }),
            );
        }
        Kind::Capsule => {
            let capsule = Capsule::from_json(&text).map_err(|e| document_failure(kind, &e))?;
            lines.push(format!("header digest: {}", capsule.header_digest));
            facts.insert("header_digest".to_owned(), json!(capsule.header_digest));
            let item = match &capsule.item {
                CapsuleItem::InferenceReceipt(item) => {
                    let query = item.disclosure.as_ref().is_some_and(|d| d.input.is_some());
                    let output = item.disclosure.as_ref().is_some_and(|d| d.output.is_some());
                    lines.push(format!(
                        "inference receipt {} (sequence {}) digest {}",
                        item.receipt.record.receipt_id,
                        item.receipt.record.sequence,
                        item.receipt.digest
                    ));
                    lines.push(format!("disclosed: query {query}, output {output}"));
                    json!({"kind": "inference-receipt", "id": item.receipt.record.receipt_id,
                        "sequence": item.receipt.record.sequence, "digest": item.receipt.digest,
                        "disclosed": {"query": query, "output": output}})
                }
                CapsuleItem::TrainingCheckpoint(item) => {
                    lines.push(format!(
                        "training checkpoint {} digest {}",
                        item.checkpoint.record.checkpoint_id, item.checkpoint.digest
                    ));
                    json!({"kind": "training-checkpoint", "id": item.checkpoint.record.checkpoint_id,
                        "digest": item.checkpoint.digest})
                }
                CapsuleItem::DatasetRecord(item) => {
                    lines.push(format!(
                        "dataset record {} of split {}",
                        item.record_id, item.split_anchor.record.split
                    ));
                    json!({"kind": "dataset-record", "id": item.record_id,
                        "split": item.split_anchor.record.split})
                }
                _ => {
                    lines.push("an item of a kind this lcm does not know".to_owned());
                    Value::Null
                }
            };
            facts.insert("item".to_owned(), item);
        }
    }
    if cli.json {
        let mut v = json!({"kind": kind.name(), "file": file.display().to_string(),
            "summary": lines});
        if let Value::Object(map) = &mut v {
            map.extend(facts);
            if document {
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
    let input_file: LifecycleInput = serde_json::from_str(EXAMPLE)
        .map_err(|e| input(format!("the built-in example lifecycle: {e}")))?;
    let model = format!(
        "{}@{}",
        input_file.model.model_name, input_file.model.version
    );
    let deployment = input_file.deployment.deployment_id.clone();
    if store
        .record(
            lcm_model::records::DatasetFamilyAnchor::KIND,
            &input_file.dataset.family_id,
        )?
        .is_some()
    {
        return Err(input(format!(
            "store {} already holds the demo's lifecycle: pass another --store, or remove it",
            crate::io::store_name(cli)
        )));
    }
    let records = record_synthetic_into(
        &mut *store,
        input_file,
        &Passwords {
            dataset: DEMO_DATASET_PASSWORD,
            model: DEMO_MODEL_PASSWORD,
        },
        SYNTHETIC_DEMO,
    )?;

    // Receipts, in four windows.
    let windows = 4u64;
    let per_window = receipts.div_ceil(windows).max(1);
    let mut progress = Progress::new("demo receipts", Some(receipts), false);
    let mut done = 0u64;
    let mut batches = 0u64;
    while done < receipts {
        let n = per_window.min(receipts - done);
        make_demo_receipts(&mut *store, &model, &deployment, done, n)?;
        done += n;
        progress.set(done);
        if seal_next_batch(&mut *store, &deployment, None, None, None)?.is_some() {
            batches += 1;
        }
    }
    progress.finish();

    // The key: reused if the directory has one.
    let key_path = dir.join("signing.key");
    if !key_path.exists() {
        let key = lcm_crypto::SigningKey::generate(&mut lcm_crypto::OsRandom)?;
        write_key_pair(&key_path, &key, true)?;
    }
    let key = read_signing_key(&key_path)?;
    let now = Timestamp::now();
    let bundle = export::bundle(&*store, &deployment, now, &key)?;
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

    let head = store.head(&deployment)?;
    let release = &bundle.lifecycle.release;
    if cli.json {
        return out.line(
            &json!({
                "store": crate::io::store_name(cli),
                "records": records.len(),
                "receipts": receipts,
                "batches": batches,
                "chain_head": head.map(|h| h.digest),
                "release_root": release.record.root,
                "header": header_path.display().to_string(),
                "bundle": bundle_path.display().to_string(),
                "public_key": format!("{}.pub", key_path.display()),
                "key_id": key.key_id().to_hex(),
            })
            .to_string(),
        );
    }
    let l = &bundle.lifecycle;
    for line in [
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
    ] {
        out.line(&line)?;
    }
    Ok(())
}
