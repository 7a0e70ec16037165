//! How the store's file is opened besides the main connection: read-only as an immutable
//! URI, owner-only permissions, and the [`Checkpointer`], the second connection that copies
//! committed WAL frames into the database file while `lcm infer`'s writer keeps appending.

use std::path::Path;

use rusqlite::Connection;

use super::BUSY_TIMEOUT;
use crate::Error;
use crate::store::Checkpoint;

/// A second connection to a store that copies committed WAL frames into the database file
/// (`PRAGMA wal_checkpoint(PASSIVE)`), for a writer that disabled its own checkpoints. A
/// passive checkpoint never blocks the writer, and it moves only committed data (fsynced
/// under `synchronous=FULL` before the WAL is reused), so durability is unchanged.
#[derive(Debug)]
pub struct Checkpointer {
    conn: Connection,
}

impl Checkpoint for Checkpointer {
    fn checkpoint(&self) -> Result<(), Error> {
        self.passive()
    }
}

impl Checkpointer {
    /// Opens the second connection.
    ///
    /// # Errors
    ///
    /// `SQLite` failures.
    pub fn open(path: &Path) -> Result<Self, Error> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.execute_batch("PRAGMA synchronous=FULL;")?;
        Ok(Self { conn })
    }

    /// Runs one passive checkpoint.
    ///
    /// # Errors
    ///
    /// `SQLite` failures.
    pub fn passive(&self) -> Result<(), Error> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
        Ok(())
    }
}

/// A `file:` URI opening `path` as immutable (no locks, no shared memory, no log).
pub(super) fn immutable_uri(path: &Path) -> String {
    let mut uri = String::from("file:");
    for b in path.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'-' | b'_' | b'~') {
            uri.push(char::from(b));
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri.push_str("?mode=ro&immutable=1");
    uri
}

#[cfg(unix)]
pub(super) fn restrict_permissions(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    // The store holds the commitment seed: owner-only. Best effort: a failure leaves the
    // umask's mode, which the user controls.
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
}

#[cfg(not(unix))]
pub(super) fn restrict_permissions(_path: &Path) {}
