//! Creating, opening and migrating a [`SqliteStore`], and its write transactions and
//! maintenance (integrity check, checkpoints, synchronous mode).

use std::path::Path;

use lcm_model::Policy;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::connection::{immutable_uri, restrict_permissions};
use super::schema::{LEAN_VERSION, MIGRATIONS, SEALS_VERSION};
use super::seals::{backfill_v5, seal_policy};
use super::{BUSY_TIMEOUT, LOG_VERSION, SCHEMA_VERSION, SqliteStore, log, receipts};
use crate::Error;

impl SqliteStore {
    fn open_conn(path: &Path) -> Result<Connection, Error> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // WAL: readers never block the writer; FULL: every commit is fsynced.
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::Corrupt {
                what: format!("journal mode {mode}, expected wal"),
            });
        }
        conn.execute_batch("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")?;
        Ok(conn)
    }

    /// Creates (or opens and migrates) the store at `path` with `policy`. Returns the store
    /// and whether it was newly initialized; an existing store keeps its policy and its
    /// chains' seeds.
    ///
    /// # Errors
    ///
    /// [`Error::TooNew`], `SQLite` failures, and randomness failures as
    /// [`Error::Crypto`].
    pub fn init(path: &Path, policy: &Policy) -> Result<(Self, bool), Error> {
        let existed = path.exists();
        let conn = Self::open_conn(path)?;
        if !existed {
            restrict_permissions(path);
        }
        let mut store = Self {
            conn,
            path: path.to_owned(),
        };
        store.migrate()?;
        let tx = store
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let has_policy: Option<i64> = tx
            .query_row("SELECT 1 FROM meta WHERE key = 'policy'", [], |r| r.get(0))
            .optional()?;
        let fresh = has_policy.is_none();
        if fresh {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('policy', ?1)",
                params![policy.canonical_json()?],
            )?;
            seal_policy(&tx, policy)?;
        }
        tx.commit()?;
        Ok((store, fresh))
    }

    /// Opens an initialized store, migrating its schema if it is older than this build's.
    ///
    /// # Errors
    ///
    /// [`Error::NoStore`], [`Error::NotInitialized`], [`Error::TooNew`], `SQLite` failures.
    pub fn open(path: &Path) -> Result<Self, Error> {
        if !path.exists() {
            return Err(Error::NoStore {
                path: path.to_owned(),
            });
        }
        let conn = Self::open_conn(path)?;
        let mut store = Self {
            conn,
            path: path.to_owned(),
        };
        store.migrate()?;
        store.require_policy()?;
        Ok(store)
    }

    /// Opens an initialized store for reading only: nothing is written, not even the
    /// journal mode, so an archived store on a read-only mount (or a 0444 file in a 0555
    /// folder) can be checked, listed and exported. A store of an older schema is migrated
    /// first by [`SqliteStore::open`] (which needs write access once).
    ///
    /// When the folder does not let `SQLite` create its shared-memory file, the store is read
    /// as immutable, which is exact only if no write-ahead log is pending; a pending one
    /// (a non-empty `-wal` file) is refused rather than ignored.
    ///
    /// # Errors
    ///
    /// [`Error::NoStore`], [`Error::NotInitialized`], [`Error::TooNew`], [`Error::Corrupt`]
    /// for a pending log that cannot be read, `SQLite` failures.
    pub fn open_read_only(path: &Path) -> Result<Self, Error> {
        use rusqlite::OpenFlags;
        if !path.exists() {
            return Err(Error::NoStore {
                path: path.to_owned(),
            });
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let probe = |conn: Connection| -> Result<(Connection, i64), Error> {
            conn.busy_timeout(BUSY_TIMEOUT)?;
            let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            Ok((conn, version))
        };
        let (conn, version) = match Connection::open_with_flags(path, flags)
            .map_err(Error::from)
            .and_then(probe)
        {
            Ok(v) => v,
            Err(first) => {
                let mut wal = path.as_os_str().to_owned();
                wal.push("-wal");
                if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
                    return Err(Error::Corrupt {
                        what: format!(
                            "cannot read {} without writing (its write-ahead log is pending: \
                             {first})",
                            path.display()
                        ),
                    });
                }
                let uri = immutable_uri(path);
                Connection::open_with_flags(&uri, flags)
                    .map_err(Error::from)
                    .and_then(probe)?
            }
        };
        if version > SCHEMA_VERSION {
            return Err(Error::TooNew {
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        if version < SCHEMA_VERSION {
            drop(conn);
            return Self::open(path);
        }
        let store = Self {
            conn,
            path: path.to_owned(),
        };
        store.require_policy()?;
        Ok(store)
    }

    /// [`Error::NotInitialized`] for a store without a policy (one `init` did not make).
    fn require_policy(&self) -> Result<(), Error> {
        let has_policy: Option<i64> = self
            .conn
            .query_row("SELECT 1 FROM meta WHERE key = 'policy'", [], |r| r.get(0))
            .optional()?;
        if has_policy.is_none() {
            return Err(Error::NotInitialized {
                path: self.path.clone(),
            });
        }
        Ok(())
    }

    /// The store's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Brings the schema to [`SCHEMA_VERSION`], one migration per transaction.
    fn migrate(&mut self) -> Result<(), Error> {
        loop {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            let Some(sql) = crate::schema::next_migration(version, SCHEMA_VERSION, MIGRATIONS)?
            else {
                drop(tx);
                // The statement journal of a multi-row append (`receipts::insert_all`: what
                // undoes a statement of up to 32 rows, a copy of every page it touches) is
                // kept in memory instead of a temporary file, once it passes 64 KiB: +0.5 s
                // of system time per 10^6 receipts in files. Set after the migrations, which
                // may sort a whole old table.
                self.conn.execute_batch("PRAGMA temp_store=MEMORY;")?;
                return Ok(());
            };
            tx.execute_batch(sql)?;
            if version + 1 == SEALS_VERSION {
                backfill_v5(&tx)?;
            }
            if version + 1 == LOG_VERSION {
                log::backfill(&tx)?;
            }
            if version + 1 == LEAN_VERSION {
                receipts::migrate_v7(&tx)?;
            }
            tx.pragma_update(None, "user_version", version + 1)?;
            tx.commit()?;
        }
    }

    /// Runs `f` inside one `BEGIN IMMEDIATE` transaction (the write lock taken first): commits
    /// when it returns `Ok`, rolls back when it returns an error. `f` reads and writes through
    /// the store it is given, so everything it reads is what it writes after.
    pub(super) fn write_transaction<T>(
        &self,
        f: impl FnOnce(&Self) -> Result<T, Error>,
    ) -> Result<T, Error> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        match f(self) {
            Ok(value) => {
                self.conn.execute_batch("COMMIT")?;
                Ok(value)
            }
            Err(e) => {
                // The original error matters more than a failed rollback.
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// Runs `SQLite`'s own consistency check (`PRAGMA integrity_check`).
    ///
    /// # Errors
    ///
    /// [`Error::Corrupt`] with `SQLite`'s first complaint; `SQLite` failures.
    pub fn integrity_check(&self) -> Result<(), Error> {
        let result: String = self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if result == "ok" {
            Ok(())
        } else {
            Err(Error::Corrupt { what: result })
        }
    }

    /// Stops this connection from checkpointing the WAL itself after its commits
    /// (`PRAGMA wal_autocheckpoint=0`); a [`Checkpointer`](super::Checkpointer) on another
    /// thread does it instead, so the writer never pays for copying pages into the database
    /// file.
    ///
    /// # Errors
    ///
    /// `SQLite` failures.
    pub fn disable_autocheckpoint(&self) -> Result<(), Error> {
        self.conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        Ok(())
    }

    /// Sets `PRAGMA synchronous` (`FULL` by default). Only for measurements: `NORMAL` may
    /// lose the last transactions on power loss.
    ///
    /// # Errors
    ///
    /// `SQLite` failures.
    pub fn set_synchronous(&self, level: &str) -> Result<(), Error> {
        self.conn.pragma_update(None, "synchronous", level)?;
        Ok(())
    }
}
