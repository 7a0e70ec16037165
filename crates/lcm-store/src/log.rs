//! The transparency log of each receipt chain: an append-only RFC 9162 tree whose hashes are
//! kept as c2sp.org/tlog-tiles tiles in the store, so that its root at any size and its
//! inclusion and consistency proofs are read from `O(log n)` stored hashes and never rebuilt.
//!
//! # Leaves
//!
//! Leaf `i` of a chain's log is the RFC 9162 leaf hash `SHA-256(0x00 || digest)` of the
//! chain's receipt `i`: the leaf that [`lcm_capsule::MerkleLog`] and the capsule header's
//! `receipts_root` use, so under a SHA-256 policy (the default) the log's root at size `n` is
//! the `receipts_root` of a header over the first `n` receipts. The log always hashes with
//! SHA-256, as C2SP requires, whatever the store's policy.
//!
//! # Writing
//!
//! A backend appends to the log in the same write transaction as the receipts
//! ([`Store::append_receipts`]), through a [`TileWriter`]: it reads the partial tiles at the
//! right edge (at most one per tile level), pushes the new leaf hashes, and writes every tile
//! that filled plus the new edge. Work and memory per append are the new leaves plus
//! `O(log n)`: at most 256 hashes per tile level are held. A receipt is acknowledged only
//! once that transaction committed, so every acknowledged receipt is in the log.
//!
//! # Reading
//!
//! [`Log`] reads tiles through [`Store::log_tile`] with lcm-tlog's [`TileReader`]: a root,
//! a proof or one hash costs a handful of tile reads (about two per tile level).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use lcm_capsule::ItemLog;
use lcm_crypto::merkle::{self, InclusionProof, MerkleRoot};
use lcm_crypto::{Digest, HashAlgorithm};
use lcm_tlog::tiles::{self, TILE_WIDTH, Tile, TileReader};

use crate::{Error, Store};

/// The hash algorithm of every log: C2SP logs are SHA-256 trees.
pub const LOG_ALGORITHM: HashAlgorithm = HashAlgorithm::Sha256;

/// The log leaf of a receipt: the RFC 9162 leaf hash of its digest, `SHA-256(0x00 || digest)`.
pub fn leaf_hash(receipt_digest: &Digest) -> Digest {
    merkle::leaf_hash(LOG_ALGORITHM, receipt_digest.as_bytes())
}

/// The hashes of a stored tile's bytes (32 each; a partial tile may have grown past the
/// width asked for), as every backend keeps them.
///
/// # Errors
///
/// [`Error::Corrupt`] when the length is not a multiple of 32.
pub(crate) fn tile_hashes(bytes: &[u8]) -> Result<Vec<Digest>, Error> {
    bytes
        .chunks(32)
        .map(|b| {
            Digest::try_from_slice(b).map_err(|_| Error::Corrupt {
                what: format!("a log tile of {} bytes, not whole hashes", bytes.len()),
            })
        })
        .collect()
}

/// Exactly `tile.width()` of the `stored` hashes of `tile` of chain `chain` (`None`: no such
/// tile): what [`Store::log_tile`] answers, whatever the backend.
///
/// # Errors
///
/// [`Error::Corrupt`] when the store holds fewer hashes than the tile's width.
pub(crate) fn tile_of_width(
    stored: Option<Vec<Digest>>,
    chain: i64,
    tile: Tile,
) -> Result<Vec<Digest>, Error> {
    let mut hashes = stored.unwrap_or_default();
    let width = usize::from(tile.width());
    if hashes.len() < width {
        return Err(Error::Corrupt {
            what: format!(
                "log tile {tile} of chain {chain} holds {} hashes, expected at least {width}",
                hashes.len()
            ),
        });
    }
    hashes.truncate(width);
    Ok(hashes)
}

/// Where a [`TileWriter`] hands the tiles to store: a tile and its hashes.
pub type WriteTile<'a> = dyn FnMut(Tile, &[Digest]) -> Result<(), Error> + 'a;

/// Appends leaf hashes to a log kept as tiles, holding only the right edge: the hashes of
/// the partial tile of each tile level (at most 255 each).
///
/// [`TileWriter::push`] hands every tile that fills to `write` at once (so a migration that
/// streams millions of receipts holds `O(log n)` hashes), and [`TileWriter::finish`] hands
/// over the partial tiles that changed. A backend stores each tile under its level and index,
/// replacing the shorter partial tile it held there: a tile only ever grows.
#[derive(Debug, Clone)]
pub struct TileWriter {
    size: u64,
    /// `edges[l]`: the hashes of the partial tile at tile level `l`.
    edges: Vec<Vec<Digest>>,
    /// `dirty[l]`: whether `edges[l]` changed since it was read.
    dirty: Vec<bool>,
}

impl TileWriter {
    /// A writer after the `size` leaves of a log whose partial tiles `read_tile` returns
    /// (called once per tile level that has a partial tile; it may return more hashes than the
    /// tile's width, and the first `width` are used).
    ///
    /// # Errors
    ///
    /// [`Error::Corrupt`] when a stored tile has fewer hashes than `size` implies; whatever
    /// `read_tile` returns.
    pub fn resume(
        size: u64,
        read_tile: &mut dyn FnMut(Tile) -> Result<Option<Vec<Digest>>, Error>,
    ) -> Result<Self, Error> {
        let mut edges = Vec::new();
        for level in Tile::levels(size) {
            let edge = match Tile::partial(level, size) {
                Some(tile) => {
                    let mut hashes = read_tile(tile)?.unwrap_or_default();
                    let width = usize::from(tile.width());
                    if hashes.len() < width {
                        return Err(Error::Corrupt {
                            what: format!(
                                "log tile {tile} holds {} hashes, the log of {size} leaves needs {width}",
                                hashes.len()
                            ),
                        });
                    }
                    hashes.truncate(width);
                    hashes
                }
                None => Vec::new(),
            };
            edges.push(edge);
        }
        let dirty = vec![false; edges.len()];
        Ok(Self { size, edges, dirty })
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The number of hashes held: at most 255 per tile level, so at most 255 times
    /// `ceil(log256(size + 1))` — about 2,000 hashes (64 KiB) for any log of up to 2^64
    /// leaves, however many leaves are pushed.
    pub fn held(&self) -> usize {
        self.edges.iter().map(Vec::len).sum()
    }

    /// Appends one leaf hash; every tile it fills goes to `write` (level 0 first, then the
    /// levels above that the filled tile completes).
    ///
    /// # Errors
    ///
    /// Whatever `write` returns.
    pub fn push(&mut self, leaf: Digest, write: &mut WriteTile<'_>) -> Result<(), Error> {
        self.size = self.size.checked_add(1).ok_or(Error::SequenceExhausted)?;
        let mut hash = leaf;
        let mut level = 0usize;
        loop {
            if self.edges.len() <= level {
                self.edges.push(Vec::new());
                self.dirty.push(false);
            }
            self.edges[level].push(hash);
            self.dirty[level] = true;
            if self.edges[level].len() < usize::from(TILE_WIDTH) {
                return Ok(());
            }
            // The tile at `level` is full: write it, and its subtree root is the next hash
            // one tile level up.
            let tile_level = u8::try_from(level).map_err(|_| Error::SequenceExhausted)?;
            let count = self
                .size
                .checked_shr(u32::from(tile_level) * u32::from(tiles::TILE_HEIGHT))
                .unwrap_or(0);
            let index = count / u64::from(TILE_WIDTH) - 1;
            let tile = Tile::new(tile_level, index, TILE_WIDTH)?;
            write(tile, &self.edges[level])?;
            hash = tiles::subtree_root(&self.edges[level])?;
            self.edges[level].clear();
            self.dirty[level] = false;
            level += 1;
        }
    }

    /// Hands every partial tile that changed to `write`, and returns the log's size.
    ///
    /// # Errors
    ///
    /// Whatever `write` returns.
    pub fn finish(self, write: &mut WriteTile<'_>) -> Result<u64, Error> {
        for (level, (edge, dirty)) in self.edges.iter().zip(&self.dirty).enumerate() {
            if !dirty || edge.is_empty() {
                continue;
            }
            let level = u8::try_from(level).map_err(|_| Error::SequenceExhausted)?;
            let width = u16::try_from(edge.len()).map_err(|_| Error::SequenceExhausted)?;
            let tile = Tile::new(level, Tile::full_count(level, self.size), width)?;
            write(tile, edge)?;
        }
        Ok(self.size)
    }
}

/// How a [`Log`]'s tile reader reads a tile from the store.
type ReadTile<'l> = Box<dyn FnMut(Tile) -> Result<Vec<Digest>, Error> + 'l>;

/// Inclusion proofs of many leaves of one log at one size ([`Log::prover`]), for leaves taken
/// in increasing order (a range of receipts): the tiles one proof reads, and the tree hashes
/// it computes from them, are kept for the next while the leaves stay in one level-0 tile (256
/// leaves), then dropped. So `k` consecutive leaves cost `O(k / 256 + 1)` times a proof's
/// `O(log n)` tile reads, the hashes above a level-0 tile are computed once per 256 leaves
/// rather than for every proof, and memory holds one tile run's tiles and hashes (a few hundred
/// digests), whatever `k`.
pub struct Prover<'l> {
    log: &'l Log<'l>,
    size: u64,
    /// The level-0 tile of the last leaf proved, the reader holding its proofs' tiles, and the
    /// tree hashes (by level and index) those proofs used.
    reader: Option<(u64, TileReader<ReadTile<'l>>, TreeHashes)>,
}

/// Tree hashes by level and index.
type TreeHashes = HashMap<(u8, u64), Digest>;

impl std::fmt::Debug for Prover<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prover")
            .field("log", self.log)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl Prover<'_> {
    /// How many tree hashes it holds (those of the current run of leaves in one level-0
    /// tile): bounded by a few per tree level per leaf of the run, whatever the number of
    /// leaves proved.
    pub fn held(&self) -> usize {
        self.reader
            .as_ref()
            .map_or(0, |(_, _, hashes)| hashes.len())
    }

    /// The inclusion proof of leaf `index`.
    ///
    /// # Errors
    ///
    /// An index not below the size; read failures.
    pub fn proof(&mut self, index: u64) -> Result<InclusionProof, Error> {
        let block = index / u64::from(TILE_WIDTH);
        let (_, reader, hashes) = match &mut self.reader {
            Some(r) if r.0 == block => r,
            other => other.insert((block, self.log.reader(self.size), HashMap::new())),
        };
        let path = tiles::inclusion_proof(index, self.size, |l, i| -> Result<Digest, Error> {
            if let Some(h) = hashes.get(&(l, i)) {
                return Ok(*h);
            }
            let h = reader.read_hash::<Error>(l, i)?;
            hashes.insert((l, i), h);
            Ok(h)
        })?;
        Ok(InclusionProof::new(index, self.size, path)?)
    }
}

/// One chain's log as a store holds it, read at a fixed size.
pub struct Log<'a> {
    store: &'a dyn Store,
    deployment: String,
    size: u64,
    /// The tiles read so far (by roots, leaves and proofs; not by [`Log::tile`]).
    tiles_read: AtomicU64,
}

impl std::fmt::Debug for Log<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Log")
            .field("deployment", &self.deployment)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl<'a> Log<'a> {
    /// The log of `deployment`'s chain at its current size.
    ///
    /// # Errors
    ///
    /// Read failures.
    pub fn open(store: &'a dyn Store, deployment: &str) -> Result<Self, Error> {
        let size = store.log_size(deployment)?;
        Ok(Self {
            store,
            deployment: deployment.to_owned(),
            size,
            tiles_read: AtomicU64::new(0),
        })
    }

    /// How many tiles its roots, leaves and proofs have read from the store so far: what a
    /// caller's cost in reads is, for tests and figures.
    pub fn tiles_read(&self) -> u64 {
        self.tiles_read.load(Ordering::Relaxed)
    }

    /// The number of leaves (receipts) in the log.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The deployment whose chain this is.
    pub fn deployment(&self) -> &str {
        &self.deployment
    }

    fn reader(&self, size: u64) -> TileReader<ReadTile<'_>> {
        let (store, read) = (self.store, &self.tiles_read);
        let deployment = self.deployment.clone();
        TileReader::new(
            size,
            Box::new(move |tile: Tile| {
                read.fetch_add(1, Ordering::Relaxed);
                store.log_tile(&deployment, tile)
            }),
        )
    }

    /// A [`Prover`] of inclusion proofs in the log at `size` leaves (at most its size).
    ///
    /// # Errors
    ///
    /// [`Error::LogTooSmall`].
    pub fn prover(&self, size: u64) -> Result<Prover<'_>, Error> {
        self.check_size(size)?;
        Ok(Prover {
            log: self,
            size,
            reader: None,
        })
    }

    fn check_size(&self, size: u64) -> Result<(), Error> {
        if size > self.size {
            return Err(Error::LogTooSmall {
                deployment: self.deployment.clone(),
                size: self.size,
                asked: size,
            });
        }
        Ok(())
    }

    /// The root of the log at `size` leaves (at most its size).
    ///
    /// # Errors
    ///
    /// [`Error::LogTooSmall`]; read failures; [`Error::Corrupt`] for a short tile.
    pub fn root_at(&self, size: u64) -> Result<MerkleRoot, Error> {
        self.check_size(size)?;
        let mut reader = self.reader(size);
        let digest = tiles::root(size, |l, i| reader.read_hash::<Error>(l, i))?;
        Ok(MerkleRoot::new(LOG_ALGORITHM, digest, size))
    }

    /// The root of the log at its current size.
    ///
    /// # Errors
    ///
    /// As [`Log::root_at`].
    pub fn root(&self) -> Result<MerkleRoot, Error> {
        self.root_at(self.size)
    }

    /// The leaf hash at `index`, read from its level-0 tile.
    ///
    /// # Errors
    ///
    /// [`Error::LogTooSmall`] for an index past the end; read failures.
    pub fn leaf(&self, index: u64) -> Result<Digest, Error> {
        self.check_size(index.saturating_add(1))?;
        self.reader(self.size).read_hash(0, index)
    }

    /// The inclusion proof of leaf `index` in the log at `size` leaves.
    ///
    /// # Errors
    ///
    /// [`Error::LogTooSmall`]; an index not below `size`; read failures.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<InclusionProof, Error> {
        self.check_size(size)?;
        let mut reader = self.reader(size);
        let path = tiles::inclusion_proof(index, size, |l, i| reader.read_hash::<Error>(l, i))?;
        Ok(InclusionProof::new(index, size, path)?)
    }

    /// The consistency proof from the log at `old_size` leaves to the log at `new_size`
    /// (empty when the sizes are equal).
    ///
    /// # Errors
    ///
    /// [`Error::LogTooSmall`]; sizes not `0 < old_size <= new_size`; read failures.
    pub fn consistency_proof(&self, old_size: u64, new_size: u64) -> Result<Vec<Digest>, Error> {
        self.check_size(new_size)?;
        if old_size == new_size && old_size > 0 {
            return Ok(Vec::new());
        }
        let mut reader = self.reader(new_size);
        tiles::consistency_proof(old_size, new_size, |l, i| reader.read_hash::<Error>(l, i))
    }

    /// The tile `tile` of the log at its current size (a partial tile gives the first `width`
    /// hashes of the stored one).
    ///
    /// # Errors
    ///
    /// Read failures; [`Error::Corrupt`] for a short or missing tile.
    pub fn tile(&self, tile: Tile) -> Result<Vec<Digest>, Error> {
        self.store.log_tile(&self.deployment, tile)
    }
}

/// A chain's receipt log as headers and capsules read it ([`ItemLog`]), from the stored
/// tiles: opening it reads the root (about two tiles per tile level) and the chain's head;
/// an item's digest is one indexed receipt read, checked against the log's leaf; a proof is
/// `O(log n)` stored hashes. Nothing is held per receipt, so `lcm header` and
/// `lcm materialize` cost the same at 10^7 receipts as at 10^3.
///
/// The tiles are SHA-256 (C2SP), so this is the receipt log of a store whose policy hashes
/// with SHA-256; `crate::export::chain_log` picks an in-memory log for any other policy.
pub struct ChainLog<'a> {
    log: Log<'a>,
    root: Digest,
    head: Option<Digest>,
}

impl std::fmt::Debug for ChainLog<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainLog")
            .field("log", &self.log)
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

impl<'a> ChainLog<'a> {
    /// The log of `deployment`'s chain at its current length.
    ///
    /// # Errors
    ///
    /// [`Error::Corrupt`] when the log's size is not the chain's length, or a tile is short;
    /// read failures.
    pub fn open(store: &'a dyn Store, deployment: &str) -> Result<Self, Error> {
        let log = Log::open(store, deployment)?;
        let head = store.head(deployment)?;
        let chain = head.map_or(0, |h| h.sequence.saturating_add(1));
        if chain != log.size() {
            return Err(Error::Corrupt {
                what: format!(
                    "the log of deployment {deployment} has {} leaves, its chain {chain} receipts",
                    log.size()
                ),
            });
        }
        let root = if log.size() == 0 {
            merkle::empty_root(LOG_ALGORITHM)
        } else {
            *log.root()?.digest()
        };
        Ok(Self {
            log,
            root,
            head: head.map(|h| h.digest),
        })
    }

    fn item(&self, index: u64) -> Result<Option<Digest>, Error> {
        if index >= self.log.size() {
            return Ok(None);
        }
        let mut found = None;
        self.log
            .store
            .scan_receipts(&self.log.deployment, index, Some(index), &mut |r| {
                found = Some(r.digest);
                Ok(())
            })?;
        let Some(digest) = found else {
            return Err(Error::Corrupt {
                what: format!(
                    "deployment {}'s chain has no receipt {index} below its length",
                    self.log.deployment
                ),
            });
        };
        if self.log.leaf(index)? != leaf_hash(&digest) {
            return Err(Error::Corrupt {
                what: format!(
                    "log leaf {index} of deployment {} is not the hash of its receipt",
                    self.log.deployment
                ),
            });
        }
        Ok(Some(digest))
    }
}

fn read_error(what: &'static str, e: &Error) -> lcm_capsule::Error {
    lcm_capsule::Error::Read {
        what,
        message: e.to_string(),
    }
}

impl ItemLog for ChainLog<'_> {
    fn algorithm(&self) -> HashAlgorithm {
        LOG_ALGORITHM
    }

    fn size(&self) -> u64 {
        self.log.size()
    }

    fn tree_root(&self) -> Digest {
        self.root
    }

    fn last_digest(&self) -> Option<Digest> {
        self.head
    }

    fn item_digest(&self, index: u64) -> Result<Option<Digest>, lcm_capsule::Error> {
        self.item(index).map_err(|e| read_error("a receipt", &e))
    }

    fn inclusion_proof(&self, index: u64, size: u64) -> Result<InclusionProof, lcm_capsule::Error> {
        if size > self.log.size() || index >= size {
            return Err(lcm_capsule::Error::Materialize {
                what: "item index",
                expected: format!("an index below {size} in a log of {}", self.log.size()),
                actual: index.to_string(),
            });
        }
        self.log
            .inclusion_proof(index, size)
            .map_err(|e| read_error("an inclusion proof", &e))
    }
}

/// Recomputes `deployment`'s log from its receipts and compares every stored tile with the
/// recomputed one, and the log's size with the chain's length: the log's own integrity check,
/// `O(n)` time and `O(log n)` memory (receipts are streamed, and only the tile edge is held).
/// Returns the log's size.
///
/// # Errors
///
/// [`Error::Corrupt`] naming the first tile that differs (or is missing), or a size that is not
/// the chain's; read failures.
pub fn audit(store: &dyn Store, deployment: &str) -> Result<u64, Error> {
    let size = store.log_size(deployment)?;
    let chain = store
        .head(deployment)?
        .map_or(0, |h| h.sequence.saturating_add(1));
    if size != chain {
        return Err(Error::Corrupt {
            what: format!(
                "the log of deployment {deployment} has {size} leaves, its chain {chain} receipts"
            ),
        });
    }
    let mut compare = |tile: Tile, hashes: &[Digest]| -> Result<(), Error> {
        let stored = store.log_tile(deployment, tile)?;
        match stored.iter().zip(hashes).position(|(a, b)| a != b) {
            None => Ok(()),
            Some(i) => Err(Error::Corrupt {
                what: format!(
                    "log tile {tile} of deployment {deployment}: hash {i} is not the one its receipts give"
                ),
            }),
        }
    };
    let mut writer = TileWriter::resume(0, &mut |_| Ok(None))?;
    if size > 0 {
        store.scan_receipts(deployment, 0, Some(size - 1), &mut |r| {
            writer.push(leaf_hash(&r.digest), &mut compare)
        })?;
    }
    writer.finish(&mut compare)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use lcm_crypto::merkle::MerkleTree;

    use super::*;

    #[test]
    fn stored_tiles_decode_whole_hashes_and_answer_exactly_their_width() {
        let hashes: Vec<Digest> = (0..4u8).map(|i| Digest::from_bytes([i; 32])).collect();
        let bytes: Vec<u8> = hashes.iter().flat_map(|h| *h.as_bytes()).collect();
        assert_eq!(tile_hashes(&bytes).unwrap(), hashes);
        // A byte short or long: not whole hashes.
        for len in [bytes.len() - 1, bytes.len() + 1] {
            let mut b = bytes.clone();
            b.resize(len, 0);
            assert!(matches!(tile_hashes(&b), Err(Error::Corrupt { .. })));
        }
        // A tile that grew past the width asked for gives the first `width` hashes.
        let tile = Tile::new(0, 0, 3).unwrap();
        assert_eq!(
            tile_of_width(Some(hashes.clone()), 1, tile).unwrap(),
            hashes[..3]
        );
        // Fewer hashes than the width, or no tile: refused.
        let wide = Tile::new(0, 0, 5).unwrap();
        assert!(matches!(
            tile_of_width(Some(hashes), 1, wide),
            Err(Error::Corrupt { .. })
        ));
        assert!(matches!(
            tile_of_width(None, 1, tile),
            Err(Error::Corrupt { .. })
        ));
    }

    /// Builds the tiles of `n` leaves in appends of `step`, as a backend would.
    type Tiles = BTreeMap<(u8, u64), Vec<Digest>>;

    fn build(n: u64, step: u64) -> (Tiles, Vec<Digest>) {
        let mut stored = Tiles::new();
        let leaves: Vec<Digest> = (0..n)
            .map(|i| leaf_hash(&Digest::from_bytes([u8::try_from(i % 251).unwrap(); 32])))
            .collect();
        let mut size = 0u64;
        while size < n {
            let end = (size + step).min(n);
            let mut writer = TileWriter::resume(size, &mut |t: Tile| {
                Ok(stored.get(&(t.level(), t.index())).cloned())
            })
            .unwrap();
            let mut writes = Vec::new();
            let mut write = |t: Tile, h: &[Digest]| {
                writes.push((t, h.to_vec()));
                Ok(())
            };
            for leaf in &leaves[usize::try_from(size).unwrap()..usize::try_from(end).unwrap()] {
                writer.push(*leaf, &mut write).unwrap();
            }
            assert_eq!(writer.finish(&mut write).unwrap(), end);
            for (t, h) in writes {
                let old = stored.entry((t.level(), t.index())).or_default();
                assert!(h.starts_with(old), "tile {t} shrank or changed");
                assert_eq!(h.len(), usize::from(t.width()));
                *old = h;
            }
            size = end;
        }
        (stored, leaves)
    }

    /// Memory does not grow with the leaves pushed: only the right edge is held.
    #[test]
    fn a_writer_holds_at_most_255_hashes_per_level() {
        let mut writer = TileWriter::resume(0, &mut |_| Ok(None)).unwrap();
        let mut written = 0u64;
        let mut most = 0;
        for i in 0..(1u64 << 17) + 77 {
            let leaf = Digest::from_bytes([u8::try_from(i % 256).unwrap(); 32]);
            writer
                .push(leaf, &mut |_, _| {
                    written += 1;
                    Ok(())
                })
                .unwrap();
            most = most.max(writer.held());
        }
        // 2^17 + 77 leaves: 512 full level-0 tiles, 2 full level-1 tiles, edges of 77, 0, 2.
        assert_eq!(written, 512 + 2);
        assert_eq!(writer.held(), 77 + 2);
        assert!(most <= 255 * 3, "{most}");
    }

    #[test]
    fn appends_of_any_length_write_tiles_that_give_the_root() {
        for (n, step) in [
            (1, 1),
            (255, 7),
            (256, 256),
            (257, 100),
            (70_000, 9_999),
            (65_537, 65_537),
        ] {
            let (stored, leaves) = build(n, step);
            let tree = MerkleTree::from_leaf_hashes_with(LOG_ALGORITHM, leaves.clone());
            let mut reader = TileReader::new(n, |t: Tile| -> Result<_, Error> {
                let h = &stored[&(t.level(), t.index())];
                Ok(h[..usize::from(t.width())].to_vec())
            });
            let root = tiles::root(n, |l, i| reader.read_hash::<Error>(l, i)).unwrap();
            assert_eq!(root, tree.root(), "n={n}");
        }
    }
}
