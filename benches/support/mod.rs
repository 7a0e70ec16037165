//! Helpers shared by the bench files (each includes this module with `#[path]`; with
//! `autobenches = false` cargo does not take it for a bench of its own).

// Each bench uses the subset it needs.
#![allow(dead_code)]

use std::hint::black_box;
use std::time::Instant;

use criterion::{BenchmarkId, Criterion, Throughput};

/// One SHA-256 compression of one block: the limit unit every ratio is measured against.
pub(crate) fn compress_one_block(state: &mut [u32; 8], block: &[[u8; 64]; 1]) {
    sha2::block_api::compress256(state, black_box(block));
}

/// The criterion group `group` timing [`compress_one_block`] from a fresh state per call (the
/// isolated, independent shape of a leaf hash).
pub(crate) fn compression(c: &mut Criterion, group: &str) {
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Bytes(64));
    let block = [[0x5au8; 64]];
    g.bench_function(BenchmarkId::from_parameter("1 block"), |b| {
        b.iter(|| {
            let mut state = black_box([0x6a09_e667u32; 8]);
            compress_one_block(&mut state, &block);
            black_box(state)
        });
    });
    g.finish();
}

/// The SHA-256 initial chaining value, the fresh state every hash in a Merkle tree starts from.
pub(crate) use lcm_crypto::SHA256_IV as IV;

/// Distinct blocks for the limit loops, few enough to stay in L1 (as the tree's own blocks,
/// written just before they are compressed, do).
fn blocks<const K: usize>(ring: usize) -> Vec<[[u8; 64]; K]> {
    (0..ring)
        .map(|i| {
            let mut out = [[0u8; 64]; K];
            for (k, block) in out.iter_mut().enumerate() {
                for (j, byte) in block.iter_mut().enumerate() {
                    // The low byte: a pattern that differs per block.
                    *byte = (i * 131 + k * 31 + j * 7).to_le_bytes()[0];
                }
            }
            out
        })
        .collect()
}

/// The raw work of an RFC 9162 root over `n` 32-byte leaves, with the tree's own call shapes
/// and nothing else: `n` calls of `compress256` on one block (a leaf: `0x00 || leaf ||
/// padding`) and `n - 1` calls on two blocks (a node: `0x01 || left || right || padding`),
/// each from a fresh IV, `3n - 2` compressions in all. No block is built and no digest stored.
pub(crate) fn tree_call_shapes(n: usize) {
    let leaves = blocks::<1>(64);
    let nodes = blocks::<2>(64);
    for i in 0..n {
        let mut state = IV;
        sha2::block_api::compress256(&mut state, black_box(&leaves[i % 64]));
        black_box(state);
    }
    for i in 0..n.saturating_sub(1) {
        let mut state = IV;
        sha2::block_api::compress256(&mut state, black_box(&nodes[i % 64]));
        black_box(state);
    }
}

/// `count` compressions with no per-call cost: `compress256` over 64 blocks at a time (the
/// last call takes the rest), chaining one state. One dependent chain: each compression waits
/// for the previous one (the latency of the compression function, not its throughput).
pub(crate) fn compressions_in_bulk(count: usize) {
    let ring: Vec<[u8; 64]> = blocks::<1>(64).into_iter().map(|[b]| b).collect();
    let mut state = IV;
    let mut left = count;
    while left > 0 {
        let take = left.min(ring.len());
        sha2::block_api::compress256(&mut state, black_box(&ring[..take]));
        left -= take;
    }
    black_box(state);
}

/// A rayon pool of `threads` threads.
pub(crate) fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a rayon pool")
}

/// Median seconds of `runs` calls of `f`.
pub(crate) fn median_secs(runs: usize, mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[runs / 2]
}

/// The median, minimum and maximum of each of several functions, run interleaved: round `r`
/// calls every function once, in order, so that a change of machine load during the
/// measurement falls on all of them alike. Returns `(median, min, max)` seconds per function.
pub(crate) fn interleaved_secs(rounds: usize, fs: &mut [&mut dyn FnMut()]) -> Vec<(f64, f64, f64)> {
    let mut times = vec![Vec::with_capacity(rounds); fs.len()];
    for _ in 0..rounds {
        for (f, t) in fs.iter_mut().zip(&mut times) {
            let start = Instant::now();
            f();
            t.push(start.elapsed().as_secs_f64());
        }
    }
    times
        .into_iter()
        .map(|mut t| {
            t.sort_by(f64::total_cmp);
            (t[t.len() / 2], t[0], t[t.len() - 1])
        })
        .collect()
}
