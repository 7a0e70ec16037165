//! `lcm compat audit FILE`: prints the typed audit of a capsule header written by the Python
//! reference (`lcm_pyciaf::audit`), as a table or with `--json` as one JSON object. The audit
//! itself, field by field, lives in `lcm-pyciaf`; this command reads the file, maps the audit's
//! errors to exit code 2 and formats its report.

use std::path::Path;

use lcm_pyciaf::audit::{self, AuditError, Status};
use serde_json::json;

use crate::cli::Cli;
use crate::error::{CliError, input};
use crate::io::{Out, read_file};

/// `lcm compat audit FILE`.
pub(crate) fn audit_cmd(cli: &Cli, out: &mut Out, file: &Path) -> Result<(), CliError> {
    let bytes = read_file(file)?;
    let report = audit::audit_header(&bytes).map_err(|e| unreadable(file, &e))?;
    if cli.json {
        let mut value = report.to_json();
        value["file"] = json!(file.display().to_string());
        return out.line(&value.to_string());
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
