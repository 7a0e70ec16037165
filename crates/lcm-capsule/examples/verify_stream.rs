//! `verify_bundle_reader` against its limit, in one process: the raw recompute of the same
//! digests and roots over the same receipts already in memory.
//!
//! ```sh
//! cargo run --release -p lcm-capsule --example verify_stream -- b.json k.pub [ROUNDS]
//! ```
//!
//! The bundle file (`lcm export`'s) is read into memory once. Each round times, interleaved:
//!
//! - (a) the limit: every receipt's digest recomputed from its canonical bytes
//!   (`ReceiptEncoder::digest`, what the verifier hashes), each batch group's RFC 9162 root and
//!   the root over every receipt digest (`MerkleTree::from_leaves_with`), over the receipts of
//!   the bundle parsed beforehand (no JSON in the loop);
//! - (b) `verify_bundle_reader` over the file's bytes (from memory, no I/O): the JSON scan and
//!   parse of every record, every check of the report, the signature;
//! - (c) `verify_bundle` over the parsed bundle (the in-memory verifier, no parse), for
//!   reference.
//!
//! It prints the medians and the ratios b/a and c/a.

#![allow(clippy::print_stdout)] // The figures are the output.

use std::hint::black_box;
use std::time::{Duration, Instant};

use lcm_capsule::{Bundle, PolicyRequirements, verify_bundle, verify_bundle_reader};
use lcm_crypto::merkle::MerkleTree;
use lcm_crypto::{Digest, VerifyingKey};
use lcm_model::records::ReceiptEncoder;

/// (a): every receipt digest, every group's root, the root over every digest.
fn recompute(bundle: &Bundle) -> Result<(Digest, Vec<Digest>), lcm_model::Error> {
    let policy = &bundle.header.policy;
    let mut encoder = ReceiptEncoder::new(policy);
    let mut all = Vec::new();
    let mut roots = Vec::new();
    for group in &bundle.lifecycle.inference.batches {
        let start = all.len();
        for r in &group.receipts {
            all.push(encoder.digest(&r.record)?);
        }
        let leaves = all[start..].iter().map(Digest::as_bytes);
        roots.push(MerkleTree::from_leaves_with(policy.hash_algorithm, leaves).root());
    }
    let root =
        MerkleTree::from_leaves_with(policy.hash_algorithm, all.iter().map(Digest::as_bytes))
            .root();
    Ok((root, roots))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(path), Some(key)) = (args.get(1), args.get(2)) else {
        return Err("usage: verify_stream BUNDLE PUBKEY [ROUNDS]".into());
    };
    let rounds: usize = args.get(3).map_or(Ok(3), |r| r.parse())?;
    let key: VerifyingKey = std::fs::read_to_string(key)?.trim().parse()?;
    let bytes = std::fs::read(path)?;
    let bundle = Bundle::from_json(std::str::from_utf8(&bytes)?)?;
    let n = bundle.lifecycle.inference.receipts().count();
    let req = PolicyRequirements::default();
    let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        let t = Instant::now();
        black_box(recompute(&bundle)?);
        a.push(t.elapsed());
        let t = Instant::now();
        black_box(verify_bundle_reader(
            std::io::Cursor::new(&bytes),
            &key,
            &req,
        )?);
        b.push(t.elapsed());
        let t = Instant::now();
        black_box(verify_bundle(&bundle, &key, &req)?);
        c.push(t.elapsed());
    }
    let (a, b, c) = (median(a), median(b), median(c));
    println!(
        "{n} receipts, {} bytes, medians of {rounds}: (a) recompute digests and roots {a:?}; \
         (b) verify_bundle_reader {b:?} = {:.2}x (a); (c) verify_bundle in memory {c:?} = \
         {:.2}x (a)",
        bytes.len(),
        b.as_secs_f64() / a.as_secs_f64(),
        c.as_secs_f64() / a.as_secs_f64()
    );
    Ok(())
}
