//! Primitive benchmarks: the SHA-256 compression function (the unit every other number is
//! compared with), SHA-256 and BLAKE3 at several sizes, HMAC (`MacKey` and the `hmac` crate
//! called directly), HMAC commitments, PBKDF2 at the 100,000-iteration floor (`MasterKey` and
//! the `pbkdf2` crate called directly), HKDF sub-keys, and Ed25519.
//!
//! Run with `cargo bench --bench primitives`; issue 2 sets the targets "HMAC commitment of
//! 32 bytes ≤ 250 ns" and "PBKDF2 100k within 1.3x of ~9 ms".
//!
//! The `pbkdf2_summary` group measures PBKDF2 against its limit in the same process,
//! interleaved (derive, limit, derive, limit, ...): the limit is the same `2 x iterations`
//! SHA-256 compressions done by the raw `compress256` in a tight loop, each block built from
//! the previous compression's output as PBKDF2's are (an iteration cannot start before the
//! last one ends), with the HMAC pad states given. The same compressions in bulk (64 blocks
//! per call, no data dependency between blocks) are printed as a floor no PBKDF2 can reach.
//!
//! The `commitment_summary` group does the same for the HMAC-SHA256 commitment of 32 bytes:
//! commit and verify against their five and four compressions by the raw `compress256`, each
//! block built from the previous compression's output as the commitment's are.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hmac::{KeyInit, Mac};
use lcm_crypto::{
    CommitmentScheme, Committer, HashAlgorithm, MacKey, MasterKey, Pbkdf2Params, Salt, Seed,
    SigningKey, hash,
};
use std::io::Write as _;

#[path = "support/mod.rs"]
mod support;

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
    g.bench_function("HMAC-SHA256 (MacKey)", |b| {
        b.iter(|| ours.mac(black_box(&msg)));
    });
    let keyed = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key_bytes).expect("any length");
    g.bench_function(
        "HMAC-SHA256 hmac crate called directly (cloned keyed state)",
        |b| {
            b.iter(|| {
                let mut m = keyed.clone();
                m.update(black_box(&msg));
                m.finalize().into_bytes()
            });
        },
    );
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
    g.bench_function("MasterKey::derive", |b| {
        b.iter(|| MasterKey::derive(black_box(b"password"), black_box(&salt), params));
    });
    g.bench_function("pbkdf2 crate called directly", |b| {
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

/// PBKDF2's limit: `2 x iterations` one-block compressions from given pad states, each block
/// holding the previous compression's output (the inner hash takes `U`, the outer hash the
/// inner digest), as in PBKDF2-HMAC-SHA256 with a 32-byte `U`. Only the XOR of the `U`s and
/// the first iteration's salt block are left out.
fn pbkdf2_limit(iterations: u32) -> [u32; 8] {
    let inner_pad = black_box([0x1111_1111u32; 8]);
    let outer_pad = black_box([0x2222_2222u32; 8]);
    let mut block = [[0u8; 64]];
    block[0][32] = 0x80;
    block[0][56..].copy_from_slice(&(96u64 * 8).to_be_bytes());
    let mut u = [0u32; 8];
    for _ in 0..iterations {
        for (o, w) in block[0].chunks_exact_mut(4).zip(&u) {
            o.copy_from_slice(&w.to_be_bytes());
        }
        let mut inner = inner_pad;
        sha2::block_api::compress256(&mut inner, &block);
        for (o, w) in block[0].chunks_exact_mut(4).zip(&inner) {
            o.copy_from_slice(&w.to_be_bytes());
        }
        u = outer_pad;
        sha2::block_api::compress256(&mut u, &block);
    }
    u
}

/// PBKDF2-HMAC-SHA256 at 100,000 iterations against its limit, interleaved in this process.
fn pbkdf2_summary(_: &mut Criterion) {
    const ROUNDS: usize = 15;
    const ITERATIONS: u32 = 100_000;
    let salt = Salt::from_bytes([1; 16]);
    let params = Pbkdf2Params::new(ITERATIONS).expect("the floor is accepted");
    let mut derive = || {
        black_box(MasterKey::derive(black_box(b"password"), &salt, params).expect("non-empty"));
    };
    let mut crate_direct = || {
        let mut out = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(b"password", salt.as_bytes(), ITERATIONS, &mut out);
        black_box(out);
    };
    let mut limit = || {
        black_box(pbkdf2_limit(black_box(ITERATIONS)));
    };
    let compressions = 2 * usize::try_from(ITERATIONS).unwrap_or(usize::MAX);
    let mut bulk = || support::compressions_in_bulk(compressions);
    let t = support::interleaved_secs(
        ROUNDS,
        &mut [&mut derive, &mut crate_direct, &mut limit, &mut bulk],
    );
    let ms = |(median, min, max): (f64, f64, f64)| {
        format!(
            "{:.2} ms (min {:.2}, max {:.2})",
            median * 1e3,
            min * 1e3,
            max * 1e3
        )
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "pbkdf2_summary: 100k iterations, {ROUNDS} interleaved rounds, medians:\n\
         pbkdf2_summary:   MasterKey::derive                    {}\n\
         pbkdf2_summary:   pbkdf2 crate called directly          {}\n\
         pbkdf2_summary:   limit: 200k dependent compressions    {} = {:.1} ns each\n\
         pbkdf2_summary:   floor: 200k compressions in bulk      {} = {:.1} ns each\n\
         pbkdf2_summary: MasterKey::derive / limit = {:.2}x; pbkdf2 crate / limit = {:.2}x; \
         MasterKey::derive / floor = {:.2}x",
        ms(t[0]),
        ms(t[1]),
        ms(t[2]),
        t[2].0 * 1e9 / compressions as f64,
        ms(t[3]),
        t[3].0 * 1e9 / compressions as f64,
        t[0].0 / t[2].0,
        t[1].0 / t[2].0,
        t[0].0 / t[3].0,
    );
}

/// The compressions of `n` HMAC-SHA256 commitments of 32 bytes, by the raw `compress256`
/// and nothing else. Per commitment: the per-commitment secret `r` (one block after the
/// committer's precomputed state, holding the label length and the nonce; only with
/// `derive_r`, as in a commit: a verify is given `r`), the key schedule of `r` (the ipad and
/// the opad block, each from the IV, with `r` written into them), the inner block
/// (`"lcm commitment hmac" || data || padding`, from the ipad state) and the outer block (the
/// inner digest and padding, from the opad state): five compressions for a commit, four for a
/// verify, each block holding what the compression before it produced, as in the commitment.
fn hmac_commitment_limit(n: u64, derive_r: bool) -> [u32; 8] {
    let prf = black_box([0x1111_1111u32; 8]);
    let mut nonce_block = [[0u8; 64]];
    nonce_block[0][16] = 0x80;
    nonce_block[0][56..].copy_from_slice(&((64u64 + 16) * 8).to_be_bytes());
    let mut ipad = [[0x36u8; 64]];
    let mut opad = [[0x5cu8; 64]];
    let mut inner_block = [[0u8; 64]];
    inner_block[0][..19].copy_from_slice(b"lcm commitment hmac");
    inner_block[0][19..51].copy_from_slice(&input(32));
    inner_block[0][51] = 0x80;
    inner_block[0][56..].copy_from_slice(&((64u64 + 51) * 8).to_be_bytes());
    let inner_block = black_box(inner_block);
    let mut outer_block = [[0u8; 64]];
    outer_block[0][32] = 0x80;
    outer_block[0][56..].copy_from_slice(&((64u64 + 32) * 8).to_be_bytes());
    let given_r = [0x2222_2222u32; 8];
    let mut tag = [0u32; 8];
    for i in 0..n {
        let r = if derive_r {
            nonce_block[0][8..16].copy_from_slice(&i.to_be_bytes());
            let mut r = prf;
            sha2::block_api::compress256(&mut r, &nonce_block);
            r
        } else {
            black_box(given_r)
        };
        for ((ip, op), w) in ipad[0]
            .chunks_exact_mut(4)
            .zip(opad[0].chunks_exact_mut(4))
            .zip(&r)
        {
            ip.copy_from_slice(&(w ^ 0x3636_3636).to_be_bytes());
            op.copy_from_slice(&(w ^ 0x5c5c_5c5c).to_be_bytes());
        }
        let mut inner = support::IV;
        sha2::block_api::compress256(&mut inner, &ipad);
        let mut outer = support::IV;
        sha2::block_api::compress256(&mut outer, &opad);
        sha2::block_api::compress256(&mut inner, &inner_block);
        for (o, w) in outer_block[0].chunks_exact_mut(4).zip(&inner) {
            o.copy_from_slice(&w.to_be_bytes());
        }
        sha2::block_api::compress256(&mut outer, &outer_block);
        tag = black_box(outer);
    }
    tag
}

/// The HMAC-SHA256 commitment of 32 bytes (commit with its opening derived, and verify)
/// against the same compressions by the raw primitive ([`hmac_commitment_limit`]),
/// interleaved in this process.
fn commitment_summary(_: &mut Criterion) {
    const ROUNDS: usize = 15;
    const N: u64 = 100_000;
    let data = input(32);
    let committer = Committer::from_seed(
        CommitmentScheme::Hmac,
        HashAlgorithm::Sha256,
        &Seed::from_bytes([7; 32]),
    );
    let (commitment, opening) = committer.commit(1, &data);
    let mut commit = || {
        for nonce in 0..N {
            black_box(committer.commit(black_box(nonce), black_box(&data)));
        }
    };
    let mut commit_limit = || {
        black_box(hmac_commitment_limit(black_box(N), true));
    };
    let mut verify = || {
        for _ in 0..N {
            let _ = black_box(black_box(&commitment).verify(black_box(&data), &opening));
        }
    };
    let mut verify_limit = || {
        black_box(hmac_commitment_limit(black_box(N), false));
    };
    let t = support::interleaved_secs(
        ROUNDS,
        &mut [
            &mut commit,
            &mut commit_limit,
            &mut verify,
            &mut verify_limit,
        ],
    );
    let per = |(median, min, max): (f64, f64, f64)| {
        let n = N as f64;
        format!(
            "{:.1} ns (min {:.1}, max {:.1})",
            median * 1e9 / n,
            min * 1e9 / n,
            max * 1e9 / n
        )
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "commitment_summary: HMAC-SHA256 commitment of 32 B, {ROUNDS} interleaved rounds of {N}, \
         medians per commitment:\n\
         commitment_summary:   commit (opening derived)           {}\n\
         commitment_summary:   limit: its 5 compressions          {} = {:.1} ns each\n\
         commitment_summary:   verify                             {}\n\
         commitment_summary:   limit: its 4 compressions          {} = {:.1} ns each\n\
         commitment_summary: commit / limit = {:.2}x, verify / limit = {:.2}x \
         (target: commit <= 250 ns)",
        per(t[0]),
        per(t[1]),
        t[1].0 * 1e9 / (5.0 * N as f64),
        per(t[2]),
        per(t[3]),
        t[3].0 * 1e9 / (4.0 * N as f64),
        t[0].0 / t[1].0,
        t[2].0 / t[3].0,
    );
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
    targets = pbkdf2_summary, commitment_summary, compression, hashes, macs, commitments, kdf,
        signatures
}
criterion_main!(benches);
