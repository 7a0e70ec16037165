//! The [`Store`] trait and the rows it stores.

use lcm_crypto::Digest;
use lcm_model::Policy;

use crate::Error;

/// Work a backend does off the writer's path, on another thread: copying committed
/// write-ahead-log frames into the database file, for `SQLite`.
pub trait Checkpoint: Send {
    /// Runs one checkpoint; a failed one loses nothing (it is retried by the next).
    ///
    /// # Errors
    ///
    /// The backend's failures.
    fn checkpoint(&self) -> Result<(), Error>;
}

/// A stored record: its kind (the record's `KIND`), its id, its digest and its canonical JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRecord {
    /// The record kind, for example `model-anchor`.
    pub kind: String,
    /// The record's id within its kind, for example `pneumonia_model@v1.0`.
    pub id: String,
    /// The record's digest under the store's policy.
    pub digest: Digest,
    /// The record's canonical JSON.
    pub json: String,
}

/// Evidence kept next to the records: inputs that records bind by digest only (a split's
/// record ids, a training run's metrics, an SBOM), needed to verify them or to export them.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvidence {
    /// The evidence kind: `split-records`, `training-metrics` or `sbom`.
    pub kind: String,
    /// The id of the record it belongs to.
    pub id: String,
    /// Its canonical JSON.
    pub json: String,
}

/// A stored inference receipt.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredReceipt {
    /// Its position in the chain, from 0.
    pub sequence: u64,
    /// The receipt id.
    pub receipt_id: String,
    /// The receipt's digest (the chain link).
    pub digest: Digest,
    /// The receipt's time, microseconds since the Unix epoch.
    pub timestamp: i64,
    /// The receipt's canonical JSON.
    pub json: String,
}

impl StoredReceipt {
    /// A receipt as an acknowledgement names it (`lcm infer --server`: the server's answer),
    /// without its time and JSON: what [`crate::pipeline::json_acks`] and
    /// [`crate::pipeline::text_acks`] print.
    #[must_use]
    pub const fn acknowledged(sequence: u64, receipt_id: String, digest: Digest) -> Self {
        Self {
            sequence,
            receipt_id,
            digest,
            timestamp: 0,
            json: String::new(),
        }
    }
}

/// A receipt to append: its stored form and the record it was made from (whose canonical
/// JSON is `stored.json`).
#[derive(Debug, Clone, PartialEq)]
pub struct NewReceipt {
    /// What the store keeps and gives back.
    pub stored: StoredReceipt,
    /// The receipt's record.
    pub record: lcm_model::records::InferenceReceipt,
    /// Whether the chain may hold the record's `request_id` already (`lcm infer
    /// --allow-repeated-request-id`). Every backend refuses the append
    /// ([`Error::RepeatedRequest`], nothing appended) of a receipt that may not, when its
    /// chain or an earlier receipt of the same append holds the id. `false` from
    /// [`NewReceipt::sealed`] and [`NewReceipt::parse`].
    pub may_repeat_request: bool,
}

impl NewReceipt {
    /// A stored receipt with its record parsed from its JSON (for the callers that have only
    /// the stored form).
    ///
    /// # Errors
    ///
    /// [`Error::Json`] when the JSON is not a receipt.
    pub fn parse(stored: StoredReceipt) -> Result<Self, Error> {
        let record = serde_json::from_str(&stored.json)?;
        Ok(Self {
            stored,
            record,
            may_repeat_request: false,
        })
    }

    /// A new receipt from its sealed record and the canonical JSON its digest was computed
    /// over (as [`lcm_managers::ReceiptChain::append_encoded`] gives them).
    pub fn sealed(
        sealed: lcm_model::Sealed<lcm_model::records::InferenceReceipt>,
        json: String,
    ) -> Self {
        let (record, digest) = sealed.into_parts();
        Self {
            stored: StoredReceipt {
                sequence: record.sequence,
                receipt_id: record.receipt_id.clone(),
                digest,
                timestamp: record.timestamp.unix_micros(),
                json,
            },
            record,
            may_repeat_request: false,
        }
    }
}

/// The last receipt of the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainHead {
    /// The last receipt's sequence number.
    pub sequence: u64,
    /// Its digest.
    pub digest: Digest,
}

/// A sealed batch of consecutive receipts.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredBatch {
    /// The window id.
    pub window_id: String,
    /// The first receipt's sequence number.
    pub first_sequence: u64,
    /// The last receipt's sequence number.
    pub last_sequence: u64,
    /// The batch record's digest.
    pub digest: Digest,
    /// The batch record's canonical JSON.
    pub json: String,
}

/// The callback of [`Store::put_records_with`]: the records and evidence to store, made from
/// the store as it is inside the write transaction.
pub type RecordsBuild<'a> =
    dyn FnMut(&dyn Store) -> Result<(Vec<StoredRecord>, Vec<StoredEvidence>), Error> + 'a;

/// What [`Store::close_batch`]'s callback returns: the batch to store with its records, or
/// `None` when there is nothing to seal.
pub type BatchBuild = Result<Option<(StoredBatch, Vec<StoredRecord>)>, Error>;

/// An API token of `lcm serve` as a store keeps it: never the token itself, only its
/// SHA-256, found by the token's id part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredToken {
    /// The token's public id part (what `lcm token list` and `lcm token revoke` name).
    pub id: String,
    /// A name for people (the client it was given to); may be empty.
    pub name: String,
    /// The deployment whose chain the token may append to.
    pub deployment: String,
    /// SHA-256 of the whole token text.
    pub hash: Digest,
    /// When it was created, microseconds since the Unix epoch.
    pub created: i64,
    /// When it was revoked, if it was.
    pub revoked: Option<i64>,
}

/// A client's batch key (`Idempotency-Key`) as recorded in the transaction of the receipts
/// its batch appended: a retry with the same key finds them instead of appending again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchKeyRow {
    /// The client's key.
    pub key: String,
    /// The digest of the batch's body.
    pub body: Digest,
    /// The sequence number of the batch's first receipt.
    pub first_sequence: u64,
    /// How many receipts the batch appended.
    pub count: u64,
}

/// What [`Store::append_keyed`]'s callback returns: the receipts to append after the head
/// and the batch keys to record with them.
pub type KeyedAppend = (Vec<NewReceipt>, Vec<BatchKeyRow>);

/// The callback of [`Store::append_keyed`]: the store as it is inside the write transaction
/// and the chain head, in; the receipts and batch keys to commit together, out.
pub type KeyedBuild<'a> =
    dyn FnMut(&dyn Store, Option<ChainHead>) -> Result<KeyedAppend, Error> + 'a;

/// The callback of [`Store::append_new_receipts`]: the store as it is inside the write
/// transaction and the chain head, in; the receipts to append after the head, out.
pub type NewBuild<'a> =
    dyn FnMut(&dyn Store, Option<ChainHead>) -> Result<Vec<NewReceipt>, Error> + 'a;

/// A statement of the rotation of the store's signing key as a store keeps it: its place in
/// the rotation chain, from 0, and its canonical JSON ([`crate::keys::KeyRotation`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKeyRotation {
    /// Its place in the chain of rotations, from 0.
    pub sequence: u64,
    /// The signed statement's canonical JSON.
    pub json: String,
}

/// What a store of lifecycle records must offer; [`crate::sqlite`] is the embedded one, and a
/// server-backed one, `crate::postgres` (feature `postgres`), implements the same trait.
///
/// Every method that writes is atomic: it commits everything or nothing, and returns only
/// once what it wrote is durable. The trait is object-safe: the rest of the crate works on
/// `&dyn Store`.
pub trait Store: Send {
    /// The version of the schema the store is at (the backend's own numbering).
    fn schema_version(&self) -> i64;

    /// Runs the backend's own consistency check (`PRAGMA integrity_check` for `SQLite`).
    ///
    /// # Errors
    ///
    /// [`Error::Corrupt`] with the backend's first complaint; read failures.
    fn integrity_check(&self) -> Result<(), Error>;

    /// Compares the store's schema — its tables, indexes and the append-only triggers — with
    /// what the backend's migrations create.
    ///
    /// # Errors
    ///
    /// [`Error::Schema`] naming the first object missing, changed or added; read failures.
    fn schema_check(&self) -> Result<(), Error>;

    /// A background checkpointer for a long run of appends (the receipt pipeline), if the
    /// backend has one: the store stops checkpointing itself after each commit, and the
    /// returned value, on its own thread, does it instead.
    ///
    /// # Errors
    ///
    /// The backend's failures.
    fn checkpointer(&mut self) -> Result<Option<Box<dyn Checkpoint>>, Error>;

    /// Prepares this connection for a bulk run of appends in large transactions (`lcm
    /// infer`): a backend with a client-side page cache enlarges it, to a fixed size, so that
    /// a transaction's pages are written once at its commit. The memory this takes is bounded
    /// whatever the number of receipts. The default does nothing.
    ///
    /// # Errors
    ///
    /// The backend's failures.
    fn bulk_appends(&mut self) -> Result<(), Error> {
        Ok(())
    }

    /// The record of `kind` whose digest is `digest` (the first by id if several share it).
    ///
    /// # Errors
    ///
    /// Read failures.
    fn record_by_digest(&self, kind: &str, digest: &Digest) -> Result<Option<StoredRecord>, Error>;

    /// The policy the store's records are made under.
    ///
    /// # Errors
    ///
    /// Read or decoding failures.
    fn policy(&self) -> Result<Policy, Error>;

    /// The deployments that have a receipt chain, in the order their chains were opened.
    ///
    /// # Errors
    ///
    /// Read failures.
    fn chains(&self) -> Result<Vec<String>, Error>;

    /// The secret seed of the receipt commitments of `deployment`'s chain, opening the chain
    /// (with a fresh random seed) if it has none yet. Each chain has its own seed, so no two
    /// chains ever share an opening.
    ///
    /// # Errors
    ///
    /// Read or write failures, a stored seed of the wrong length, randomness failures.
    fn open_chain(&mut self, deployment: &str) -> Result<lcm_crypto::Seed, Error>;

    /// The seed of `deployment`'s chain, if it has one.
    ///
    /// # Errors
    ///
    /// Read failures, or a stored seed of the wrong length.
    fn chain_seed(&self, deployment: &str) -> Result<Option<lcm_crypto::Seed>, Error>;

    /// Stores records and their evidence, all or none.
    ///
    /// # Errors
    ///
    /// [`Error::Duplicate`] when a record or evidence with the same kind and id exists
    /// (nothing is written); write failures.
    fn put_records(
        &mut self,
        records: &[StoredRecord],
        evidence: &[StoredEvidence],
    ) -> Result<(), Error>;

    /// Stores the records and evidence that `build` makes from what the store holds, all or
    /// none: `build` is called once inside one write transaction (holding the write lock),
    /// so nothing another process writes can come between what it read and what it
    /// returns. Returns the stored records.
    ///
    /// # Errors
    ///
    /// the callback's error; [`Error::Duplicate`]; write failures.
    /// In every error case nothing is written.
    fn put_records_with(
        &mut self,
        build: &mut RecordsBuild<'_>,
    ) -> Result<Vec<StoredRecord>, Error>;

    /// Every piece of evidence, or every one of a kind, ordered by kind and id.
    ///
    /// # Errors
    ///
    /// Read failures.
    fn evidence(&self, kind: Option<&str>) -> Result<Vec<StoredEvidence>, Error>;

    /// The evidence of `kind` kept for the record `id`.
    ///
    /// # Errors
    ///
    /// Read failures.
    fn evidence_of(&self, kind: &str, id: &str) -> Result<Option<StoredEvidence>, Error>;

    /// The record of `kind` with this id.
    ///
    /// # Errors
    ///
    /// Read failures.
    fn record(&self, kind: &str, id: &str) -> Result<Option<StoredRecord>, Error>;

    /// Every record, or every record of one kind, ordered by kind and id.
    ///
    /// # Errors
    ///
    /// Read failures.
    fn records(&self, kind: Option<&str>) -> Result<Vec<StoredRecord>, Error>;

    /// Appends receipts after the head of `deployment`'s chain, in one transaction.
    ///
    /// `build` is called once, inside the transaction (holding the write lock), with the
    /// current head; it returns the receipts to append. They are committed together, and
    /// this returns them only once they are durable.
    ///
    /// In the same transaction the backend appends their leaves to the chain's transparency
    /// log ([`crate::log`]): a [`crate::log::TileWriter`] resumed from the stored edge tiles,
    /// whose tiles it stores and whose size becomes [`Store::log_size`]. So every
    /// acknowledged receipt is in the log, and a backend that refuses the log's writes
    /// appends nothing.
    ///
    /// # Errors
    ///
    /// [`Error::NoChain`] when the chain was never opened ([`Store::open_chain`]);
    /// [`Error::ChainFull`]; the callback's error,
    /// [`Error::Duplicate`] for a receipt id already in the chain; [`Error::RepeatedRequest`]
    /// for a request id already in the chain or the append, of a receipt that may not repeat
    /// it ([`NewReceipt::may_repeat_request`]; a backend keeps this rule in the database
    /// itself, the `SQLite` and `PostgreSQL` ones by a unique index); [`Error::Corrupt`] when the
    /// chain's log does not have the chain's length; write failures. In every error case
    /// nothing is appended.
    fn append_receipts(
        &mut self,
        deployment: &str,
        build: &mut dyn FnMut(Option<ChainHead>) -> Result<Vec<StoredReceipt>, Error>,
    ) -> Result<Vec<StoredReceipt>, Error>;

    /// As [`Store::append_receipts`], with each receipt's record beside its stored form
    /// ([`NewReceipt`]), so that a backend which keeps the record's fields need not parse the
    /// JSON back (the `SQLite` backend's lean row), and with the store as it is inside the
    /// write transaction given to `build` beside the head: what `build` reads through it
    /// (the request ids the chain holds, [`crate::pipeline::refuse_repeats`]) no other writer
    /// can change before the commit. The default is [`Store::append_keyed`] with no batch key.
    ///
    /// # Errors
    ///
    /// As [`Store::append_receipts`].
    fn append_new_receipts(
        &mut self,
        deployment: &str,
        build: &mut NewBuild<'_>,
    ) -> Result<Vec<StoredReceipt>, Error> {
        self.append_keyed(deployment, &mut |store, head| {
            Ok((build(store, head)?, Vec::new()))
        })
    }

    /// The head of `deployment`'s chain (`None` when it has no receipt).
    ///
    /// # Errors
    ///
    /// Read failures.
    fn head(&self, deployment: &str) -> Result<Option<ChainHead>, Error>;

    /// The first of `request_ids` that a receipt of `deployment`'s chain holds already.
    ///
    /// # Errors
    ///
    /// Read failures.
    fn known_request(
        &self,
        deployment: &str,
        request_ids: &[&str],
    ) -> Result<Option<String>, Error>;

    /// Calls `visit` for every receipt of `deployment`'s chain with a sequence number in
    /// `from..=to` (all from `from` when `to` is `None`), in chain order.
    ///
    /// # Errors
    ///
    /// Read failures, and the first error `visit` returns.
    fn scan_receipts(
        &self,
        deployment: &str,
        from: u64,
        to: Option<u64>,
        visit: &mut dyn FnMut(StoredReceipt) -> Result<(), Error>,
    ) -> Result<(), Error>;

    /// The sequence numbers of `deployment`'s receipts made for `request_id`, in chain order
    /// (more than one only when repeated request ids were allowed); an indexed lookup.
    ///
    /// # Errors
    ///
    /// Read failures.
    fn request_sequences(&self, deployment: &str, request_id: &str) -> Result<Vec<u64>, Error>;

    /// The first and last sequence numbers of `deployment`'s receipts whose timestamp
    /// (microseconds since the Unix epoch) lies in `since..=until`, through the index on
    /// timestamps (`None` when none does). Timestamps need not grow with the sequence, so
    /// receipts between the two may lie outside the range ([`crate::find`] filters them).
    ///
    /// # Errors
    ///
    /// Read failures.
    fn time_span(
        &self,
        deployment: &str,
        since: i64,
        until: i64,
    ) -> Result<Option<(u64, u64)>, Error>;

    /// The receipt of `deployment`'s chain with this id.
    ///
    /// # Errors
    ///
    /// Read failures.
    fn receipt(&self, deployment: &str, receipt_id: &str) -> Result<Option<StoredReceipt>, Error>;

    /// Seals the next batch of `deployment`'s chain: calls `build` inside one write
    /// transaction with the first sequence number not yet in a batch, and stores the batch
    /// (and the records) it returns, if any.
    ///
    /// # Errors
    ///
    /// [`Error::NoChain`]; the callback's error; write failures.
    fn close_batch(
        &mut self,
        deployment: &str,
        build: &mut dyn FnMut(&dyn Store, u64) -> BatchBuild,
    ) -> Result<Option<StoredBatch>, Error>;

    /// Every batch of `deployment`'s chain, in chain order.
    ///
    /// # Errors
    ///
    /// Read failures.
    fn batches(&self, deployment: &str) -> Result<Vec<StoredBatch>, Error>;

    /// The number of leaves in the transparency log of `deployment`'s chain: its receipt
    /// count, as every append writes the log in the same transaction ([`crate::log`]); 0 for
    /// a deployment without a chain.
    ///
    /// # Errors
    ///
    /// Read failures.
    fn log_size(&self, deployment: &str) -> Result<u64, Error>;

    /// The hashes of `tile` of `deployment`'s log: exactly `tile.width()` hashes (the first of
    /// a stored tile that has grown since).
    ///
    /// # Errors
    ///
    /// [`Error::Corrupt`] when the store has no such tile or a shorter one; read failures.
    fn log_tile(&self, deployment: &str, tile: lcm_tlog::tiles::Tile)
    -> Result<Vec<Digest>, Error>;

    /// The statements of the rotations of the store's signing key, in sequence order
    /// ([`crate::keys`] checks them).
    ///
    /// # Errors
    ///
    /// Read failures.
    fn key_rotations(&self) -> Result<Vec<StoredKeyRotation>, Error>;

    /// Appends a key rotation statement (append-only: a stored one is never changed).
    ///
    /// # Errors
    ///
    /// [`Error::Duplicate`] (kind `key rotation`) when its sequence is stored already (a
    /// rotation made at the same time by another writer); write failures.
    fn put_key_rotation(&mut self, rotation: &StoredKeyRotation) -> Result<(), Error>;

    // ---------------------------------------------------------------------------------------
    // The service's section (`lcm serve`, crate `lcm-server`): API tokens and idempotent
    // batches. A backend implements these with its own tables; nothing else in this crate
    // calls them, except that `append_new_receipts`' default is `append_keyed` with no key.
    // ---------------------------------------------------------------------------------------

    /// Stores a new API token (its hash, never the token).
    ///
    /// # Errors
    ///
    /// [`Error::Duplicate`] (kind `token`) when the id exists; write failures.
    fn put_token(&mut self, token: &StoredToken) -> Result<(), Error>;

    /// The token with this id part, revoked or not.
    ///
    /// # Errors
    ///
    /// Read failures; [`Error::Corrupt`] for a stored hash of the wrong length.
    fn token(&self, id: &str) -> Result<Option<StoredToken>, Error>;

    /// Every token, ordered by creation time then id.
    ///
    /// # Errors
    ///
    /// As [`Store::token`].
    fn tokens(&self) -> Result<Vec<StoredToken>, Error>;

    /// Revokes the token `id` at time `at` (microseconds since the Unix epoch); a token
    /// revoked already keeps its first revocation time. Returns whether the token exists.
    ///
    /// # Errors
    ///
    /// Write failures.
    fn revoke_token(&mut self, id: &str, at: i64) -> Result<bool, Error>;

    /// The batch key `key` recorded on `deployment`'s chain, if any.
    ///
    /// # Errors
    ///
    /// Read failures.
    fn batch_key(&self, deployment: &str, key: &str) -> Result<Option<BatchKeyRow>, Error>;

    /// [`Store::append_receipts`] for a service's group commit: `build` gets the store as it
    /// is inside the write transaction (to look up batch keys and request ids another
    /// process may have written) and the head, and returns the receipts to append and the
    /// batch keys to record; both are committed together, with the log, or neither is. A
    /// backend calls `build` once per call (callers hand it receipts they made ahead).
    ///
    /// # Errors
    ///
    /// As [`Store::append_receipts`]; [`Error::Duplicate`] (kind `batch key`) for a key the
    /// chain holds already. In every error case nothing is written.
    fn append_keyed(
        &mut self,
        deployment: &str,
        build: &mut KeyedBuild<'_>,
    ) -> Result<Vec<StoredReceipt>, Error>;
}
