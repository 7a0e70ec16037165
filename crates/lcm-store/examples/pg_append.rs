//! Measures the raw append rate of the `PostgreSQL` backend's `append_receipts` against its
//! limit, for docs/PERFORMANCE.md: the same multi-row `INSERT … SELECT … FROM unnest(…)` of
//! the same receipts, in transactions of the same size, into a copy of the receipts table
//! (`LIKE receipts INCLUDING ALL`: the same keys and indexes) on the same connection, with
//! nothing of lcm around it (no chain lock, head read, log tiles or log size; the request id
//! is extracted from the JSON as the backend does).
//!
//! `cargo run --release -p lcm-store --features postgres --example pg_append -- URL [N] [BATCH] [ROUNDS]`
//!
//! N receipts (default 100,000) in transactions of BATCH (default 1,000); the two are run
//! ROUNDS times (default 3) interleaved, each round into a fresh schema that is dropped
//! afterwards; each round and the medians are printed (the ratio is the median of the
//! rounds' time ratios, each of a raw run and the lcm run right after it). Both commit with
//! `synchronous_commit = on`: every transaction is durable when it returns.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::time::Instant;

use lcm_crypto::Digest;
use lcm_model::Policy;
use lcm_store::StoredReceipt;

/// A receipt of realistic size (about 700 bytes of JSON, as `lcm infer` makes).
fn receipt(sequence: u64) -> StoredReceipt {
    let mut d = [0u8; 32];
    d[..8].copy_from_slice(&sequence.to_be_bytes());
    let digest = lcm_crypto::hash(lcm_crypto::HashAlgorithm::Sha256, &d);
    let json = format!(
        "{{\"deployment_anchor\":\"{digest}\",\"explanation_digests\":[],\"input_commitment\":\
         {{\"metadata\":{{}},\"plaintext\":null,\"scheme\":\"salted\",\"value\":\"{digest}\"}},\
         \"model_anchor\":\"{digest}\",\"output_commitment\":{{\"metadata\":{{}},\"plaintext\":\
         null,\"scheme\":\"salted\",\"value\":\"{digest}\"}},\"prev_receipt\":\"{digest}\",\
         \"receipt_id\":\"inf_{sequence:06}\",\"request_id\":\"req_{sequence:06}\",\"sequence\":\
         {sequence},\"timestamp\":\"2026-12-06T23:15:50.275534Z\"}}"
    );
    StoredReceipt {
        sequence,
        receipt_id: format!("inf_{sequence:06}"),
        digest: Digest::from_bytes(*digest.as_bytes()),
        timestamp: 1_765_000_000_000_000,
        json,
    }
}

/// A fresh schema on the server at `url`, and the URL that puts a store in it.
fn fresh_schema(url: &str, round: usize) -> Result<(String, String), Box<dyn std::error::Error>> {
    let schema = format!("lcm_bench_{}_{round}", std::process::id());
    let mut client = postgres::Client::connect(url, postgres::NoTls)?;
    client.batch_execute(&format!(
        "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
    ))?;
    let sep = if url.contains('?') { '&' } else { '?' };
    Ok((
        schema.clone(),
        format!("{url}{sep}options=-csearch_path%3D{schema}"),
    ))
}

fn drop_schema(url: &str, schema: &str) -> Result<(), Box<dyn std::error::Error>> {
    let mut client = postgres::Client::connect(url, postgres::NoTls)?;
    client.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))?;
    Ok(())
}

/// Seconds to append `receipts` through `append_receipts`, `batch` per transaction.
fn lcm_run(
    store_url: &str,
    receipts: &[StoredReceipt],
    batch: usize,
) -> Result<f64, Box<dyn std::error::Error>> {
    let (mut store, _) = lcm_store::init(&PathBuf::from(store_url), &Policy::default())?;
    store.open_chain("bench")?;
    let t = Instant::now();
    for chunk in receipts.chunks(batch) {
        store.append_receipts("bench", &mut |_| Ok(chunk.to_vec()))?;
    }
    let s = t.elapsed().as_secs_f64();
    if store.log_size("bench")? != receipts.len() as u64 {
        return Err("the log does not hold every receipt".into());
    }
    Ok(s)
}

/// The request id the backend copies into its own column.
#[derive(serde::Deserialize)]
struct RequestOnly {
    request_id: Option<String>,
}

/// Seconds for the same `INSERT`s into a copy of the receipts table, without lcm.
fn raw_run(
    store_url: &str,
    receipts: &[StoredReceipt],
    batch: usize,
) -> Result<f64, Box<dyn std::error::Error>> {
    // The store's schema (created by init, so the copy has the same definition).
    drop(lcm_store::init(
        &PathBuf::from(store_url),
        &Policy::default(),
    )?);
    let mut client = postgres::Client::connect(store_url, postgres::NoTls)?;
    client.batch_execute(
        "SET synchronous_commit = on; CREATE TABLE raw_receipts (LIKE receipts INCLUDING ALL)",
    )?;
    let stmt = client.prepare(
        "INSERT INTO raw_receipts \
         (chain_id, sequence, receipt_id, digest, timestamp, json, request_id) \
         SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::bytea[], $5::bigint[], \
         $6::text[], $7::text[])",
    )?;
    let t = Instant::now();
    for chunk in receipts.chunks(batch) {
        let sequences = chunk
            .iter()
            .map(|r| i64::try_from(r.sequence))
            .collect::<Result<Vec<_>, _>>()?;
        let ids: Vec<&str> = chunk.iter().map(|r| r.receipt_id.as_str()).collect();
        let digests: Vec<&[u8]> = chunk
            .iter()
            .map(|r| r.digest.as_bytes().as_slice())
            .collect();
        let times: Vec<i64> = chunk.iter().map(|r| r.timestamp).collect();
        let jsons: Vec<&str> = chunk.iter().map(|r| r.json.as_str()).collect();
        let requests = chunk
            .iter()
            .map(|r| Ok(serde_json::from_str::<RequestOnly>(&r.json)?.request_id))
            .collect::<Result<Vec<_>, serde_json::Error>>()?;
        let mut tx = client.transaction()?;
        tx.execute(
            &stmt,
            &[&1i64, &sequences, &ids, &digests, &times, &jsons, &requests],
        )?;
        tx.commit()?;
    }
    Ok(t.elapsed().as_secs_f64())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .ok_or("usage: pg_append URL [N] [BATCH] [ROUNDS]")?;
    let n: u64 = args.next().map_or(Ok(100_000), |s| s.parse())?;
    let batch: usize = args.next().map_or(Ok(1_000), |s| s.parse())?;
    let rounds: usize = args.next().map_or(Ok(3), |s| s.parse())?;
    let receipts: Vec<StoredReceipt> = (0..n).map(receipt).collect();
    // Receipt counts as f64 for a rate; exactness is not needed.
    #[allow(clippy::cast_precision_loss)]
    let rate = |s: f64| n as f64 / s;
    let (mut raws, mut lcms, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        // Interleaved: raw, lcm, raw, lcm, ... so that load from others hits both alike.
        let (schema, store_url) = fresh_schema(&url, 2 * round)?;
        let raw = raw_run(&store_url, &receipts, batch)?;
        drop_schema(&url, &schema)?;
        let (schema, store_url) = fresh_schema(&url, 2 * round + 1)?;
        let lcm = lcm_run(&store_url, &receipts, batch)?;
        drop_schema(&url, &schema)?;
        eprintln!(
            "round {round}: raw INSERT {:.0} receipts/s, append_receipts {:.0} receipts/s, \
             time ratio {:.2}",
            rate(raw),
            rate(lcm),
            lcm / raw
        );
        raws.push(raw);
        lcms.push(lcm);
        ratios.push(lcm / raw);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    };
    let (raw, lcm) = (median(&mut raws), median(&mut lcms));
    println!(
        "{n} receipts in transactions of {batch}, medians of {rounds} interleaved rounds: \
         raw INSERT (limit) {:.0}/s, append_receipts {:.0}/s; median per-round time ratio \
         append_receipts/raw {:.2}",
        rate(raw),
        rate(lcm),
        median(&mut ratios)
    );
    Ok(())
}
