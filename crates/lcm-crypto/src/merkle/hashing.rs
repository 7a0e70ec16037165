//! The two RFC 9162 hash shapes (leaf and interior node), with a fast SHA-256 path on the bare
//! compression function.
//!
//! SHA-256 leaf and node inputs are tiny (33 and 65 bytes for 32-byte leaves), so the cost of
//! the streaming `Digest` API (buffering, length counting, finalization) is a large fraction of
//! the work. Here the padded blocks are built by hand and handed to
//! [`sha2::block_api::compress256`]: a leaf of up to 54 bytes is one block, a node is two blocks
//! in one call. The result is bit-for-bit SHA-256 (the tests compare against [`crate::hash`]).

use sha2::Digest as _;
use sha2::block_api::compress256;

use crate::HashAlgorithm;

/// RFC 9162 / RFC 6962 domain-separation byte in front of every leaf.
pub const LEAF_PREFIX: u8 = 0x00;
/// RFC 9162 / RFC 6962 domain-separation byte in front of every interior node.
pub const NODE_PREFIX: u8 = 0x01;

/// A digest as raw bytes: the internal storage type of the tree levels (it keeps zeroed
/// allocation cheap; [`crate::Digest`] is used at the API boundary).
pub(crate) type Node = [u8; 32];

/// SHA-256 initial hash value (FIPS 180-4 §5.3.3).
const IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

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

/// `SHA-256(0x00 || leaf)` for a 32-byte leaf: exactly one compression.
#[inline]
fn sha256_leaf32(leaf: &[u8; 32]) -> Node {
    let mut block = [0u8; 64];
    block[0] = LEAF_PREFIX;
    block[1..33].copy_from_slice(leaf);
    block[33] = 0x80;
    // Message length 33 bytes = 264 bits.
    block[62] = 0x01;
    block[63] = 0x08;
    let mut state = IV;
    compress256(&mut state, std::slice::from_ref(&block));
    state_bytes(&state)
}

/// `SHA-256(0x00 || leaf)` for any leaf.
fn sha256_leaf(leaf: &[u8]) -> Node {
    if let Ok(leaf32) = <&[u8; 32]>::try_from(leaf) {
        return sha256_leaf32(leaf32);
    }
    let len = leaf.len();
    if len <= ONE_BLOCK_LEAF {
        let mut block = [0u8; 64];
        block[0] = LEAF_PREFIX;
        block[1..=len].copy_from_slice(leaf);
        block[len + 1] = 0x80;
        // len + 1 <= 55, so the bit count fits easily.
        let bits = ((len as u64) + 1) * 8;
        block[56..].copy_from_slice(&bits.to_be_bytes());
        let mut state = IV;
        compress256(&mut state, std::slice::from_ref(&block));
        return state_bytes(&state);
    }
    let mut h = sha2::Sha256::new();
    h.update([LEAF_PREFIX]);
    h.update(leaf);
    h.finalize().into()
}

/// `SHA-256(0x01 || left || right)`: two blocks in one compression call.
#[inline]
fn sha256_node(left: &Node, right: &Node) -> Node {
    let mut blocks = [[0u8; 64]; 2];
    blocks[0][0] = NODE_PREFIX;
    blocks[0][1..33].copy_from_slice(left);
    blocks[0][33..64].copy_from_slice(&right[..31]);
    blocks[1][0] = right[31];
    blocks[1][1] = 0x80;
    // Message length 65 bytes = 520 bits.
    blocks[1][62] = 0x02;
    blocks[1][63] = 0x08;
    let mut state = IV;
    compress256(&mut state, &blocks);
    state_bytes(&state)
}

fn blake3_leaf(leaf: &[u8]) -> Node {
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

/// Computes one tree level from the one below: `dst[i] = node(src[2i], src[2i+1])`, and a
/// lone last node of an odd-length `src` is promoted unchanged (no duplication). `dst` must
/// have `src.len().div_ceil(2)` entries.
pub(crate) fn level_into(algorithm: HashAlgorithm, src: &[Node], dst: &mut [Node]) {
    let pairs = src.chunks_exact(2);
    let odd = pairs.remainder().first().copied();
    // `pairs` goes first in the zips below, so that the slot for the odd node is not consumed.
    let mut out = dst.iter_mut();
    match algorithm {
        HashAlgorithm::Sha256 => {
            for (pair, d) in pairs.zip(out.by_ref()) {
                *d = sha256_node(&pair[0], &pair[1]);
            }
        }
        HashAlgorithm::Blake3 => {
            for (pair, d) in pairs.zip(out.by_ref()) {
                *d = blake3_node(&pair[0], &pair[1]);
            }
        }
    }
    if let (Some(d), Some(last)) = (out.next(), odd) {
        *d = last;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash;

    fn slow_leaf(alg: HashAlgorithm, data: &[u8]) -> [u8; 32] {
        let mut v = vec![LEAF_PREFIX];
        v.extend_from_slice(data);
        hash(alg, &v).to_bytes()
    }

    #[test]
    fn fast_paths_equal_the_plain_hash() {
        for alg in [HashAlgorithm::Sha256, HashAlgorithm::Blake3] {
            for len in [0usize, 1, 31, 32, 33, 53, 54, 55, 56, 63, 64, 65, 119, 200] {
                let data: Vec<u8> = (0..len)
                    .map(|i| u8::try_from((i * 7 + len) % 256).unwrap())
                    .collect();
                assert_eq!(
                    leaf(alg, &data),
                    slow_leaf(alg, &data),
                    "{alg} leaf len {len}"
                );
            }
            let l = [0x5a; 32];
            let mut r = [0xa5; 32];
            r[31] = 0x17;
            let mut v = vec![NODE_PREFIX];
            v.extend_from_slice(&l);
            v.extend_from_slice(&r);
            assert_eq!(node(alg, &l, &r), hash(alg, &v).to_bytes());
        }
    }
}
