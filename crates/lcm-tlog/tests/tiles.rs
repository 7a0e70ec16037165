//! Roots and proofs from stored hashes (`lcm_tlog::tiles`) against `lcm_crypto::merkle`, on
//! random sizes and at the edges, with the number of hashes read.

use std::cell::Cell;

use lcm_crypto::Digest;
use lcm_crypto::HashAlgorithm;
use lcm_crypto::merkle::{MerkleTree, node_hash};
use lcm_tlog::Error;
use lcm_tlog::tiles::{self, Tile, TileReader};
use proptest::prelude::*;

/// Every complete subtree hash of a tree: `levels[l][i]` covers leaves `[i * 2^l, (i+1) * 2^l)`.
struct Stored {
    levels: Vec<Vec<Digest>>,
    reads: Cell<usize>,
}

impl Stored {
    fn new(tree: &MerkleTree) -> Self {
        let mut levels = vec![tree.leaf_hashes().collect::<Vec<_>>()];
        while levels.last().expect("a valid test fixture").len() > 1 {
            let next = levels
                .last()
                .expect("a valid test fixture")
                .chunks_exact(2)
                .map(|p| node_hash(HashAlgorithm::Sha256, &p[0], &p[1]))
                .collect();
            levels.push(next);
        }
        Self {
            levels,
            reads: Cell::new(0),
        }
    }

    fn read(&self, level: u8, index: u64) -> Result<Digest, Error> {
        self.reads.set(self.reads.get() + 1);
        Ok(self.levels[usize::from(level)][usize::try_from(index).unwrap_or(usize::MAX)])
    }

    /// The tile's hashes, as a store keeping only tiles would return them.
    fn tile(&self, tile: Tile) -> Result<Vec<Digest>, Error> {
        self.reads.set(self.reads.get() + 1);
        Ok(tile
            .hashes()
            .map(|(l, i)| self.levels[usize::from(l)][usize::try_from(i).unwrap_or(usize::MAX)])
            .collect())
    }

    fn take_reads(&self) -> usize {
        self.reads.replace(0)
    }
}

/// The read bound: two hashes per level of the tree, plus one.
fn bound(size: u64) -> usize {
    2 * (64 - size.leading_zeros() as usize) + 1
}

/// A hash reader, for the computations of [`both_ways`].
type Read<'a> = &'a mut dyn FnMut(u8, u64) -> Result<Digest, Error>;

/// Computes `what` from the stored hashes, checks it equals `expected` within `bound(size)`
/// reads (`context` names the case), computes it again through the tiles (one tile read per
/// hash) and checks it equals `expected`; returns the tile reads of the second way.
#[track_caller]
fn both_ways<T: PartialEq + std::fmt::Debug>(
    stored: &Stored,
    size: u64,
    expected: &T,
    context: &str,
    what: impl Fn(Read<'_>) -> Result<T, Error>,
) -> usize {
    let direct = what(&mut |l, i| stored.read(l, i)).expect("a valid test fixture");
    assert_eq!(direct, *expected, "{context}");
    assert!(stored.take_reads() <= bound(size), "{context}");
    let mut read_tile = |t| stored.tile(t);
    let via_tiles = what(&mut |l, i| tiles::read_hash_from_tiles(size, l, i, &mut read_tile))
        .expect("a valid test fixture");
    assert_eq!(via_tiles, *expected, "{context}");
    stored.take_reads()
}

#[track_caller]
fn check_size(tree: &MerkleTree, stored: &Stored, size: u64, index: u64, old: u64) {
    let root = tree.root_at(size).expect("a valid test fixture");
    let context = format!("size {size}");
    let tile_reads = both_ways(stored, size, &root, &context, |read| {
        tiles::root(size, read)
    });
    assert!(tile_reads <= bound(size));
    if size == 0 {
        return;
    }
    let index = index % size;
    let expected = tree
        .inclusion_proof_at(index, size)
        .expect("a valid test fixture")
        .into_path();
    let context = format!("size {size} index {index}");
    both_ways(stored, size, &expected, &context, |read| {
        tiles::inclusion_proof(index, size, read)
    });
    let old = old % size + 1;
    let expected = tree
        .consistency_proof_between(old, size)
        .expect("a valid test fixture")
        .into_path();
    let context = format!("{old} -> {size}");
    both_ways(stored, size, &expected, &context, |read| {
        tiles::consistency_proof(old, size, read)
    });
}

#[test]
fn edges() {
    let big = crate::support::tree(65_537);
    let stored = Stored::new(&big);
    for size in [0, 1, 2, 3, 255, 256, 257, 511, 512, 65_535, 65_536, 65_537] {
        for index in [0, 1, 254, 255, 256, 65_535, 65_536] {
            for old in [0, 1, 255, 256, 65_534, 65_535] {
                check_size(&big, &stored, size, index, old);
            }
        }
    }
}

/// With a tile cache, a proof reads at most two tiles per tile level (the path's and the
/// right edge's), plus one.
/// Computes a proof in a tree of `size` through a [`TileReader`] over `stored`, and checks
/// that it read at most one tile per level plus one (three levels of tiles cover 70,000
/// leaves).
#[track_caller]
fn read_proof(
    stored: &Stored,
    size: u64,
    proof: impl FnOnce(&mut dyn FnMut(u8, u64) -> Result<Digest, Error>) -> Result<Vec<Digest>, Error>,
) -> Vec<Digest> {
    let mut reader = TileReader::new(size, |t| stored.tile(t));
    let path = proof(&mut |l, i| reader.read_hash(l, i)).expect("a proof");
    assert!(reader.tiles_read() <= 2 * 3 + 1, "{}", reader.tiles_read());
    path
}

#[test]
fn a_tile_reader_reads_each_tile_once() {
    let big = crate::support::tree(70_000);
    let stored = Stored::new(&big);
    for (index, size, old) in [
        (0, 70_000, 1),
        (69_999, 70_000, 65_536),
        (12_345, 65_537, 300),
    ] {
        let inclusion = big.inclusion_proof_at(index, size).expect("proof");
        let path = read_proof(&stored, size, |read| {
            tiles::inclusion_proof(index, size, read)
        });
        assert_eq!(path, inclusion.into_path());
        let consistency = big.consistency_proof_between(old, size).expect("proof");
        let path = read_proof(&stored, size, |read| {
            tiles::consistency_proof(old, size, read)
        });
        assert_eq!(path, consistency.into_path());
    }
}

#[test]
fn a_full_tile_hashes_into_the_level_above() {
    let t = crate::support::tree(512);
    let stored = Stored::new(&t);
    for n in 0..2 {
        let tile = Tile::new(0, n, 256).expect("a tile");
        let hashes = stored.tile(tile).expect("the tile");
        assert_eq!(
            tiles::subtree_root(&hashes),
            Ok(stored.levels[8][usize::try_from(n).unwrap_or(usize::MAX)])
        );
    }
    let level1 = stored
        .tile(Tile::new(1, 0, 2).expect("a tile"))
        .expect("read");
    assert_eq!(tiles::subtree_root(&level1), Ok(t.root()));
    assert!(tiles::subtree_root(&level1[..0]).is_err());
    assert!(tiles::subtree_root(&[t.root(); 3]).is_err());
}

#[test]
fn bad_requests() {
    let t = crate::support::tree(4);
    let stored = Stored::new(&t);
    let read = |l, i| stored.read(l, i);
    assert_eq!(
        tiles::inclusion_proof(0, 0, read),
        Err(lcm_crypto::Error::EmptyTree.into())
    );
    assert_eq!(
        tiles::inclusion_proof(4, 4, read),
        Err(lcm_crypto::Error::IndexOutOfRange { index: 4, size: 4 }.into())
    );
    assert_eq!(
        tiles::consistency_proof(0, 4, read),
        Err(lcm_crypto::Error::ConsistencySizes { size1: 0, size2: 4 }.into())
    );
    assert_eq!(
        tiles::consistency_proof(5, 4, read),
        Err(lcm_crypto::Error::ConsistencySizes { size1: 5, size2: 4 }.into())
    );
    // A hash the tree does not have yet, and a tile of the wrong width.
    let mut read_tile = |t| stored.tile(t);
    assert!(tiles::read_hash_from_tiles::<Error, _>(4, 3, 0, &mut read_tile).is_err());
    let mut short = |_| Ok::<_, Error>(Vec::new());
    assert!(tiles::read_hash_from_tiles::<Error, _>(4, 1, 0, &mut short).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::default())]

    #[test]
    fn random_sizes(size in 0u64..2_000, index in any::<u64>(), old in any::<u64>()) {
        let t = crate::support::tree(size);
        let stored = Stored::new(&t);
        check_size(&t, &stored, size, index, old);
    }
}
