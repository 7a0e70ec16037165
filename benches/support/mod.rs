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
