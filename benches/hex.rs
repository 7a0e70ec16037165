//! Hex decoding benchmarks: `Digest::from_hex` on one 64-character digest (issue 12 sets the
//! target "≤ 40 ns per 64-character digest, strictness kept"), a rejected digest (the error
//! path) and `hex::decode` of 1 KiB.
//!
//! Run with `cargo bench --bench hex`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use lcm_crypto::{Digest, HashAlgorithm, hash, hex};

/// The decoder `Digest::from_hex` used before issue 12 (a `match` per nibble with an early
/// return), kept here as the baseline: on a loaded machine the ratio says more than the
/// absolute figure.
fn match_per_nibble(s: &str) -> Option<[u8; 32]> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    let b = s.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = (nibble(b[2 * i])? << 4) | nibble(b[2 * i + 1])?;
    }
    Some(out)
}

fn digest_hex(c: &mut Criterion) {
    let mut g = c.benchmark_group("hex_decode");
    let text = hash(HashAlgorithm::Sha256, b"hex bench").to_hex();
    g.throughput(Throughput::Bytes(64));
    g.bench_function("Digest::from_hex 64 chars", |b| {
        b.iter(|| Digest::from_hex(black_box(&text)));
    });
    g.bench_function("baseline: match per nibble 64 chars", |b| {
        b.iter(|| match_per_nibble(black_box(&text)));
    });
    let mut upper = text.clone();
    upper.replace_range(60.., "ABCD");
    g.bench_function("Digest::from_hex rejected (uppercase at 60)", |b| {
        b.iter(|| Digest::from_hex(black_box(&upper)));
    });
    let long = hex::encode(&[0x5a; 512]);
    g.throughput(Throughput::Bytes(1024));
    g.bench_with_input(BenchmarkId::from_parameter(1024), &long, |b, long| {
        b.iter(|| hex::decode(black_box(long)));
    });
    g.finish();
}

criterion_group!(benches, digest_hex);
criterion_main!(benches);
