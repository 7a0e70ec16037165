//! `lcm compat audit FILE`: prints the typed audit of a capsule header written by the Python
//! reference (`lcm_pyciaf::audit`), as a table or with `--json` as one JSON object. The audit
//! itself, field by field, lives in `lcm-pyciaf`; this command reads the file, maps the audit's
//! errors to exit code 2 and prints its report (`Report::text_lines`, `Report::to_json`).

use std::path::Path;

use lcm_pyciaf::audit;
use serde_json::json;

use crate::cli::Cli;
use crate::error::{CliError, input};
use crate::io::{Out, read_file};

/// `lcm compat audit FILE`.
pub(crate) fn audit_cmd(cli: &Cli, out: &mut Out, file: &Path) -> Result<(), CliError> {
    let bytes = read_file(file)?;
    // A file that is not a header of the reference: an input error (exit 2), naming the file.
    let report =
        audit::audit_header(&bytes).map_err(|e| input(format!("{}: {e}", file.display())))?;
    if cli.json {
        let mut value = report.to_json();
        value["file"] = json!(file.display().to_string());
        return out.line(&value.to_string());
    }
    out.lines(report.text_lines(&file.display().to_string()))
}
