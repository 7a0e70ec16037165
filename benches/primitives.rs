//! Primitive benchmarks: the SHA-256 compression function (the unit every other number is
//! compared with), SHA-256 and BLAKE3 at several sizes, HMAC (ours on precomputed pad states
//! and the `hmac` crate), HMAC commitments, PBKDF2 at the 100,000-iteration floor, HKDF
//! sub-keys, and Ed25519.
//!
//! Run with `cargo bench --bench primitives`; issue 2 sets the targets "HMAC commitment of
//! 32 bytes ≤ 250 ns" and "PBKDF2 100k within 1.3x of ~9 ms".

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hmac::{KeyInit, Mac};
use lcm_crypto::{
    CommitmentScheme, Committer, HashAlgorithm, MacKey, MasterKey, Pbkdf2Params, Salt, Seed,
    SigningKey, hash,
};

const SIZES: [usize; 4] = [32, 64, 1024, 1 << 20];

fn input(len: usize) -> Vec<u8> {
    (0..=255u8).cycle().take(len).collect()
}

fn compression(c: &mut Criterion) {
    let mut g = c.benchmark_group("sha256_compress256");
    g.throughput(Throughput::Bytes(64));
    let block = [[0x5au8; 64]];
    let mut state = [0x6a09_e667u32; 8];
    g.bench_function("1 block", |b| {
        b.iter(|| {
            sha2::block_api::compress256(&mut state, black_box(&block));
            black_box(&state);
        });
    });
    g.finish();
}

fn hashes(c: &mut Criterion) {
    for alg in [HashAlgorithm::Sha256, HashAlgorithm::Blake3] {
        let mut g = c.benchmark_group(format!("hash_{}", alg.name()));
        for size in SIZES {
            let data = input(size);
            g.throughput(Throughput::Bytes(u64::try_from(size).unwrap_or(u64::MAX)));
            g.bench_with_input(BenchmarkId::from_parameter(size), &data, |b, data| {
                b.iter(|| hash(alg, black_box(data)));
            });
        }
        g.finish();
    }
}

fn macs(c: &mut Criterion) {
    let mut g = c.benchmark_group("mac_32B");
    g.throughput(Throughput::Bytes(32));
    let msg = input(32);
    let key_bytes = [0x0bu8; 32];
    let ours = MacKey::new(HashAlgorithm::Sha256, &key_bytes).expect("a 32-byte key is valid");
    g.bench_function("HMAC-SHA256 hand-rolled (MacKey)", |b| {
        b.iter(|| ours.mac(black_box(&msg)));
    });
    let keyed = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key_bytes).expect("any length");
    g.bench_function("HMAC-SHA256 hmac crate (cloned keyed state)", |b| {
        b.iter(|| {
            let mut m = keyed.clone();
            m.update(black_box(&msg));
            m.finalize().into_bytes()
        });
    });
    let tag = ours.mac(&msg);
    g.bench_function("HMAC-SHA256 verify (MacKey)", |b| {
        b.iter(|| ours.verify(black_box(&msg), black_box(&tag)));
    });
    let b3 = MacKey::new(HashAlgorithm::Blake3, &key_bytes).expect("a 32-byte key is valid");
    g.bench_function("keyed BLAKE3 (MacKey)", |b| {
        b.iter(|| b3.mac(black_box(&msg)));
    });
    g.bench_function("HMAC-SHA256 key setup (MacKey::new)", |b| {
        b.iter(|| MacKey::new(HashAlgorithm::Sha256, black_box(&key_bytes)));
    });
    g.finish();
}

fn commitments(c: &mut Criterion) {
    let mut g = c.benchmark_group("commitment_32B");
    g.throughput(Throughput::Bytes(32));
    let data = input(32);
    for (scheme, alg) in [
        (CommitmentScheme::Hmac, HashAlgorithm::Sha256),
        (CommitmentScheme::Salted, HashAlgorithm::Sha256),
        (CommitmentScheme::Hmac, HashAlgorithm::Blake3),
        (CommitmentScheme::Salted, HashAlgorithm::Blake3),
    ] {
        let committer = Committer::from_seed(scheme, alg, &Seed::from_bytes([7; 32]));
        let name = format!("{scheme} {alg}");
        let mut nonce = 0u64;
        g.bench_function(format!("{name} commit (with derived opening)"), |b| {
            b.iter(|| {
                nonce = nonce.wrapping_add(1);
                committer.commit(black_box(nonce), black_box(&data))
            });
        });
        let (commitment, opening) = committer.commit(1, &data);
        g.bench_function(format!("{name} verify"), |b| {
            b.iter(|| black_box(&commitment).verify(black_box(&data), black_box(&opening)));
        });
    }
    g.finish();
}

fn kdf(c: &mut Criterion) {
    let mut g = c.benchmark_group("pbkdf2_hmac_sha256_100k");
    g.sample_size(10).measurement_time(Duration::from_secs(4));
    let salt = Salt::from_bytes([1; 16]);
    let params = Pbkdf2Params::new(100_000).expect("the floor is accepted");
    g.bench_function("hand-rolled (MasterKey::derive)", |b| {
        b.iter(|| MasterKey::derive(black_box(b"password"), black_box(&salt), params));
    });
    g.bench_function("pbkdf2 crate", |b| {
        b.iter(|| {
            let mut out = [0u8; 32];
            pbkdf2::pbkdf2_hmac::<sha2::Sha256>(
                black_box(b"password"),
                salt.as_bytes(),
                100_000,
                &mut out,
            );
            out
        });
    });
    g.finish();

    let mut g = c.benchmark_group("hkdf_subkey");
    let master = MasterKey::derive(b"password", &salt, params).expect("a non-empty password");
    g.bench_function("seed (HKDF-Expand 32 B)", |b| {
        b.iter(|| master.seed(black_box("anchors")));
    });
    g.bench_function("HMAC-SHA256 MAC key (expand + key setup)", |b| {
        b.iter(|| master.mac_key(HashAlgorithm::Sha256, black_box("anchors")));
    });
    g.finish();
}

fn signatures(c: &mut Criterion) {
    let mut g = c.benchmark_group("ed25519_32B");
    let key = SigningKey::from_seed(&Seed::from_bytes([3; 32]));
    let public = key.verifying_key();
    let msg = input(32);
    let sig = key.sign(&msg);
    g.bench_function("sign", |b| b.iter(|| key.sign(black_box(&msg))));
    g.bench_function("verify (strict)", |b| {
        b.iter(|| public.verify(black_box(&msg), black_box(&sig)));
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = compression, hashes, macs, commitments, kdf, signatures
}
criterion_main!(benches);
