//! Measures `lcm fingerprint`'s streaming file hash against the raw hash of the same bytes
//! already in memory (the hash's own throughput), and the whole `Manifest::build` the command
//! runs for a file, for docs/PERFORMANCE.md.
//!
//! `cargo run --release -p lcm-store --example hash_baseline -- FILE [sha256|blake3]`
//!
//! The file should be in the page cache (run it twice, or `cat FILE > /dev/null` first).
//! Each measurement is the best of five runs.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::Instant;

use lcm_crypto::HashAlgorithm;

fn best_of_5(mut f: impl FnMut()) -> f64 {
    (0..5)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: hash_baseline FILE [sha256|blake3]")?;
    let algorithm: HashAlgorithm = args.next().as_deref().unwrap_or("sha256").parse()?;
    let bytes = std::fs::read(&path)?;
    // Bytes count as f64 for a rate; exactness is not needed.
    #[allow(clippy::cast_precision_loss)]
    let gb = bytes.len() as f64 / 1e9;
    let mut raw = lcm_crypto::Digest::from_bytes([0; 32]);
    let raw_s = best_of_5(|| raw = lcm_crypto::hash(algorithm, std::hint::black_box(&bytes)));
    let mut streamed = Ok(raw);
    let stream_s = best_of_5(|| {
        streamed =
            lcm_store::fingerprint::hash_file(algorithm, std::path::Path::new(&path), &mut |_| {});
    });
    let streamed = streamed?;
    if streamed != raw {
        return Err("the streamed digest differs from the one-shot digest".into());
    }
    // The whole of what `lcm fingerprint FILE` computes since manifests (issue 15).
    let mut manifest = None;
    let manifest_s = best_of_5(|| {
        manifest = Some(lcm_store::fingerprint::Manifest::build(
            algorithm,
            std::path::Path::new(&path),
            &mut |_, _| {},
        ));
    });
    if manifest.ok_or("no run")??.digest != raw {
        return Err("the manifest's digest differs from the one-shot digest".into());
    }
    println!(
        "{algorithm}: {} bytes; raw hash in memory {:.3} GB/s; lcm fingerprint (file, streamed) {:.3} GB/s; ratio {:.1} %; Manifest::build {:.3} GB/s; ratio {:.1} %",
        bytes.len(),
        gb / raw_s,
        gb / stream_s,
        100.0 * raw_s / stream_s,
        gb / manifest_s,
        100.0 * raw_s / manifest_s
    );
    Ok(())
}
