//! Standard output ([`Out`]), and reading and writing the files the commands take: JSON
//! inputs, key files, new files with a mode. Depends only on [`crate::error`].

use std::io::Write;
use std::path::Path;

use lcm_store::Store;

use crate::cli::Cli;
use crate::error::{CliError, input};

pub(crate) use lcm_store::files::{read_file, read_json, read_signing_key};
pub(crate) use lcm_store::lifecycle::views::plural;

/// [`lcm_store::files::write_replacing`], as the CLI's error.
pub(crate) fn write_replacing(path: &Path, contents: &[u8]) -> Result<(), CliError> {
    Ok(lcm_store::files::write_replacing(path, contents)?)
}

/// Standard output, where a closed pipe ends the command quietly.
pub(crate) struct Out {
    inner: std::io::BufWriter<std::io::Stdout>,
}

impl Out {
    pub(crate) fn new() -> Self {
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

    /// Each of `lines`, one a line.
    pub(crate) fn lines<I>(&mut self, lines: I) -> Result<(), CliError>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        lines.into_iter().try_for_each(|l| self.line(l.as_ref()))
    }

    /// One line: `value` with `--json` (`json`), else `text`.
    pub(crate) fn either(
        &mut self,
        json: bool,
        value: &serde_json::Value,
        text: &str,
    ) -> Result<(), CliError> {
        if json {
            self.line(&value.to_string())
        } else {
            self.line(text)
        }
    }

    pub(crate) fn raw(&mut self, bytes: &[u8]) -> Result<(), CliError> {
        self.inner.write_all(bytes).map_err(out_err)
    }

    /// The buffered standard output, for a document written as it is made.
    pub(crate) fn writer(&mut self) -> &mut dyn Write {
        &mut self.inner
    }

    pub(crate) fn flush(&mut self) -> Result<(), CliError> {
        self.inner.flush().map_err(out_err)
    }
}

/// A failed write to standard output: [`CliError::BrokenPipe`] when its reader closed it.
pub(crate) fn out_err(e: std::io::Error) -> CliError {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        CliError::BrokenPipe
    } else {
        input(format!("writing standard output: {e}"))
    }
}

/// `e` about the file at `path`.
pub(crate) fn file_err(path: &Path) -> impl FnOnce(std::io::Error) -> CliError + '_ {
    move |source| CliError::File(lcm_store::files::io_err(path)(source))
}

/// The master password in the environment variable `var`.
pub(crate) fn password(var: &str) -> Result<String, CliError> {
    match std::env::var(var) {
        Ok(p) if !p.is_empty() => Ok(p),
        _ => Err(input(format!(
            "the environment variable {var} must hold the master password"
        ))),
    }
}

/// The store named by `--store` (or `LCM_STORE`).
pub(crate) fn open(cli: &Cli) -> Result<Box<dyn Store>, CliError> {
    Ok(lcm_store::open(&cli.store)?)
}

/// The store's location as it may be printed: a URL's password replaced by `***`.
pub(crate) fn store_name(cli: &Cli) -> String {
    lcm_store::redact_location(&cli.store.to_string_lossy())
}

/// The store, for a command that only reads it: opened read-only, so an archived store
/// (a read-only mount, a 0444 file) can be checked, listed and exported.
pub(crate) fn open_read_only(cli: &Cli) -> Result<Box<dyn Store>, CliError> {
    Ok(lcm_store::open_read_only(&cli.store)?)
}
