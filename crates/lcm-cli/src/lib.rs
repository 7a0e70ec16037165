//! The library behind the `lcm` command-line tool.
//!
//! - [`store`]: the [`store::Store`] trait and the embedded `SQLite` store (WAL,
//!   `synchronous=FULL`, schema migrations, append-only receipts).
//! - [`check`]: the store's integrity check (every digest, link and batch recomputed).
//! - [`fingerprint`]: streaming file, directory and safetensors fingerprints.
//! - [`progress`]: a progress bar on standard error when it is a terminal.
//!
//! The binary (`src/main.rs`) parses arguments and prints; everything it stores or checks
//! goes through this library, so that another store (`PostgreSQL`) can implement
//! [`store::Store`] and reuse the rest.

pub mod check;
pub mod export;
pub mod fingerprint;
pub mod lifecycle;
pub mod progress;
pub mod store;

/// An error of the `lcm` library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The receipt chain reached 2^64 receipts.
    #[error("the receipt chain is full (2^64 receipts)")]
    ChainFull,
    /// The canonical encoder produced bytes that are not UTF-8 (a bug).
    #[error("canonical json is not utf-8")]
    NotUtf8,
    /// A lifecycle error from the managers (boxed: the managers' errors are large).
    #[error(transparent)]
    Managers(Box<lcm_managers::Error>),
    /// A record encoding error.
    #[error(transparent)]
    Model(Box<lcm_model::Error>),
    /// A store error.
    #[error(transparent)]
    Store(#[from] store::Error),
    /// A stage's input is incomplete or contradicts the store.
    #[error("{stage}: {message}")]
    Stage {
        /// The stage (`training`, `predeployment`, ...).
        stage: &'static str,
        /// What is wrong.
        message: String,
    },
    /// Stored records could not be read back.
    #[error(transparent)]
    Export(Box<export::Error>),
}

impl From<export::Error> for Error {
    fn from(e: export::Error) -> Self {
        Self::Export(Box::new(e))
    }
}

impl From<lcm_managers::Error> for Error {
    fn from(e: lcm_managers::Error) -> Self {
        Self::Managers(Box::new(e))
    }
}

impl From<lcm_model::Error> for Error {
    fn from(e: lcm_model::Error) -> Self {
        Self::Model(Box::new(e))
    }
}
