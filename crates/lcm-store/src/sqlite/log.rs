//! The `SQLite` side of [`crate::log`]: the `log_tiles` and `logs` tables, written in the
//! receipts' transaction, and the migration that builds the tiles of receipts stored before
//! the log existed.

use lcm_crypto::Digest;
use lcm_tlog::tiles::Tile;
use rusqlite::{Connection, OptionalExtension, params};

use super::{CHAIN_SPAN, digest_from, receipt_key, to_i64, to_u64};
use crate::Error;
use crate::log::{TileWriter, leaf_hash};

/// The size of a chain's log (0 before its first receipt).
pub(super) fn size(conn: &Connection, chain: i64) -> Result<u64, Error> {
    let size: Option<i64> = conn
        .prepare_cached("SELECT size FROM logs WHERE chain_id = ?1")?
        .query_row(params![chain], |r| r.get(0))
        .optional()?;
    to_u64(size.unwrap_or(0), "log size")
}

/// The stored hashes of a tile (all of them: a partial tile may have grown).
pub(super) fn stored_tile(
    conn: &Connection,
    chain: i64,
    tile: Tile,
) -> Result<Option<Vec<Digest>>, Error> {
    let bytes: Option<Vec<u8>> = conn
        .prepare_cached(
            "SELECT hashes FROM log_tiles WHERE chain_id = ?1 AND level = ?2 AND idx = ?3",
        )?
        .query_row(params![chain, tile.level(), to_i64(tile.index())?], |r| {
            r.get(0)
        })
        .optional()?;
    bytes.as_deref().map(crate::log::tile_hashes).transpose()
}

/// Exactly `tile.width()` hashes of a stored tile.
pub(super) fn tile(conn: &Connection, chain: i64, tile: Tile) -> Result<Vec<Digest>, Error> {
    crate::log::tile_of_width(stored_tile(conn, chain, tile)?, chain, tile)
}

/// Stores a tile, replacing the shorter partial tile at its place (the `log_tiles_only_grow`
/// trigger refuses anything that is not an extension).
fn write_tile(conn: &Connection, chain: i64, tile: Tile, hashes: &[Digest]) -> Result<(), Error> {
    let mut bytes = Vec::with_capacity(hashes.len() * 32);
    for h in hashes {
        bytes.extend_from_slice(h.as_bytes());
    }
    conn.prepare_cached(
        "INSERT INTO log_tiles (chain_id, level, idx, hashes) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (chain_id, level, idx) DO UPDATE SET hashes = excluded.hashes",
    )?
    .execute(params![chain, tile.level(), to_i64(tile.index())?, bytes])?;
    Ok(())
}

/// Appends receipt digests to a chain's log: reads its edge, writes the filled and the new
/// partial tiles and the new size. Called inside the transaction that stores the receipts.
pub(super) fn append(
    conn: &Connection,
    chain: i64,
    digests: impl IntoIterator<Item = Digest>,
) -> Result<u64, Error> {
    let old = size(conn, chain)?;
    let mut writer = TileWriter::resume(old, &mut |t| stored_tile(conn, chain, t))?;
    let mut write = |t: Tile, h: &[Digest]| write_tile(conn, chain, t, h);
    for d in digests {
        writer.push(leaf_hash(&d), &mut write)?;
    }
    let new = writer.finish(&mut write)?;
    if new != old {
        conn.prepare_cached(
            "INSERT INTO logs (chain_id, size) VALUES (?1, ?2) \
             ON CONFLICT (chain_id) DO UPDATE SET size = excluded.size",
        )?
        .execute(params![chain, to_i64(new)?])?;
    }
    Ok(new)
}

/// Builds the log of every chain from its stored receipts (schema migration 5), streaming:
/// the receipts are read in order in slices of 65,536 and only the tile edge is held.
pub(super) fn backfill(conn: &Connection) -> Result<(), Error> {
    const SLICE: u64 = 1 << 16;
    let chains: Vec<i64> = conn
        .prepare("SELECT chain_id FROM chains ORDER BY chain_id")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for chain in chains {
        let mut from = size(conn, chain)?;
        loop {
            let last = (from + SLICE - 1).min(CHAIN_SPAN - 1);
            let (Some(lo), Some(hi)) = (receipt_key(chain, from), receipt_key(chain, last)) else {
                break;
            };
            let mut stmt = conn.prepare(
                "SELECT sequence, digest FROM receipts WHERE key >= ?1 AND key <= ?2 ORDER BY key",
            )?;
            let mut digests = Vec::new();
            let mut rows = stmt.query(params![lo, hi])?;
            while let Some(row) = rows.next()? {
                let sequence = to_u64(row.get(0)?, "sequence")?;
                if sequence != from + u64::try_from(digests.len()).unwrap_or(u64::MAX) {
                    return Err(Error::Corrupt {
                        what: format!("chain {chain} has no receipt {from} but later ones"),
                    });
                }
                digests.push(digest_from(&row.get::<_, Vec<u8>>(1)?)?);
            }
            if digests.is_empty() {
                break;
            }
            from = append(conn, chain, digests)?;
        }
    }
    Ok(())
}
