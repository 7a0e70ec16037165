//! The two RFC 9162 hash shapes (leaf and interior node), with a fast SHA-256 path on the bare
//! compression function.
//!
//! SHA-256 leaf and node inputs are tiny (33 and 65 bytes for 32-byte leaves), so the cost of
//! the streaming `Digest` API (buffering, length counting, finalization) is a large fraction of
//! the work. Here the padded blocks are built by hand and handed to
//! [`sha2::block_api::compress256`]: a leaf of up to 54 bytes is one block, a node is two blocks
//! in one call. The result is bit-for-bit SHA-256 (the tests compare against [`crate::hash`]).
//!
//! # Batches
//!
//! The bulk functions ([`leaves_into`], [`level_into`]) first write the padded blocks of
//! [`BATCH`] independent hashes, then compress them one after the other. Writing a block and
//! compressing it straight away makes the compression's 16-byte loads wait for the byte-wise
//! (unaligned) stores that built the block (a failed store-to-load forward), which also stops
//! the CPU from overlapping one compression with the next. Measured on the project machine
//! (perf.md's kind): a node hash went from ~86 ns to ~60 ns and a leaf hash from ~48 ns to
//! ~31 ns, against ~57 / ~29 ns for compressing a constant block.

use sha2::Digest as _;
use sha2::block_api::compress256;

use crate::HashAlgorithm;
use crate::mac::IV;

/// RFC 9162 / RFC 6962 domain-separation byte in front of every leaf.
pub const LEAF_PREFIX: u8 = 0x00;
/// RFC 9162 / RFC 6962 domain-separation byte in front of every interior node.
pub const NODE_PREFIX: u8 = 0x01;

/// A digest as raw bytes: the internal storage type of the tree levels (it keeps zeroed
/// allocation cheap; [`crate::Digest`] is used at the API boundary).
pub(crate) type Node = [u8; 32];

/// The largest leaf that fits one padded block together with the prefix byte:
/// `1 + len + 1 (0x80) + 8 (bit length) <= 64`.
const ONE_BLOCK_LEAF: usize = 54;

#[inline]
fn state_bytes(state: &[u32; 8]) -> Node {
    let mut out = [0u8; 32];
    for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// Independent hashes whose blocks are written before any of them is compressed (see the
/// module docs). 8 was the best of 4, 8 and 16 on the project machine within noise; the
/// buffers stay at 512 bytes (leaves) and 1 KiB (nodes) of stack.
pub(crate) const BATCH: usize = 8;

/// The padded block of a 32-byte leaf, without the leaf: `0x00 || (32 bytes) || 0x80 || 0...
/// || u64be(264)` (33 bytes = 264 bits).
const LEAF32_TEMPLATE: [u8; 64] = {
    let mut block = [0u8; 64];
    block[0] = LEAF_PREFIX;
    block[33] = 0x80;
    block[62] = 0x01;
    block[63] = 0x08;
    block
};

/// The two padded blocks of a node, without the children: `0x01 || l || r || 0x80 || 0... ||
/// u64be(520)` (65 bytes = 520 bits).
const NODE_TEMPLATE: [[u8; 64]; 2] = {
    let mut blocks = [[0u8; 64]; 2];
    blocks[0][0] = NODE_PREFIX;
    blocks[1][1] = 0x80;
    blocks[1][62] = 0x02;
    blocks[1][63] = 0x08;
    blocks
};

/// Writes the padded one-block form of `0x00 || leaf` into `block` if it fits (`leaf` of at
/// most 54 bytes); returns whether it did.
#[inline]
fn sha256_leaf_block(leaf: &[u8], block: &mut [u8; 64]) -> bool {
    if let Ok(leaf32) = <&[u8; 32]>::try_from(leaf) {
        *block = LEAF32_TEMPLATE;
        block[1..33].copy_from_slice(leaf32);
        return true;
    }
    let len = leaf.len();
    if len > ONE_BLOCK_LEAF {
        return false;
    }
    *block = [0u8; 64];
    block[0] = LEAF_PREFIX;
    block[1..=len].copy_from_slice(leaf);
    block[len + 1] = 0x80;
    // len + 1 <= 55, so the bit count fits easily.
    let bits = ((len as u64) + 1) * 8;
    block[56..].copy_from_slice(&bits.to_be_bytes());
    true
}

/// `SHA-256(0x00 || leaf)` for a leaf too long for one block, with the streaming hasher.
fn sha256_leaf_long(leaf: &[u8]) -> Node {
    let mut h = sha2::Sha256::new();
    h.update([LEAF_PREFIX]);
    h.update(leaf);
    h.finalize().into()
}

#[inline]
fn sha256_compress_one(block: &[u8; 64]) -> Node {
    let mut state = IV;
    compress256(&mut state, std::slice::from_ref(block));
    state_bytes(&state)
}

/// `SHA-256(0x00 || leaf)` for any leaf.
fn sha256_leaf(leaf: &[u8]) -> Node {
    let mut block = [0u8; 64];
    if sha256_leaf_block(leaf, &mut block) {
        sha256_compress_one(&block)
    } else {
        sha256_leaf_long(leaf)
    }
}

#[inline]
fn sha256_node_blocks(left: &Node, right: &Node, blocks: &mut [[u8; 64]; 2]) {
    blocks[0][1..33].copy_from_slice(left);
    blocks[0][33..64].copy_from_slice(&right[..31]);
    blocks[1][0] = right[31];
}

#[inline]
fn sha256_compress_two(blocks: &[[u8; 64]; 2]) -> Node {
    let mut state = IV;
    compress256(&mut state, blocks);
    state_bytes(&state)
}

/// `SHA-256(0x01 || left || right)`: two blocks in one compression call.
#[inline]
fn sha256_node(left: &Node, right: &Node) -> Node {
    let mut blocks = NODE_TEMPLATE;
    sha256_node_blocks(left, right, &mut blocks);
    sha256_compress_two(&blocks)
}

fn blake3_leaf(leaf: &[u8]) -> Node {
    // Short leaves (one BLAKE3 block with the prefix) go through the one-shot function on a
    // stack copy, which skips the incremental hasher's setup.
    if leaf.len() < 64 {
        let mut input = [0u8; 64];
        input[0] = LEAF_PREFIX;
        input[1..=leaf.len()].copy_from_slice(leaf);
        return *blake3::hash(&input[..=leaf.len()]).as_bytes();
    }
    let mut h = blake3::Hasher::new();
    h.update(&[LEAF_PREFIX]);
    h.update(leaf);
    *h.finalize().as_bytes()
}

fn blake3_node(left: &Node, right: &Node) -> Node {
    let mut input = [0u8; 65];
    input[0] = NODE_PREFIX;
    input[1..33].copy_from_slice(left);
    input[33..].copy_from_slice(right);
    *blake3::hash(&input).as_bytes()
}

/// `H(0x00 || leaf)`.
#[inline]
pub(crate) fn leaf(algorithm: HashAlgorithm, leaf: &[u8]) -> Node {
    match algorithm {
        HashAlgorithm::Sha256 => sha256_leaf(leaf),
        HashAlgorithm::Blake3 => blake3_leaf(leaf),
    }
}

/// `H(0x01 || left || right)`.
#[inline]
pub(crate) fn node(algorithm: HashAlgorithm, left: &Node, right: &Node) -> Node {
    match algorithm {
        HashAlgorithm::Sha256 => sha256_node(left, right),
        HashAlgorithm::Blake3 => blake3_node(left, right),
    }
}

/// Hashes leaves from `items` into `dst`, in order, until `dst` is full or `items` ends;
/// returns how many were hashed.
pub(crate) fn leaves_into<T: AsRef<[u8]>>(
    algorithm: HashAlgorithm,
    dst: &mut [Node],
    items: &mut impl Iterator<Item = T>,
) -> usize {
    let mut filled = 0;
    match algorithm {
        HashAlgorithm::Sha256 => {
            let mut blocks = [[0u8; 64]; BATCH];
            let mut short = [false; BATCH];
            for chunk in dst.chunks_mut(BATCH) {
                let mut got = 0;
                // `chunk` goes first, so that no item is taken without a slot for it.
                for ((slot, item), (block, is_short)) in chunk
                    .iter_mut()
                    .zip(items.by_ref())
                    .zip(blocks.iter_mut().zip(&mut short))
                {
                    let leaf = item.as_ref();
                    *is_short = sha256_leaf_block(leaf, block);
                    if !*is_short {
                        *slot = sha256_leaf_long(leaf);
                    }
                    got += 1;
                }
                for ((slot, block), is_short) in chunk.iter_mut().zip(&blocks).zip(short).take(got)
                {
                    if is_short {
                        *slot = sha256_compress_one(block);
                    }
                }
                filled += got;
                if got < chunk.len() {
                    break;
                }
            }
        }
        HashAlgorithm::Blake3 => {
            for (slot, item) in dst.iter_mut().zip(items) {
                *slot = blake3_leaf(item.as_ref());
                filled += 1;
            }
        }
    }
    filled
}

/// Computes one tree level from the one below: `dst[i] = node(src[2i], src[2i+1])`, and a
/// lone last node of an odd-length `src` is promoted unchanged (no duplication). `dst` must
/// have `src.len().div_ceil(2)` entries.
pub(crate) fn level_into(algorithm: HashAlgorithm, src: &[Node], dst: &mut [Node]) {
    let pairs = src.chunks_exact(2);
    let odd = pairs.remainder().first().copied();
    let paired = src.len() / 2;
    let (hashed, rest) = dst.split_at_mut(paired.min(dst.len()));
    match algorithm {
        HashAlgorithm::Sha256 => {
            let mut blocks = [NODE_TEMPLATE; BATCH];
            for (srcs, dsts) in src.chunks(2 * BATCH).zip(hashed.chunks_mut(BATCH)) {
                for (pair, b) in srcs.chunks_exact(2).zip(blocks.iter_mut()) {
                    sha256_node_blocks(&pair[0], &pair[1], b);
                }
                for (d, b) in dsts.iter_mut().zip(&blocks) {
                    *d = sha256_compress_two(b);
                }
            }
        }
        HashAlgorithm::Blake3 => {
            for (pair, d) in pairs.zip(hashed.iter_mut()) {
                *d = blake3_node(&pair[0], &pair[1]);
            }
        }
    }
    if let (Some(d), Some(last)) = (rest.first_mut(), odd) {
        *d = last;
    }
}

#[cfg(test)]
mod tests;
