//! The `PostgreSQL` side of [`crate::log`]: the `log_tiles` and `logs` tables, written in the
//! receipts' transaction under the chain's lock. An append reads the partial tiles of every
//! tile level with one query and writes every changed tile with one statement.

use lcm_crypto::Digest;
use lcm_tlog::tiles::Tile;

use super::{PostgresStore, digest_from, to_i64, to_u64};
use crate::Error;
use crate::log::{TileWriter, leaf_hash};

/// The size of a chain's log (0 before its first receipt).
pub(super) fn size(s: &PostgresStore, chain: i64) -> Result<u64, Error> {
    let size: Option<i64> = s
        .query_opt("SELECT size FROM logs WHERE chain_id = $1", &[&chain])?
        .map(|r| r.try_get(0))
        .transpose()?;
    to_u64(size.unwrap_or(0), "log size")
}

/// The stored hashes of a tile (all of them: a partial tile may have grown).
fn stored_tile(s: &PostgresStore, chain: i64, tile: Tile) -> Result<Option<Vec<Digest>>, Error> {
    let bytes: Option<Vec<u8>> = s
        .query_opt(
            "SELECT hashes FROM log_tiles WHERE chain_id = $1 AND level = $2 AND idx = $3",
            &[&chain, &i32::from(tile.level()), &to_i64(tile.index())?],
        )?
        .map(|r| r.try_get(0))
        .transpose()?;
    bytes.as_deref().map(crate::log::tile_hashes).transpose()
}

/// Exactly `tile.width()` hashes of a stored tile.
pub(super) fn tile(s: &PostgresStore, chain: i64, tile: Tile) -> Result<Vec<Digest>, Error> {
    crate::log::tile_of_width(stored_tile(s, chain, tile)?, chain, tile)
}

/// Appends receipt digests to a chain's log: reads its edge, writes the filled and the new
/// partial tiles (one statement, replacing the shorter partial tiles; the
/// `log_tiles_only_grow` trigger refuses anything that is not an extension) and the new size.
/// Called inside the transaction that stores the receipts.
pub(super) fn append(
    s: &PostgresStore,
    chain: i64,
    old: u64,
    digests: impl IntoIterator<Item = Digest>,
) -> Result<u64, Error> {
    // The partial tile of every level, read with one query.
    let edge: Vec<Tile> = Tile::levels(old)
        .filter_map(|level| Tile::partial(level, old))
        .collect();
    let mut stored = std::collections::BTreeMap::new();
    if !edge.is_empty() {
        let levels: Vec<i32> = edge.iter().map(|t| i32::from(t.level())).collect();
        let indexes = edge
            .iter()
            .map(|t| to_i64(t.index()))
            .collect::<Result<Vec<_>, _>>()?;
        for row in s.query(
            "SELECT t.level, t.idx, t.hashes FROM log_tiles t \
             JOIN unnest($2::integer[], $3::bigint[]) AS e (level, idx) \
             ON t.level = e.level AND t.idx = e.idx WHERE t.chain_id = $1",
            &[&chain, &levels, &indexes],
        )? {
            let key: (i32, i64) = (row.try_get(0)?, row.try_get(1)?);
            let hashes: Vec<u8> = row.try_get(2)?;
            stored.insert(key, hashes);
        }
    }
    let mut writer = TileWriter::resume(old, &mut |t| {
        stored
            .remove(&(i32::from(t.level()), to_i64(t.index())?))
            .map(|b| b.chunks(32).map(digest_from).collect())
            .transpose()
    })?;
    // (level, index) -> hashes: a tile written twice keeps its last (longest) hashes.
    let mut tiles: std::collections::BTreeMap<(i32, i64), Vec<u8>> =
        std::collections::BTreeMap::new();
    let mut write = |t: Tile, hashes: &[Digest]| -> Result<(), Error> {
        let mut bytes = Vec::with_capacity(hashes.len() * 32);
        for h in hashes {
            bytes.extend_from_slice(h.as_bytes());
        }
        tiles.insert((i32::from(t.level()), to_i64(t.index())?), bytes);
        Ok(())
    };
    for d in digests {
        writer.push(leaf_hash(&d), &mut write)?;
    }
    let new = writer.finish(&mut write)?;
    if new == old {
        return Ok(new);
    }
    let levels: Vec<i32> = tiles.keys().map(|k| k.0).collect();
    let indexes: Vec<i64> = tiles.keys().map(|k| k.1).collect();
    let hashes: Vec<&[u8]> = tiles.values().map(Vec::as_slice).collect();
    s.execute(
        "INSERT INTO log_tiles (chain_id, level, idx, hashes) \
         SELECT $1, * FROM unnest($2::integer[], $3::bigint[], $4::bytea[]) \
         ON CONFLICT (chain_id, level, idx) DO UPDATE SET hashes = excluded.hashes",
        &[&chain, &levels, &indexes, &hashes],
    )?;
    s.execute(
        "INSERT INTO logs (chain_id, size) VALUES ($1, $2) \
         ON CONFLICT (chain_id) DO UPDATE SET size = excluded.size",
        &[&chain, &to_i64(new)?],
    )?;
    Ok(new)
}
