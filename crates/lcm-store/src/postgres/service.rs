//! The `PostgreSQL` tables of the service's section of [`crate::Store`]: API tokens (hashed)
//! and batch keys (schema version 2), with the semantics of the `SQLite` backend's.

use postgres::Row;

use super::PostgresStore;
use super::conn::{digest_from, duplicate_or, to_i64, to_u64};
use crate::Error;
use crate::store::{BatchKeyRow, StoredKeyRotation, StoredToken};

fn make_token(r: &Row) -> Result<StoredToken, Error> {
    Ok(StoredToken {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        deployment: r.try_get(2)?,
        hash: digest_from(r.try_get::<_, &[u8]>(3)?)?,
        created: r.try_get(4)?,
        revoked: r.try_get(5)?,
    })
}

impl PostgresStore {
    pub(super) fn read_key_rotations(&self) -> Result<Vec<StoredKeyRotation>, Error> {
        self.query(
            "SELECT sequence, json FROM key_rotations ORDER BY sequence",
            &[],
        )?
        .iter()
        .map(|r| {
            Ok(StoredKeyRotation {
                sequence: to_u64(r.try_get(0)?, "key rotation sequence")?,
                json: r.try_get(1)?,
            })
        })
        .collect()
    }

    pub(super) fn insert_key_rotation(&self, r: &StoredKeyRotation) -> Result<(), Error> {
        self.execute(
            "INSERT INTO key_rotations (sequence, json) VALUES ($1, $2)",
            &[&to_i64(r.sequence)?, &r.json],
        )
        .map_err(|e| duplicate_or(e, "key rotation", &r.sequence.to_string()))?;
        Ok(())
    }

    pub(super) fn insert_token(&self, t: &StoredToken) -> Result<(), Error> {
        self.execute(
            "INSERT INTO tokens (id, name, deployment, hash, created, revoked) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &t.id,
                &t.name,
                &t.deployment,
                &t.hash.as_bytes().as_slice(),
                &t.created,
                &t.revoked,
            ],
        )
        .map_err(|e| duplicate_or(e, "token", &t.id))?;
        Ok(())
    }

    pub(super) fn read_token(&self, id: &str) -> Result<Option<StoredToken>, Error> {
        self.query_opt(
            "SELECT id, name, deployment, hash, created, revoked FROM tokens WHERE id = $1",
            &[&id],
        )?
        .as_ref()
        .map(make_token)
        .transpose()
    }

    pub(super) fn read_tokens(&self) -> Result<Vec<StoredToken>, Error> {
        self.query(
            "SELECT id, name, deployment, hash, created, revoked FROM tokens \
             ORDER BY created, id",
            &[],
        )?
        .iter()
        .map(make_token)
        .collect()
    }

    /// Revokes `id` at `at` unless it was revoked already (the row is locked first, so two
    /// revocations at once keep the first time). Runs inside the caller's transaction.
    pub(super) fn revoke(&self, id: &str, at: i64) -> Result<bool, Error> {
        let row = self.query_opt(
            "SELECT revoked FROM tokens WHERE id = $1 FOR UPDATE",
            &[&id],
        )?;
        let Some(row) = row else {
            return Ok(false);
        };
        if row.try_get::<_, Option<i64>>(0)?.is_none() {
            self.execute("UPDATE tokens SET revoked = $2 WHERE id = $1", &[&id, &at])?;
        }
        Ok(true)
    }

    pub(super) fn read_batch_key(
        &self,
        chain: i64,
        key: &str,
    ) -> Result<Option<BatchKeyRow>, Error> {
        let Some(row) = self.query_opt(
            "SELECT body, first_seq, count FROM batch_keys WHERE chain_id = $1 AND key = $2",
            &[&chain, &key],
        )?
        else {
            return Ok(None);
        };
        Ok(Some(BatchKeyRow {
            key: key.to_owned(),
            body: digest_from(row.try_get::<_, &[u8]>(0)?)?,
            first_sequence: to_u64(row.try_get(1)?, "sequence")?,
            count: to_u64(row.try_get(2)?, "count")?,
        }))
    }

    /// Inserts the batch keys of one append, inside its transaction.
    pub(super) fn insert_batch_keys(&self, chain: i64, keys: &[BatchKeyRow]) -> Result<(), Error> {
        for k in keys {
            self.execute(
                "INSERT INTO batch_keys (chain_id, key, body, first_seq, count) \
                 VALUES ($1, $2, $3, $4, $5)",
                &[
                    &chain,
                    &k.key,
                    &k.body.as_bytes().as_slice(),
                    &to_i64(k.first_sequence)?,
                    &to_i64(k.count)?,
                ],
            )
            .map_err(|e| duplicate_or(e, "batch key", &k.key))?;
        }
        Ok(())
    }
}
