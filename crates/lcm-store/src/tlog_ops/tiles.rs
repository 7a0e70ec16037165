//! A log as a c2sp.org/tlog-tiles directory: exporting it from a store, and verifying a
//! directory (every tile against the level below, the entries against level 0, the root
//! against the signed checkpoint, optionally consistency with an older checkpoint and one
//! entry's inclusion). Memory is one tile and one entry bundle at a time, whatever the size.

use std::path::Path;

use lcm_crypto::Digest;
use lcm_crypto::merkle::verify_inclusion;
use lcm_tlog::consistency::Consistency;
use lcm_tlog::note::SignerKey;
use lcm_tlog::tiles::{self, Tile, TileReader};
use lcm_tlog::{Policy, SignedCheckpoint};

use super::{
    OpsError, classify_or_fail, divergence, fail, invalid, parse_digest, parse_vkey,
    read_checkpoint, sign_checkpoint, verify_failed,
};
use crate::Store;
use crate::files::{io_err, read_file};
use crate::log::{LOG_ALGORITHM, Log, leaf_hash};

/// What [`export_tiles`] wrote.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct TilesExported {
    /// The log's size.
    pub size: u64,
    /// The tiles written (every level).
    pub tiles: u64,
    /// The entry bundles written.
    pub bundles: u64,
}

/// What [`check_log`] found: a log whose every tile is the one recomputed from the receipts.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LogChecked {
    /// The deployment whose chain's log it is.
    pub deployment: String,
    /// The log's size (the chain's length).
    pub size: u64,
    /// The log's root at that size.
    pub root: Digest,
}

/// `lcm log check`: recomputes `deployment`'s log from its receipts ([`crate::log::audit`])
/// and gives its size and root.
///
/// # Errors
///
/// [`OpsError::Failed`] (`log: ...`) naming the first tile that differs or is missing, or a
/// size that is not the chain's; read failures as [`OpsError::Store`].
pub fn check_log(store: &dyn Store, deployment: &str) -> Result<LogChecked, OpsError> {
    let size = match crate::log::audit(store, deployment) {
        Ok(size) => size,
        Err(crate::Error::Corrupt { what }) => return Err(fail(&format!("log: {what}"))),
        Err(e) => return Err(e.into()),
    };
    let root = Log::open(store, deployment)?.root_at(size)?;
    Ok(LogChecked {
        deployment: deployment.to_owned(),
        size,
        root: *root.digest(),
    })
}

/// Writes `bytes` at `dir/rel`, creating the directories.
fn write_static(dir: &Path, rel: &str, bytes: &[u8]) -> Result<(), OpsError> {
    let path = dir.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io_err(parent))?;
    }
    Ok(std::fs::write(&path, bytes).map_err(io_err(&path))?)
}

fn hash_bytes(hashes: &[Digest]) -> Vec<u8> {
    hashes.iter().flat_map(|h| *h.as_bytes()).collect()
}

/// Exports the log of `deployment` into `dir`: its tiles, its entry bundles (each entry a
/// receipt digest, streamed from the chain in order) and its checkpoint signed by `signer`.
///
/// # Errors
///
/// [`OpsError::File`] for a file that cannot be written; [`OpsError::Store`].
pub fn export_tiles(
    store: &dyn Store,
    deployment: &str,
    signer: &SignerKey,
    dir: &Path,
) -> Result<TilesExported, OpsError> {
    let log = Log::open(store, deployment)?;
    let size = log.size();
    let signed = sign_checkpoint(&log, signer)?;
    let mut count = 0u64;
    // The tiles of every level; memory is one tile at a time.
    for level in Tile::levels(size) {
        let partial = Tile::partial(level, size);
        let full = (0..Tile::full_count(level, size))
            .map(|i| Tile::new(level, i, tiles::TILE_WIDTH))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid(format!("tile: {e}")))?;
        for tile in full.into_iter().chain(partial) {
            write_static(dir, &tile.path(), &hash_bytes(&log.tile(tile)?))?;
            count += 1;
        }
    }
    let mut bundle: Vec<Digest> = Vec::with_capacity(256);
    let mut first = 0u64;
    let mut bundles = 0u64;
    let mut flush = |bundle: &mut Vec<Digest>, first: u64| -> Result<(), OpsError> {
        if bundle.is_empty() {
            return Ok(());
        }
        let width = u16::try_from(bundle.len()).unwrap_or(tiles::TILE_WIDTH);
        let tile = Tile::new(0, first / 256, width).map_err(|e| invalid(format!("tile: {e}")))?;
        let entries: Vec<&[u8]> = bundle.iter().map(|d| d.as_bytes().as_slice()).collect();
        let bytes = tiles::encode_entry_bundle(&entries).map_err(|e| invalid(format!("{e}")))?;
        write_static(dir, &tile.entries_path(), &bytes)?;
        bundles += 1;
        bundle.clear();
        Ok(())
    };
    if size > 0 {
        let mut failure = None;
        store
            .scan_receipts(deployment, 0, Some(size - 1), &mut |r| {
                bundle.push(r.digest);
                if bundle.len() == 256 {
                    if let Err(e) = flush(&mut bundle, first) {
                        failure = Some(e);
                        return Err(crate::Error::Corrupt {
                            what: "export stopped".to_owned(),
                        });
                    }
                    first += 256;
                }
                Ok(())
            })
            .map_err(|e| failure.take().unwrap_or_else(|| e.into()))?;
        flush(&mut bundle, first)?;
    }
    write_static(dir, "checkpoint", signed.to_text().as_bytes())?;
    Ok(TilesExported {
        size,
        tiles: count,
        bundles,
    })
}

/// Reads a tile of a tlog-tiles directory: the partial tile's own file, or the full tile's
/// first `width` hashes (a directory written at a larger size).
fn read_dir_tile(dir: &Path, tile: Tile) -> Result<Vec<Digest>, OpsError> {
    let own = dir.join(tile.path());
    let path = if own.exists() || tile.is_full() {
        own
    } else {
        let full = Tile::new(tile.level(), tile.index(), tiles::TILE_WIDTH)
            .map_err(|e| invalid(format!("tile: {e}")))?;
        dir.join(full.path())
    };
    let bytes = read_file(&path)?;
    let width = usize::from(tile.width());
    if bytes.len() % 32 != 0 || bytes.len() < width * 32 {
        return Err(OpsError::Failed {
            message: format!(
                "tiles: {} holds {} bytes, expected {} hashes",
                path.display(),
                bytes.len(),
                width
            ),
        });
    }
    bytes[..width * 32]
        .chunks_exact(32)
        .map(|c| {
            let a: [u8; 32] = c.try_into().map_err(|_| invalid("tile hash"))?;
            Ok(Digest::from_bytes(a))
        })
        .collect()
}

/// The tile at `level` and `index` of a tree of `size` leaves.
fn tile_at(level: u8, index: u64, size: u64) -> Result<Tile, OpsError> {
    let full = Tile::full_count(level, size);
    let tile = if index < full {
        Tile::new(level, index, tiles::TILE_WIDTH)
    } else {
        Tile::partial(level, size).ok_or_else(|| {
            lcm_tlog::Error::from(lcm_crypto::Error::IndexOutOfRange { index, size })
        })
    };
    tile.map_err(|e| invalid(format!("tile: {e}")))
}

/// What [`verify_tiles`] established.
#[derive(Debug)]
#[non_exhaustive]
pub struct TilesVerified {
    /// The directory's signed checkpoint.
    pub checkpoint: SignedCheckpoint,
    /// The root the tiles give (the checkpoint's).
    pub root: Digest,
    /// The tiles checked.
    pub tiles: u64,
    /// The older checkpoint's size and the consistency with it, when one was given.
    pub since: Option<(u64, Consistency)>,
    /// The receipt digest proved included and its index, when one was given.
    pub entry: Option<(Digest, u64)>,
}

/// Verifies the tlog-tiles directory `dir` under the log key `key` (its text or a file): every tile against the level
/// below (level 0 against the entries), the root against `dir/checkpoint`; with `since`, that
/// the checkpoint extends that older one (a consistency proof from the tiles); with `entry`,
/// that the receipt digest (hex) is that entry.
///
/// # Errors
///
/// [`OpsError::Failed`] (`tiles`, `signature`, `origin`, `inclusion`) for a failed check;
/// [`OpsError::Diverged`] for a fork or rollback from `since`; file and parse errors.
pub fn verify_tiles(
    dir: &Path,
    key: &str,
    since: Option<&Path>,
    entry: Option<(&str, u64)>,
) -> Result<TilesVerified, OpsError> {
    let checkpoint_path = dir.join("checkpoint");
    let signed = read_checkpoint(&checkpoint_path)?;
    let policy = Policy::new(parse_vkey(key)?);
    policy.verify(&signed).map_err(|e| verify_failed(&e))?;
    let c = signed.checkpoint();
    let size = c.size();
    // Every tile against the level below (level 0 against the entries): the whole log, one
    // tile and one entry bundle in memory at a time.
    let mut tiles_checked = 0u64;
    for level in Tile::levels(size) {
        let count = Tile::full_count(level, size) + u64::from(Tile::partial(level, size).is_some());
        for index in 0..count {
            let tile = tile_at(level, index, size)?;
            let hashes = read_dir_tile(dir, tile)?;
            if level > 0 {
                for (i, hash) in hashes.iter().enumerate() {
                    let below = tile_at(level - 1, index * 256 + i as u64, size)?;
                    let expected = tiles::subtree_root(&read_dir_tile(dir, below)?)
                        .map_err(|e| invalid(format!("{e}")))?;
                    if expected != *hash {
                        return Err(OpsError::Failed {
                            message: format!(
                                "tiles: hash {i} of {tile} is not the root of the tile below it"
                            ),
                        });
                    }
                }
            } else {
                check_entries(dir, tile, index, &hashes)?;
            }
            tiles_checked += 1;
        }
    }
    let mut reader = TileReader::new(size, |t: Tile| {
        read_dir_tile(dir, t).map_err(TileError::from)
    });
    let mut read = |l: u8, i: u64| -> Result<Digest, TileError> { reader.read_hash(l, i) };
    let root = tiles::root(size, &mut read).map_err(|e| e.0)?;
    if root != *c.root() {
        return Err(OpsError::Failed {
            message: format!(
                "tiles: the tiles' root {root} is not the checkpoint's {}",
                c.root()
            ),
        });
    }
    let mut since_outcome = None;
    if let Some(since) = since {
        let old = read_checkpoint(since)?;
        policy
            .verify(&old)
            .map_err(|e| fail(&format!("signature: {}: {e}", since.display())))?;
        let (m, n) = (old.checkpoint().size(), size);
        let proof = if m > 0 && m < n {
            Some(tiles::consistency_proof(m, n, &mut read).map_err(|e| e.0)?)
        } else {
            None
        };
        let result = classify_or_fail(old.checkpoint(), c, proof.as_deref())?;
        if !result.is_consistent() {
            let word = divergence(&result);
            let message = super::one_line(&format!("{word}: {result}"));
            return Err(OpsError::Diverged {
                word,
                older: Box::new((since.to_path_buf(), old)),
                newer: Box::new((checkpoint_path, signed)),
                message,
            });
        }
        since_outcome = Some((m, result));
    }
    let mut entry_proved = None;
    if let Some((digest, index)) = entry {
        let digest = parse_digest(digest, "--digest")?;
        let path = tiles::inclusion_proof(index, size, &mut read).map_err(|e| e.0)?;
        verify_inclusion(&leaf_hash(&digest), index, size, &path, &root).map_err(|e| {
            fail(&format!(
                "inclusion: receipt {digest} is not entry {index}: {e}"
            ))
        })?;
        entry_proved = Some((digest, index));
    }
    Ok(TilesVerified {
        checkpoint: signed,
        root,
        tiles: tiles_checked,
        since: since_outcome,
        entry: entry_proved,
    })
}

/// Checks the entry bundle of the level-0 tile `tile` (number `index`) against its `hashes`.
fn check_entries(dir: &Path, tile: Tile, index: u64, hashes: &[Digest]) -> Result<(), OpsError> {
    let path = dir.join(tile.entries_path());
    let own = if path.exists() {
        path
    } else {
        dir.join(
            Tile::new(0, index, tiles::TILE_WIDTH)
                .map_err(|e| invalid(format!("{e}")))?
                .entries_path(),
        )
    };
    let bytes = read_file(&own)?;
    let entries = tiles::decode_entry_bundle(&bytes)
        .map_err(|e| invalid(format!("{}: {e}", own.display())))?;
    if entries.len() < hashes.len() {
        return Err(OpsError::Failed {
            message: format!(
                "tiles: {} has {} entries, its tile {} hashes",
                own.display(),
                entries.len(),
                hashes.len()
            ),
        });
    }
    for (i, (entry, hash)) in entries.iter().zip(hashes).enumerate() {
        if lcm_crypto::merkle::leaf_hash(LOG_ALGORITHM, entry) != *hash {
            return Err(OpsError::Failed {
                message: format!(
                    "tiles: entry {i} of {} does not hash to its tile's leaf",
                    own.display()
                ),
            });
        }
    }
    Ok(())
}

/// An error carried through lcm-tlog's tile functions, which need `From<lcm_tlog::Error>`.
struct TileError(OpsError);

impl From<lcm_tlog::Error> for TileError {
    fn from(e: lcm_tlog::Error) -> Self {
        Self(invalid(format!("tiles: {e}")))
    }
}

impl From<OpsError> for TileError {
    fn from(e: OpsError) -> Self {
        Self(e)
    }
}
