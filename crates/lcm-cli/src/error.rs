//! The CLI's one error type, [`CliError`]: it wraps the libraries' errors as typed sources
//! and decides the exit code. A leaf module: it imports nothing from the rest of the binary.

/// Why a command failed; decides the exit code ([`CliError::exit_code`]).
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// A verification failed (exit 1): the first failing check, as the verifier words it.
    #[error("verification failed: {0}")]
    Verify(String),
    /// The store's integrity check failed (exit 1).
    #[error("verification failed: {0}")]
    Check(#[from] lcm_store::check::Failure),
    /// The store, or the work done on it, failed (exit 1 for a failed verification of stored
    /// records, 2 otherwise).
    #[error("{}{}", verification_prefix(.0), .0)]
    Store(Box<lcm_store::Error>),
    /// The capsule library refused (exit 2).
    #[error(transparent)]
    Capsule(Box<lcm_capsule::Error>),
    /// A record or policy was refused (exit 2).
    #[error(transparent)]
    Model(Box<lcm_model::Error>),
    /// A key or randomness failure (exit 2).
    #[error(transparent)]
    Crypto(#[from] lcm_crypto::Error),
    /// A fingerprint failed (exit 2).
    #[error(transparent)]
    Fingerprint(#[from] lcm_store::fingerprint::Error),
    /// Two fingerprints differ (exit 1, `lcm fingerprint diff`).
    #[error("{0}")]
    Differ(String),
    /// A file could not be read or written, or is not the JSON or key it should be
    /// (exit 2).
    #[error(transparent)]
    File(#[from] lcm_store::files::FileError),
    /// A usage or input error the CLI words itself (exit 2).
    #[error("{0}")]
    Input(String),
    /// Standard output was closed by its reader (`lcm list receipts | head`): stop quietly
    /// with exit 0, as other command-line tools do. Whatever was committed stays committed.
    #[error("standard output closed")]
    BrokenPipe,
}

impl CliError {
    /// The process exit code: 1 when a verification failed, 0 for a closed standard output,
    /// 2 for everything else.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Self::Verify(_) | Self::Check(_) | Self::Differ(_) => 1,
            Self::Store(e) if e.is_verification_failure() => 1,
            Self::BrokenPipe => 0,
            _ => 2,
        }
    }
}

impl From<lcm_store::Error> for CliError {
    /// A write that failed because standard output's reader closed it is [`Self::BrokenPipe`].
    fn from(e: lcm_store::Error) -> Self {
        match e {
            lcm_store::Error::Write(io) if io.kind() == std::io::ErrorKind::BrokenPipe => {
                Self::BrokenPipe
            }
            e => Self::Store(Box::new(e)),
        }
    }
}

impl From<lcm_capsule::Error> for CliError {
    fn from(e: lcm_capsule::Error) -> Self {
        Self::Capsule(Box::new(e))
    }
}

impl From<lcm_model::Error> for CliError {
    fn from(e: lcm_model::Error) -> Self {
        Self::Model(Box::new(e))
    }
}

impl From<lcm_managers::Error> for CliError {
    fn from(e: lcm_managers::Error) -> Self {
        Self::Store(Box::new(e.into()))
    }
}

impl From<lcm_store::lifecycle::demo::ArtefactError> for CliError {
    /// A bundle that does not verify fails as a verification (exit 1).
    fn from(e: lcm_store::lifecycle::demo::ArtefactError) -> Self {
        use lcm_store::lifecycle::demo::ArtefactError;
        match e {
            ArtefactError::Verify(message) => Self::Verify(one_line(&message)),
            ArtefactError::Store(e) => e.into(),
            ArtefactError::File(e) => e.into(),
            other => Self::Input(other.to_string()),
        }
    }
}

impl From<lcm_store::lifecycle::ReadError> for CliError {
    /// An input file that cannot be read or is not valid input (exit 2).
    fn from(e: lcm_store::lifecycle::ReadError) -> Self {
        use lcm_store::lifecycle::ReadError;
        match e {
            ReadError::File(e) => e.into(),
            ReadError::Weights(e) => e.into(),
            other => Self::Input(other.to_string()),
        }
    }
}

impl From<lcm_client::Error> for CliError {
    /// The server refused, could not be reached, or the input could not be read (exit 2).
    fn from(e: lcm_client::Error) -> Self {
        Self::Input(e.to_string())
    }
}

/// `verification failed: ` before a store error that is a failed verification.
fn verification_prefix(e: &lcm_store::Error) -> &'static str {
    if e.is_verification_failure() {
        "verification failed: "
    } else {
        ""
    }
}

/// A usage or input error in the CLI's own words.
pub(crate) fn input(message: impl Into<String>) -> CliError {
    CliError::Input(message.into())
}

/// Errors print as one line.
pub(crate) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl From<lcm_store::tlog_ops::OpsError> for CliError {
    /// A failed check (exit 1) or malformed input (exit 2); the evidence a divergence carries
    /// is printed by the command before it returns.
    fn from(e: lcm_store::tlog_ops::OpsError) -> Self {
        use lcm_store::tlog_ops::OpsError;
        match e {
            OpsError::File(f) => f.into(),
            OpsError::Invalid { what } => Self::Input(what),
            OpsError::Failed { message } | OpsError::Diverged { message, .. } => {
                Self::Verify(message)
            }
            OpsError::HeadersDiverged(evidence) => Self::Verify(evidence.message),
            OpsError::Range(failure) => Self::Verify(one_line(&failure.to_string())),
            OpsError::Store(e) => Self::Store(e),
            other => Self::Input(other.to_string()),
        }
    }
}
