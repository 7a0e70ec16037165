//! Connecting to a [`PostgresStore`]: creating, opening (read-write or read-only) and
//! migrating it.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use lcm_model::Policy;

use super::conn::describe;
use super::{PostgresStore, SCHEMA_VERSION, schema, seals, session};
use crate::Error;

impl PostgresStore {
    /// Connects to the database at `url` (a `postgres://` or `postgresql://` URL).
    fn connect(url: &str) -> Result<Self, Error> {
        let location = crate::redact_location(url);
        let config: postgres::Config = url.parse().map_err(|e: postgres::Error| Error::Url {
            location: location.clone(),
            reason: describe(&e),
        })?;
        let client = session(&config, false)?;
        Ok(Self {
            client: RefCell::new(client),
            config,
            read_only: Cell::new(false),
            in_transaction: Cell::new(false),
            broken: Cell::new(false),
            statements: RefCell::new(HashMap::new()),
            location,
        })
    }

    /// Creates (or opens and migrates) the store at `url` with `policy`. Returns the store
    /// and whether it was newly initialized; an existing store keeps its policy and seeds.
    ///
    /// # Errors
    ///
    /// [`Error::Url`], [`Error::TooNew`], [`Error::Postgres`] (an unreachable server, a
    /// refused login, a schema that does not exist).
    pub fn init(url: &str, policy: &Policy) -> Result<(Self, bool), Error> {
        let store = Self::connect(url)?;
        store.migrate()?;
        let fresh = store.transaction(|s| {
            let inserted = s.execute(
                "INSERT INTO meta (key, value) VALUES ('policy', $1) ON CONFLICT DO NOTHING",
                &[&policy.canonical_json()?],
            )?;
            if inserted == 1 {
                seals::seal_policy(s, policy)?;
            }
            Ok(inserted == 1)
        })?;
        Ok((store, fresh))
    }

    /// Opens the store at `url`, migrating its schema if it is older than this build's.
    ///
    /// # Errors
    ///
    /// [`Error::NoStore`] when the schema holds no store, [`Error::NotInitialized`],
    /// [`Error::TooNew`], [`Error::Url`], [`Error::Postgres`].
    pub fn open(url: &str) -> Result<Self, Error> {
        let store = Self::connect(url)?;
        if store.version()?.is_none() {
            return Err(Error::NoStore {
                path: store.location.into(),
            });
        }
        store.migrate()?;
        store.require_policy()?;
        Ok(store)
    }

    /// Opens the store at `url` for reading only: the session's transactions are read-only
    /// (`default_transaction_read_only`), so its writing methods fail. A store of an older
    /// schema is migrated first, as by [`PostgresStore::open`].
    ///
    /// # Errors
    ///
    /// As [`PostgresStore::open`].
    pub fn open_read_only(url: &str) -> Result<Self, Error> {
        let store = Self::connect(url)?;
        match store.version()? {
            None => {
                return Err(Error::NoStore {
                    path: store.location.into(),
                });
            }
            Some(v) if v > SCHEMA_VERSION => {
                return Err(Error::TooNew {
                    found: v,
                    supported: SCHEMA_VERSION,
                });
            }
            Some(v) if v < SCHEMA_VERSION => store.migrate()?,
            Some(_) => {}
        }
        store.batch("SET default_transaction_read_only = on")?;
        store.read_only.set(true);
        store.require_policy()?;
        Ok(store)
    }

    /// The store's URL without its password.
    pub fn location(&self) -> &str {
        &self.location
    }

    fn require_policy(&self) -> Result<(), Error> {
        if self
            .query_opt("SELECT 1 FROM meta WHERE key = 'policy'", &[])?
            .is_none()
        {
            return Err(Error::NotInitialized {
                path: self.location.clone().into(),
            });
        }
        Ok(())
    }

    /// The version of the schema, or `None` when the schema holds no store.
    fn version(&self) -> Result<Option<i64>, Error> {
        let exists = self
            .query_one("SELECT to_regclass('lcm_migrations') IS NOT NULL", &[])?
            .try_get::<_, bool>(0)?;
        if !exists {
            return Ok(None);
        }
        let v: i32 = self
            .query_one("SELECT COALESCE(MAX(version), 0) FROM lcm_migrations", &[])?
            .try_get(0)?;
        Ok(Some(i64::from(v)))
    }

    /// Brings the schema to [`SCHEMA_VERSION`], one migration per transaction, under an
    /// advisory lock so that concurrent openers migrate once.
    fn migrate(&self) -> Result<(), Error> {
        loop {
            let done = self.transaction(|s| {
                s.batch("SELECT pg_advisory_xact_lock(7526315460723154477)")?;
                let version = schema::migrate_step(s)?;
                Ok(version.is_none())
            })?;
            if done {
                return Ok(());
            }
        }
    }
}
