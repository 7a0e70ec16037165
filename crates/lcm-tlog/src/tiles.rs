//! c2sp.org/tlog-tiles: tile coordinates and paths, entry bundles, and roots and proofs
//! computed from stored hashes only.
//!
//! # Stored hashes
//!
//! A log that keeps tiles never rebuilds its tree. Every function here reads hashes through a
//! closure `read(level, index)` that returns the Merkle Tree Hash of the complete subtree of
//! `2^level` leaves starting at leaf `index * 2^level` — the hash the tile at level
//! `level / 8` holds (for a multiple of 8), or one computed from `2^(level % 8)` of its hashes
//! ([`read_hash_from_tiles`]). [`root`], [`inclusion_proof`] and [`consistency_proof`] read at
//! most about `2 * log2(n)` such hashes: the complete subtrees along the path, and the
//! ragged right edge of the tree once.
//!
//! # Examples
//!
//! ```
//! use lcm_tlog::tiles::Tile;
//!
//! assert_eq!(Tile::new(0, 1_234_067, 256)?.path(), "tile/0/x001/x234/067");
//! assert_eq!(Tile::new(1, 5, 17)?.path(), "tile/1/005.p/17");
//! assert_eq!(Tile::new(0, 5, 17)?.entries_path(), "tile/entries/005.p/17");
//! // A tree of 70,000 leaves has a partial level-0 tile of width 112.
//! assert_eq!(Tile::partial(0, 70_000), Some(Tile::new(0, 273, 112)?));
//! # Ok::<(), lcm_tlog::Error>(())
//! ```

use std::fmt;

use lcm_crypto::merkle::node_hash;
use lcm_crypto::{Digest, HashAlgorithm};

use crate::checkpoint::parse_decimal;
use crate::error::{Error, FormatError};

/// The height of a tile: a tile is a subtree of 8 levels.
pub const TILE_HEIGHT: u8 = 8;

/// The number of hashes in a full tile.
pub const TILE_WIDTH: u16 = 256;

/// The highest tile level the spec allows.
pub const MAX_TILE_LEVEL: u8 = 63;

/// A tile: `width` consecutive hashes at tile level `level` (tree level `8 * level`), the
/// `index`-th tile of its level. A full tile has width 256, a partial one 1 to 255.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tile {
    level: u8,
    index: u64,
    width: u16,
}

impl Tile {
    /// The tile at `level` (0 to 63) and `index`, of `width` hashes (1 to 256).
    ///
    /// # Errors
    ///
    /// [`FormatError::Number`] for a level above 63 or a width outside 1 to 256.
    pub fn new(level: u8, index: u64, width: u16) -> Result<Self, Error> {
        if level > MAX_TILE_LEVEL {
            return Err(FormatError::Number {
                what: "a tile level from 0 to 63",
                text: level.to_string(),
            }
            .into());
        }
        if width == 0 || width > TILE_WIDTH {
            return Err(FormatError::Number {
                what: "a tile width from 1 to 256",
                text: width.to_string(),
            }
            .into());
        }
        Ok(Self {
            level,
            index,
            width,
        })
    }

    /// The tile level.
    pub fn level(&self) -> u8 {
        self.level
    }

    /// The index of the tile within its level.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// The number of hashes (256 for a full tile).
    pub fn width(&self) -> u16 {
        self.width
    }

    /// Whether the tile is full.
    pub fn is_full(&self) -> bool {
        self.width == TILE_WIDTH
    }

    /// The tree level of the tile's hashes: `8 * level`.
    pub fn hash_level(&self) -> u8 {
        self.level * TILE_HEIGHT
    }

    /// The stored hashes that make up the tile, as `(tree level, index)`: hash `i` is the
    /// Merkle Tree Hash of leaves `[(n * 256 + i) * 256^l, (n * 256 + i + 1) * 256^l)`.
    pub fn hashes(&self) -> impl ExactSizeIterator<Item = (u8, u64)> + use<> {
        let level = self.hash_level();
        let first = self.index.saturating_mul(u64::from(TILE_WIDTH));
        (0..self.width).map(move |i| (level, first.saturating_add(u64::from(i))))
    }

    /// The number of full tiles at tile level `level` in a tree of `size` leaves.
    pub fn full_count(level: u8, size: u64) -> u64 {
        size.checked_shr((u32::from(level) + 1) * u32::from(TILE_HEIGHT))
            .unwrap_or(0)
    }

    /// The partial tile at tile level `level` of a tree of `size` leaves, if there is one:
    /// width `floor(size / 256^level) mod 256`.
    pub fn partial(level: u8, size: u64) -> Option<Self> {
        let hashes = size
            .checked_shr(u32::from(level) * u32::from(TILE_HEIGHT))
            .unwrap_or(0);
        let width = u16::try_from(hashes % u64::from(TILE_WIDTH)).ok()?;
        Self::new(level, Self::full_count(level, size), width).ok()
    }

    /// Every tile level that has a tile in a tree of `size` leaves.
    pub fn levels(size: u64) -> impl Iterator<Item = u8> {
        (0..=MAX_TILE_LEVEL).take_while(move |&l| {
            size.checked_shr(u32::from(l) * u32::from(TILE_HEIGHT))
                .unwrap_or(0)
                > 0
        })
    }

    /// The path of the tile: `tile/<L>/<N>[.p/<W>]`.
    pub fn path(&self) -> String {
        format!("tile/{}/{}", self.level, self.index_and_width())
    }

    /// The path of the entry bundle over the same leaves as this level-0 tile:
    /// `tile/entries/<N>[.p/<W>]`.
    pub fn entries_path(&self) -> String {
        format!("tile/entries/{}", self.index_and_width())
    }

    fn index_and_width(&self) -> String {
        let mut out = index_path(self.index);
        if !self.is_full() {
            out.push_str(&format!(".p/{}", self.width));
        }
        out
    }

    /// Parses a tile or entry bundle path (without the URL prefix), strictly: only the path
    /// [`Tile::path`] or [`Tile::entries_path`] would write. Entry bundles come back as
    /// level-0 tiles, with `true`.
    ///
    /// # Errors
    ///
    /// [`FormatError::TilePath`] for anything else.
    pub fn parse_path(path: &str) -> Result<(Self, bool), Error> {
        let bad = || -> Error {
            FormatError::TilePath {
                path: path.chars().take(200).collect(),
            }
            .into()
        };
        let rest = path.strip_prefix("tile/").ok_or_else(bad)?;
        let (level, entries, rest) = match rest.strip_prefix("entries/") {
            Some(rest) => (0, true, rest),
            None => {
                let (level, rest) = rest.split_once('/').ok_or_else(bad)?;
                let level = parse_decimal("a tile level", level).map_err(|_| bad())?;
                (u8::try_from(level).map_err(|_| bad())?, false, rest)
            }
        };
        let (index, width) = match rest.split_once(".p/") {
            Some((index, width)) => {
                let width = parse_decimal("a tile width", width).map_err(|_| bad())?;
                let width = u16::try_from(width)
                    .ok()
                    .filter(|&w| w < TILE_WIDTH)
                    .ok_or_else(bad)?;
                (index, width)
            }
            None => (rest, TILE_WIDTH),
        };
        let mut n: u64 = 0;
        for group in index.split('/') {
            let digits = group.strip_prefix('x').unwrap_or(group);
            if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            let value: u64 = digits.parse().map_err(|_| bad())?;
            n = n
                .checked_mul(1000)
                .and_then(|n| n.checked_add(value))
                .ok_or_else(bad)?;
        }
        let tile = Self::new(level, n, width).map_err(|_| bad())?;
        let canonical = if entries {
            tile.entries_path()
        } else {
            tile.path()
        };
        if canonical == path {
            Ok((tile, entries))
        } else {
            Err(bad())
        }
    }
}

impl fmt::Display for Tile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path())
    }
}

/// `N` as zero-padded 3-digit path elements, all but the last starting with `x`.
fn index_path(index: u64) -> String {
    let mut groups = Vec::new();
    let mut n = index;
    loop {
        groups.push(n % 1000);
        n /= 1000;
        if n == 0 {
            break;
        }
    }
    let last = groups.len() - 1;
    groups
        .iter()
        .rev()
        .enumerate()
        .map(|(i, g)| {
            if i == last {
                format!("{g:03}")
            } else {
                format!("x{g:03}")
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Encodes log entries as an entry bundle: each entry as a big-endian `uint16` length and its
/// bytes.
///
/// # Errors
///
/// [`FormatError::EntryBundle`] naming the first entry longer than 65,535 bytes.
pub fn encode_entry_bundle<T: AsRef<[u8]>>(entries: &[T]) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        let entry = entry.as_ref();
        let len = u16::try_from(entry.len()).map_err(|_| FormatError::EntryBundle { index })?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(entry);
    }
    Ok(out)
}

/// Decodes an entry bundle into its entries.
///
/// # Errors
///
/// [`FormatError::EntryBundle`] when the bundle ends inside an entry.
pub fn decode_entry_bundle(bundle: &[u8]) -> Result<Vec<&[u8]>, Error> {
    let mut entries = Vec::new();
    let mut rest = bundle;
    while !rest.is_empty() {
        let index = entries.len();
        let Some((len, tail)) = rest.split_first_chunk::<2>() else {
            return Err(FormatError::EntryBundle { index }.into());
        };
        let len = usize::from(u16::from_be_bytes(*len));
        let (entry, tail) = tail
            .split_at_checked(len)
            .ok_or(FormatError::EntryBundle { index })?;
        entries.push(entry);
        rest = tail;
    }
    Ok(entries)
}

/// The Merkle Tree Hash of a complete subtree given its hashes at one level (a power of two of
/// them): for a full tile's 256 hashes, the hash that goes into the tile one level up. A store
/// calls it when a tile fills, so that the level above never needs the leaves.
///
/// # Errors
///
/// `lcm_crypto::Error::Length` when the number of hashes is not a power of two.
pub fn subtree_root(hashes: &[Digest]) -> Result<Digest, Error> {
    if !hashes.len().is_power_of_two() {
        return Err(lcm_crypto::Error::Length {
            what: "a complete subtree's hashes (a power of two)",
            expected: hashes.len().next_power_of_two(),
            actual: hashes.len(),
        }
        .into());
    }
    let mut level = hashes.to_vec();
    while level.len() > 1 {
        level = level
            .chunks_exact(2)
            .map(|pair| node_hash(HashAlgorithm::Sha256, &pair[0], &pair[1]))
            .collect();
    }
    level.pop().ok_or(
        lcm_crypto::Error::Length {
            what: "a complete subtree's hashes (a power of two)",
            expected: 1,
            actual: 0,
        }
        .into(),
    )
}

/// The largest power of two strictly below `n` (`n >= 2`): RFC 6962's split point.
fn split(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// `MTH(D[start:end])` for a range that RFC 6962's recursion produces (so `start` is aligned
/// to each block that follows it): the aligned complete blocks from the left, one read each,
/// folded from the right.
fn range_hash<E, F>(start: u64, end: u64, read: &mut F) -> Result<Digest, E>
where
    F: FnMut(u8, u64) -> Result<Digest, E>,
{
    let mut blocks = Vec::new();
    let mut s = start;
    while s < end {
        let align = if s == 0 { 63 } else { s.trailing_zeros() };
        let fits = 63 - (end - s).leading_zeros();
        let level = align.min(fits);
        // level <= 63.
        let level8 = u8::try_from(level).unwrap_or(63);
        blocks.push(read(level8, s >> level)?);
        s += 1 << level;
    }
    let mut acc = blocks.pop();
    while let Some(left) = blocks.pop() {
        acc = acc.map(|right| node_hash(HashAlgorithm::Sha256, &left, &right));
    }
    Ok(acc.unwrap_or_else(|| lcm_crypto::merkle::empty_root(HashAlgorithm::Sha256)))
}

/// The root of the tree of `size` leaves from stored hashes: one read per set bit of `size`
/// (`H("")` for the empty tree, with no read).
///
/// # Errors
///
/// Whatever `read` returns.
pub fn root<E, F>(size: u64, mut read: F) -> Result<Digest, E>
where
    F: FnMut(u8, u64) -> Result<Digest, E>,
{
    range_hash(0, size, &mut read)
}

/// The inclusion proof (RFC 6962 `PATH`) of leaf `index` in the tree of `size` leaves, from
/// stored hashes, bottom-up as `lcm_crypto::merkle::verify_inclusion` takes it.
///
/// # Errors
///
/// `lcm_crypto::Error::EmptyTree` or `IndexOutOfRange` (converted into `E`), or whatever
/// `read` returns.
pub fn inclusion_proof<E, F>(index: u64, size: u64, mut read: F) -> Result<Vec<Digest>, E>
where
    E: From<Error>,
    F: FnMut(u8, u64) -> Result<Digest, E>,
{
    if size == 0 {
        return Err(Error::from(lcm_crypto::Error::EmptyTree).into());
    }
    if index >= size {
        return Err(Error::from(lcm_crypto::Error::IndexOutOfRange { index, size }).into());
    }
    let mut path = Vec::new();
    let (mut start, mut end) = (0, size);
    while end - start > 1 {
        let mid = start + split(end - start);
        if index < mid {
            path.push(range_hash(mid, end, &mut read)?);
            end = mid;
        } else {
            path.push(range_hash(start, mid, &mut read)?);
            start = mid;
        }
    }
    path.reverse();
    Ok(path)
}

/// The consistency proof (RFC 6962 `PROOF`) from the tree of `old_size` leaves to the tree of
/// `new_size` leaves, from stored hashes.
///
/// # Errors
///
/// `lcm_crypto::Error::ConsistencySizes` unless `0 < old_size <= new_size` (converted into
/// `E`), or whatever `read` returns.
pub fn consistency_proof<E, F>(old_size: u64, new_size: u64, mut read: F) -> Result<Vec<Digest>, E>
where
    E: From<Error>,
    F: FnMut(u8, u64) -> Result<Digest, E>,
{
    if old_size == 0 || old_size > new_size {
        return Err(Error::from(lcm_crypto::Error::ConsistencySizes {
            size1: old_size,
            size2: new_size,
        })
        .into());
    }
    let mut path = Vec::new();
    let mut m = old_size;
    let (mut start, mut end, mut complete) = (0, new_size, true);
    loop {
        let n = end - start;
        if m == n {
            if !complete {
                path.push(range_hash(start, end, &mut read)?);
            }
            break;
        }
        let k = split(n);
        if m <= k {
            path.push(range_hash(start + k, end, &mut read)?);
            end = start + k;
        } else {
            path.push(range_hash(start, start + k, &mut read)?);
            start += k;
            m -= k;
            complete = false;
        }
    }
    path.reverse();
    Ok(path)
}

/// Reads the hash at tree `level` and `index` (see the module docs) from the tiles of a tree
/// of `size` leaves: one tile read, then up to 127 node hashes when the level is not a
/// multiple of 8. `read_tile` must return the tile's hashes (its width, as the tree's size
/// determines it: full, or the partial tile at the edge).
///
/// # Errors
///
/// `lcm_crypto::Error::IndexOutOfRange` (converted into `E`) when the tree of `size` leaves
/// has no such complete subtree, `lcm_crypto::Error::Length` when a tile has the wrong number
/// of hashes, or whatever `read_tile` returns.
pub fn read_hash_from_tiles<E, T>(
    size: u64,
    level: u8,
    index: u64,
    read_tile: &mut T,
) -> Result<Digest, E>
where
    E: From<Error>,
    T: FnMut(Tile) -> Result<Vec<Digest>, E>,
{
    let out_of_range = || -> E {
        Error::from(lcm_crypto::Error::IndexOutOfRange {
            index,
            size: size.checked_shr(u32::from(level)).unwrap_or(0),
        })
        .into()
    };
    let tile_level = level / TILE_HEIGHT;
    let height = u32::from(level % TILE_HEIGHT);
    let width = u64::from(TILE_WIDTH);
    // The hashes at the tile's level that make up this one.
    let first = index.checked_shl(height).ok_or_else(out_of_range)?;
    let count = 1u64 << height;
    let available = size
        .checked_shr(u32::from(tile_level) * u32::from(TILE_HEIGHT))
        .unwrap_or(0);
    if first.checked_add(count).is_none_or(|end| end > available) {
        return Err(out_of_range());
    }
    let tile_index = first / width;
    let tile_width = (available - tile_index * width).min(width);
    // tile_width is 1..=256.
    let tile_width = u16::try_from(tile_width).unwrap_or(TILE_WIDTH);
    let tile = Tile::new(tile_level, tile_index, tile_width).map_err(E::from)?;
    let hashes = read_tile(tile)?;
    if hashes.len() != usize::from(tile_width) {
        return Err(Error::from(lcm_crypto::Error::Length {
            what: "a tile's hashes",
            expected: usize::from(tile_width),
            actual: hashes.len(),
        })
        .into());
    }
    // first % 256 + count <= 256, both small.
    let offset = usize::try_from(first % width).unwrap_or(0);
    let count = usize::try_from(count).unwrap_or(1);
    subtree_root(&hashes[offset..offset + count]).map_err(E::from)
}

/// A hash reader over the tiles of a tree of fixed size that reads each tile once: the
/// `read` closure of [`root`], [`inclusion_proof`] and [`consistency_proof`] for a store that
/// keeps tiles.
///
/// A proof needs about two hashes per level, which fall in about two tiles per tile level, so
/// a proof in a tree of 10^7 leaves reads a handful of tiles however many hashes it needs.
///
/// # Examples
///
/// ```
/// use lcm_crypto::merkle::MerkleTree;
/// use lcm_tlog::tiles::{self, Tile, TileReader};
/// use lcm_tlog::Error;
///
/// let tree = MerkleTree::from_leaves((0..300u32).map(|i| i.to_be_bytes()));
/// let leaves: Vec<_> = tree.leaf_hashes().collect();
/// let level1 = tiles::subtree_root(&leaves[..256])?;
/// // A store that kept one full level-0 tile, a partial one, and a level-1 tile.
/// let mut reader = TileReader::new(300, |tile: Tile| -> Result<_, Error> {
///     Ok(match (tile.level(), tile.index()) {
///         (0, 0) => leaves[..256].to_vec(),
///         (0, 1) => leaves[256..].to_vec(),
///         _ => vec![level1],
///     })
/// });
/// assert_eq!(tiles::root(300, |l, i| reader.read_hash(l, i))?, tree.root());
/// assert_eq!(reader.tiles_read(), 2);
/// # Ok::<(), lcm_tlog::Error>(())
/// ```
pub struct TileReader<T> {
    size: u64,
    read_tile: T,
    cache: Vec<(Tile, Vec<Digest>)>,
    tiles_read: usize,
}

impl<T> fmt::Debug for TileReader<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TileReader")
            .field("size", &self.size)
            .field("tiles_read", &self.tiles_read)
            .finish_non_exhaustive()
    }
}

impl<T> TileReader<T> {
    /// A reader of the tree of `size` leaves whose tiles `read_tile` returns.
    pub fn new(size: u64, read_tile: T) -> Self {
        Self {
            size,
            read_tile,
            cache: Vec::new(),
            tiles_read: 0,
        }
    }

    /// How many tiles have been read so far (each at most once).
    pub fn tiles_read(&self) -> usize {
        self.tiles_read
    }

    /// The hash at tree `level` and `index`, as [`read_hash_from_tiles`] computes it, reading
    /// each tile at most once.
    ///
    /// # Errors
    ///
    /// As [`read_hash_from_tiles`].
    pub fn read_hash<E>(&mut self, level: u8, index: u64) -> Result<Digest, E>
    where
        E: From<Error>,
        T: FnMut(Tile) -> Result<Vec<Digest>, E>,
    {
        let Self {
            size,
            read_tile,
            cache,
            tiles_read,
        } = self;
        let mut cached = |tile: Tile| -> Result<Vec<Digest>, E> {
            if let Some((_, hashes)) = cache.iter().find(|(t, _)| *t == tile) {
                return Ok(hashes.clone());
            }
            let hashes = read_tile(tile)?;
            *tiles_read += 1;
            cache.push((tile, hashes.clone()));
            Ok(hashes)
        };
        read_hash_from_tiles(*size, level, index, &mut cached)
    }
}

#[cfg(test)]
mod tests;
