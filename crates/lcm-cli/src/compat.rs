//! `lcm compat audit FILE`: prints the typed audit of a capsule header written by the Python
//! reference (`lcm_pyciaf::audit`), as a table or with `--json` as one JSON object. The audit
//! itself, field by field, lives in `lcm-pyciaf`; this command reads the file, maps the audit's
//! errors to exit code 2 and formats its report.

use std::path::Path;

use lcm_pyciaf::audit::{self, AuditError, Report, Status};
use serde_json::{Value, json};

use crate::cli::Cli;
use crate::error::{CliError, input};
use crate::io::{Out, read_file};

/// `lcm compat audit FILE`.
pub(crate) fn audit_cmd(cli: &Cli, out: &mut Out, file: &Path) -> Result<(), CliError> {
    let bytes = read_file(file)?;
    let report = audit::audit_header(&bytes).map_err(|e| unreadable(file, &e))?;
    if cli.json {
        return out.line(&json_report(file, &report).to_string());
    }
    out.line(&format!(
        "{}: pyciaf capsule header (sha256 of the file {})",
        file.display(),
        report.file_sha256
    ))?;
    for f in &report.findings {
        out.line(&format!(
            "{:<44} {:<13} {}",
            f.field,
            f.status.name(),
            f.detail
        ))?;
    }
    let summary = report.summary();
    out.line(&format!(
        "summary: {} consistent, {} inconsistent, {} unverifiable, {} absent",
        summary.count(Status::Consistent),
        summary.count(Status::Inconsistent),
        summary.count(Status::Unverifiable),
        summary.count(Status::Absent)
    ))
}

/// A file that is not a header of the reference: an input error (exit 2), naming the file.
fn unreadable(file: &Path, e: &AuditError) -> CliError {
    input(format!("{}: {e}", file.display()))
}

/// The `--json` form: the file, its SHA-256, every finding and the summary.
fn json_report(file: &Path, report: &Report) -> Value {
    let findings: Vec<Value> = report
        .findings
        .iter()
        .map(|f| json!({"field": f.field, "status": f.status.name(), "detail": f.detail}))
        .collect();
    let summary = report.summary();
    let counts: serde_json::Map<String, Value> = Status::ALL
        .iter()
        .map(|&s| (s.name().to_owned(), json!(summary.count(s))))
        .collect();
    json!({
        "file": file.display().to_string(),
        "file_sha256": report.file_sha256.to_hex(),
        "findings": findings,
        "summary": counts,
    })
}
