//! Lifecycle benchmarks: the SHA-256 compression function (the limit unit), one chained
//! inference receipt (two commitments, the canonical digest, the chain link), receipt creation
//! through the inference manager, and the batch root of 10^6 receipt digests against the plain
//! Merkle root of 10^6 32-byte leaves, batch and streaming.
//!
//! Run with `cargo bench --bench lifecycle`. Issue 3's targets:
//!
//! - one chained receipt ≤ 1.5 µs on one core (limit ~0.85 µs, `research/perf.md` §8);
//! - the batch root over 10^6 receipts within 1.3x of the plain Merkle root of 10^6 leaves
//!   (same hashing work: the leaves are the receipt digests), and the streaming builder's
//!   memory `O(log n)`.
//!
//! The `lifecycle_summary` group measures everything in one process (median of a few runs)
//! and prints the ratios; the criterion groups give the full statistics.

use std::hint::black_box;
use std::io::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use lcm::crypto::merkle::{CompactRange, MerkleTree};
use lcm::crypto::{CommitmentScheme, Digest, HashAlgorithm, Seed, SeededRandom, hash};
use lcm::managers::{
    Context, DeploymentManager, InferenceBatchBuilder, InferenceManager, InferenceRequest,
    PreDeploymentRequest, ReceiptChain, ReceiptFields, ReceiptLink, RootManager,
};
use lcm::model::records::deployment::{BuildArtifact, ComplianceStatus, Sbom};
use lcm::model::{Policy, SystemClock, Timestamp};
use serde_json::{Map, json};

#[path = "support/mod.rs"]
mod support;

use support::{compress_one_block, median_secs, pool};

fn compression(c: &mut Criterion) {
    support::compression(c, "lifecycle_compress256");
}

const MILLION: usize = 1_000_000;
const QUERY: &str = "Is there pneumonia in this chest X-ray? Patient 4711, view PA.";
const OUTPUT: &str = "No pneumonia detected (confidence: 95%)";

fn policy(scheme: CommitmentScheme) -> Policy {
    Policy {
        commitments: scheme,
        ..Policy::default()
    }
}

fn context(scheme: CommitmentScheme) -> Context {
    Context::new(
        policy(scheme),
        Arc::new(SystemClock),
        SeededRandom::new(&Seed::from_bytes([7; 32])),
    )
    .expect("the default policy is valid")
}

/// The fields of receipt `i` (the strings are copied into the receipt).
fn fields(i: u64) -> ReceiptFields<'static> {
    ReceiptFields {
        receipt_id: "inf_0000001",
        model_anchor: Digest::from_bytes([1; 32]),
        deployment_anchor: Digest::from_bytes([2; 32]),
        request_id: "req_0000001",
        query: QUERY,
        output: OUTPUT,
        input_metadata: Map::new(),
        output_metadata: Map::new(),
        explanation_digests: Vec::new(),
        timestamp: Timestamp::from_unix_micros(
            1_767_323_045_678_901 + i64::try_from(i).unwrap_or(0),
        ),
    }
}

fn receipts(c: &mut Criterion) {
    let mut g = c.benchmark_group("lifecycle_receipt");
    for scheme in [CommitmentScheme::Hmac, CommitmentScheme::Salted] {
        let mut chain = ReceiptChain::from_seed(&policy(scheme), &Seed::from_bytes([9; 32]));
        let mut i = 0u64;
        g.bench_function(
            BenchmarkId::new("ReceiptChain::append", scheme.name()),
            |b| {
                b.iter(|| {
                    i += 1;
                    black_box(chain.append(fields(i)).expect("append"))
                });
            },
        );
    }
    // The full manager path: checks, the chain, and keeping the receipt by id. A fresh manager
    // every 100,000 receipts keeps memory bounded; only receipt creation is timed.
    let (deployments, model) = deployment(CommitmentScheme::Hmac);
    let ids: Vec<String> = (0..100_000).map(|i| format!("inf_{i:07}")).collect();
    g.bench_function(
        BenchmarkId::new("InferenceManager::create_inference_receipt", "HMAC-SHA256"),
        |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                let mut done = 0u64;
                while done < iters {
                    let mut m =
                        InferenceManager::new(context(CommitmentScheme::Hmac)).expect("manager");
                    let n = (iters - done).min(100_000);
                    let start = Instant::now();
                    let batch = ids.iter().take(usize::try_from(n).unwrap_or(0));
                    make_receipts(&mut m, &deployments, &model, batch);
                    total += start.elapsed();
                    done += n;
                }
                total
            });
        },
    );
    g.finish();
}

/// A deployment manager with `deploy_001` releasing the returned model anchor digest.
/// Receipts for `ids` in turn, each answered by `model` through the demo deployment.
fn make_receipts<'a>(
    m: &mut InferenceManager,
    deployments: &DeploymentManager,
    model: &Digest,
    ids: impl IntoIterator<Item = &'a String>,
) {
    for id in ids {
        let req = InferenceRequest::new(id, model, "deploy_001", "req")
            .query(QUERY)
            .output(OUTPUT);
        black_box(
            m.create_inference_receipt(deployments, req)
                .expect("receipt"),
        );
    }
}

fn deployment(scheme: CommitmentScheme) -> (DeploymentManager, Digest) {
    let model = Digest::from_bytes([1; 32]);
    let mut d = DeploymentManager::new(context(scheme));
    d.create_predeployment_anchor(PreDeploymentRequest {
        predeployment_id: "predeploy_001".into(),
        model_anchor: model,
        training_snapshot: Digest::from_bytes([2; 32]),
        build_artifact: BuildArtifact {
            artifact_type: "docker".into(),
            artifact_digest: format!("sha256:{}", "ab".repeat(32)),
            build_timestamp: Timestamp::from_unix_micros(0),
            builder_info: "jenkins-v2.401".into(),
            size_bytes: 500 << 20,
        },
        sbom: Sbom {
            dependencies: [("tensorflow".to_owned(), "2.13.0".to_owned())].into(),
            security_scan_digest: Digest::from_bytes([3; 32]),
            vulnerability_count: 0,
            compliance_status: ComplianceStatus::Passed,
        },
        approval_ticket_id: "TICKET-12345".into(),
        intended_env: "production".into(),
        intended_region: "us-east-1".into(),
        rollout_plan_digest: None,
    })
    .expect("pre-deployment");
    d.create_deployment_anchor(
        "deploy_001",
        "predeploy_001",
        json!({}),
        json!({}),
        "devops",
    )
    .expect("deployment");
    (d, model)
}

/// `n` distinct receipt digests.
fn digests(n: usize) -> Vec<Digest> {
    (0..n as u64)
        .map(|i| hash(HashAlgorithm::Sha256, &i.to_le_bytes()))
        .collect()
}

/// The links of a chain of `n` receipts with the given digests.
fn links(digests: &[Digest]) -> impl Iterator<Item = ReceiptLink> + '_ {
    let mut prev = None;
    (0u64..).zip(digests).map(move |(i, d)| {
        let link = ReceiptLink {
            digest: *d,
            sequence: i,
            prev_receipt: prev,
            timestamp: Timestamp::from_unix_micros(i64::try_from(i).unwrap_or(0)),
        };
        prev = Some(*d);
        link
    })
}

fn batch_roots(c: &mut Criterion) {
    let ds = digests(MILLION);
    let bytes: Vec<[u8; 32]> = ds.iter().map(|d| d.to_bytes()).collect();
    let policy = Policy::default();
    for threads in [1, 2] {
        let pool = pool(threads);
        let mut g = c.benchmark_group(format!("lifecycle_batch_1e6_{threads}thread"));
        g.sample_size(10);
        g.throughput(Throughput::Elements(MILLION as u64));
        g.bench_function("plain MerkleTree::from_leaves (32-byte leaves)", |b| {
            b.iter(|| pool.install(|| MerkleTree::from_leaves(black_box(&bytes)).root()));
        });
        let mut roots = RootManager::new(context(CommitmentScheme::Hmac));
        g.bench_function("RootManager::compute_inference_batch_root", |b| {
            b.iter(|| {
                pool.install(|| {
                    roots
                        .compute_inference_batch_root("w", black_box(&ds))
                        .expect("root")
                        .digest()
                })
            });
        });
        g.finish();
    }
    let mut g = c.benchmark_group("lifecycle_stream_1e6");
    g.sample_size(10);
    g.throughput(Throughput::Elements(MILLION as u64));
    g.bench_function("plain CompactRange::push", |b| {
        b.iter(|| {
            let mut acc = CompactRange::new();
            for leaf in &bytes {
                acc.push(black_box(leaf)).expect("push");
            }
            acc.root()
        });
    });
    g.bench_function("InferenceBatchBuilder::push", |b| {
        b.iter(|| {
            let mut builder = InferenceBatchBuilder::new(&policy, "w");
            for link in links(&ds) {
                builder.push(black_box(link)).expect("push");
            }
            builder.finish().expect("batch").root
        });
    });
    g.finish();
}

/// Everything of issue 3 in one process, as ratios.
fn summary(_: &mut Criterion) {
    let mut out = std::io::stdout().lock();
    let calls = 1_000_000;
    let block = [[0x5au8; 64]];
    let per_block = median_secs(7, || {
        for _ in 0..calls {
            let mut state = black_box([0x6a09_e667u32; 8]);
            compress_one_block(&mut state, &block);
            black_box(state);
        }
    }) / f64::from(calls);
    let _ = writeln!(
        out,
        "lifecycle_summary: compress256 1 block = {:.1} ns",
        per_block * 1e9
    );

    let n_receipts = 200_000u64;
    for scheme in [CommitmentScheme::Hmac, CommitmentScheme::Salted] {
        let per_receipt = median_secs(5, || {
            let mut chain = ReceiptChain::from_seed(&policy(scheme), &Seed::from_bytes([9; 32]));
            for i in 0..n_receipts {
                black_box(chain.append(fields(i)).expect("append"));
            }
        }) / n_receipts as f64;
        let _ = writeln!(
            out,
            "lifecycle_summary: chained receipt ({}) = {:.0} ns = {:.1} compressions \
             (target <= 1500 ns, limit ~850 ns)",
            scheme.name(),
            per_receipt * 1e9,
            per_receipt / per_block
        );
    }
    let (deployments, model) = deployment(CommitmentScheme::Hmac);
    let ids: Vec<String> = (0..n_receipts).map(|i| format!("inf_{i:07}")).collect();
    // Only receipt creation is timed: building the manager and dropping its 200,000 stored
    // receipts are not.
    let mut runs: Vec<f64> = (0..5)
        .map(|_| {
            let mut m = InferenceManager::new(context(CommitmentScheme::Hmac)).expect("manager");
            let start = Instant::now();
            make_receipts(&mut m, &deployments, &model, &ids);
            let elapsed = start.elapsed().as_secs_f64();
            drop(m);
            elapsed
        })
        .collect();
    runs.sort_by(f64::total_cmp);
    let per_manager = runs[2] / n_receipts as f64;
    let _ = writeln!(
        out,
        "lifecycle_summary: InferenceManager::create_inference_receipt (HMAC-SHA256) = {:.0} ns",
        per_manager * 1e9
    );

    let ds = digests(MILLION);
    let bytes: Vec<[u8; 32]> = ds.iter().map(|d| d.to_bytes()).collect();
    for threads in [1, 2] {
        let pool = pool(threads);
        let plain = median_secs(5, || {
            black_box(pool.install(|| MerkleTree::from_leaves(black_box(&bytes)).root()));
        });
        let mut roots = RootManager::new(context(CommitmentScheme::Hmac));
        let batch = median_secs(5, || {
            black_box(pool.install(|| roots.compute_inference_batch_root("w", &ds).expect("root")));
        });
        let _ = writeln!(
            out,
            "lifecycle_summary: 10^6, {threads} thread(s): plain root {:.1} ms, batch root {:.1} ms \
             = {:.3} x plain (target <= 1.3)",
            plain * 1e3,
            batch * 1e3,
            batch / plain
        );
    }
    let plain_stream = median_secs(5, || {
        let mut acc = CompactRange::new();
        for leaf in &bytes {
            acc.push(leaf).expect("push");
        }
        black_box(acc.root());
    });
    let policy = Policy::default();
    let stream = median_secs(5, || {
        let mut builder = InferenceBatchBuilder::new(&policy, "w");
        for link in links(&ds) {
            builder.push(link).expect("push");
        }
        black_box(builder.finish().expect("batch"));
    });
    let limit = (3.0 * MILLION as f64 - 2.0) * per_block;
    let _ = writeln!(
        out,
        "lifecycle_summary: 10^6 streaming: CompactRange {:.1} ms, InferenceBatchBuilder {:.1} ms \
         = {:.3} x CompactRange, {:.2} x SHA-NI limit ({:.1} ms); builder state = {} bytes + \
         one digest per set bit of the count",
        plain_stream * 1e3,
        stream * 1e3,
        stream / plain_stream,
        stream / limit,
        limit * 1e3,
        size_of::<InferenceBatchBuilder>()
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = summary, compression, receipts, batch_roots
}
criterion_main!(benches);
