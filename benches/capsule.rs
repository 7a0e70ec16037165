//! Capsule benchmarks: verifying a lifecycle bundle of 10^6 inference receipts against
//! recomputing the same digests and roots, and materializing one receipt out of 10^6.
//!
//! Run with `cargo bench --bench capsule`. Issue 4's targets:
//!
//! - `verify_bundle` on a bundle with 10^6 receipts costs at most 1.5x recomputing its
//!   digests and roots (receipt digests, batch roots, the receipts root), both measured in
//!   the same run;
//! - materializing one receipt out of 10^6 (inclusion proof, two neighbours) ≤ 50 µs with the
//!   tree in memory.
//!
//! The bundle is built in memory (not through JSON): the demo lifecycle of
//! `lcm::framework::simulate_ai_lifecycle` with its receipts replaced by 10^6 chained receipts
//! of the same deployment, cut into 10 batches. The `capsule_summary` group measures both
//! sides in one process (median of 3 runs) and prints the ratio.

use std::hint::black_box;
use std::io::Write as _;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use lcm::capsule::{
    BatchEvidence, Bundle, InferenceEvidence, Materializer, MerkleLog, PolicyRequirements,
    materialize_receipt, verify_bundle,
};
use lcm::crypto::merkle::MerkleTree;
use lcm::crypto::{Digest, Seed};
use lcm::framework::simulate_ai_lifecycle;
use lcm::managers::{InferenceBatchBuilder, ReceiptChain, ReceiptFields};
use lcm::model::records::ReceiptEncoder;
use lcm::model::verify::verify_receipt_segment;
use lcm::model::{Sealed, Timestamp};

const MILLION: u64 = 1_000_000;
const BATCHES: u64 = 10;

struct Fixture {
    bundle: Bundle,
    key: lcm::crypto::VerifyingKey,
    log: MerkleLog,
}

/// The demo bundle with `n` receipts in `BATCHES` batches, re-signed.
fn fixture(n: u64) -> Fixture {
    let sim = simulate_ai_lifecycle(0).expect("the demo lifecycle runs");
    let mut lifecycle = sim.bundle.lifecycle.clone();
    let policy = sim.bundle.header.policy.clone();
    let model = lifecycle.model.digest;
    let deployment = lifecycle.deployment.anchor.digest;
    let start = sim.bundle.header.generated_at.unix_micros();
    let mut chain = ReceiptChain::from_seed(&policy, &Seed::from_bytes([3; 32]));
    let per_batch = n / BATCHES;
    let mut batches = Vec::new();
    let mut receipt = 0u64;
    for b in 0..BATCHES {
        let window = format!("batch_{b:02}");
        let mut builder = InferenceBatchBuilder::new(&policy, &window);
        let mut receipts = Vec::with_capacity(usize::try_from(per_batch).unwrap_or(0));
        for _ in 0..per_batch {
            let id = format!("inf_{receipt:07}");
            let req = format!("req_{receipt:07}");
            let sealed = chain
                .append(ReceiptFields {
                    receipt_id: &id,
                    model_anchor: model,
                    deployment_anchor: deployment,
                    request_id: &req,
                    query: "Is there pneumonia in this chest X-ray?",
                    output: "No pneumonia detected (confidence: 95%)",
                    input_metadata: Default::default(),
                    output_metadata: Default::default(),
                    explanation_digests: Vec::new(),
                    timestamp: Timestamp::from_unix_micros(
                        start + i64::try_from(receipt).unwrap_or(0),
                    ),
                })
                .expect("receipts append");
            builder.push_receipt(&sealed).expect("receipts chain");
            receipts.push(sealed.into());
            receipt += 1;
        }
        let batch = Sealed::seal(builder.finish().expect("non-empty"), &policy).expect("seal");
        batches.push(BatchEvidence {
            batch: Some(batch.into()),
            receipts,
        });
    }
    lifecycle.inference = InferenceEvidence { batches };
    let generated_at = Timestamp::from_unix_micros(start + i64::try_from(n).unwrap_or(0) + 1);
    let bundle = Bundle::new(&policy, lifecycle, generated_at, &sim.key).expect("bundle");
    let log = bundle.lifecycle.receipt_log(&policy).expect("log");
    Fixture {
        bundle,
        key: sim.key.verifying_key(),
        log,
    }
}

/// What verification must at least do: every receipt digest, every batch root, the receipts
/// root.
fn recompute(bundle: &Bundle) -> (Digest, Vec<Digest>) {
    let policy = &bundle.header.policy;
    let mut encoder = ReceiptEncoder::new(policy);
    let mut all = Vec::new();
    let mut roots = Vec::new();
    for group in &bundle.lifecycle.inference.batches {
        let digests: Vec<Digest> = group
            .receipts
            .iter()
            .map(|r| encoder.digest(&r.record).expect("encodable"))
            .collect();
        roots.push(
            MerkleTree::from_leaves_with(
                policy.hash_algorithm,
                digests.iter().map(Digest::as_bytes),
            )
            .root(),
        );
        all.extend(digests);
    }
    let root =
        MerkleTree::from_leaves_with(policy.hash_algorithm, all.iter().map(Digest::as_bytes))
            .root();
    (root, roots)
}

fn verify(f: &Fixture) {
    let report = verify_bundle(&f.bundle, &f.key, &PolicyRequirements::default())
        .expect("the bundle verifies");
    black_box(report);
}

/// One receipt's capsule through a [`Materializer`] (the header digest computed once).
fn materialize(f: &Fixture, m: &Materializer<'_>, index: usize) {
    let receipts = &f.bundle.lifecycle.inference.batches;
    let per = receipts[0].receipts.len();
    let r = &receipts[index / per].receipts[index % per];
    black_box(m.receipt(&f.log, r, None).expect("materializes"));
}

/// The same with [`materialize_receipt`], which also digests the header.
fn materialize_cold(f: &Fixture, index: usize) {
    let receipts = &f.bundle.lifecycle.inference.batches;
    let per = receipts[0].receipts.len();
    let r = &receipts[index / per].receipts[index % per];
    black_box(materialize_receipt(&f.bundle.header, &f.log, r, None).expect("materializes"));
}

fn bundle_1e6(c: &mut Criterion) {
    let f = fixture(MILLION);
    let mut g = c.benchmark_group("capsule_bundle");
    g.sample_size(10);
    g.throughput(Throughput::Elements(MILLION));
    g.bench_function(BenchmarkId::new("verify_bundle", MILLION), |b| {
        b.iter(|| verify(&f));
    });
    g.bench_function(
        BenchmarkId::new("recompute_digests_and_roots", MILLION),
        |b| {
            b.iter(|| black_box(recompute(&f.bundle)));
        },
    );
    g.finish();
    let mut g = c.benchmark_group("capsule_materialize");
    let m = Materializer::new(&f.bundle.header).expect("the header digests");
    g.bench_function(BenchmarkId::new("receipt_of", MILLION), |b| {
        let mut i = 0usize;
        b.iter(|| {
            i = (i + 7919) % 1_000_000;
            materialize(&f, &m, i);
        });
    });
    g.bench_function(
        BenchmarkId::new("receipt_of_with_header_digest", MILLION),
        |b| {
            let mut i = 0usize;
            b.iter(|| {
                i = (i + 7919) % 1_000_000;
                materialize_cold(&f, i);
            });
        },
    );
    // Registering 1000 receipt digests in a fresh log: one leaf hash each, plus the node
    // hashes of the subtrees they complete (999 in all).
    g.throughput(Throughput::Elements(1000));
    g.bench_function(BenchmarkId::new("register", 1000), |b| {
        let digests: Vec<Digest> = (0..1000u64).filter_map(|i| f.log.digest(i)).collect();
        b.iter(|| {
            let mut log = MerkleLog::new(f.bundle.header.policy.hash_algorithm);
            for d in &digests {
                log.register(*d).expect("register");
            }
            black_box(log.root())
        });
    });
    g.finish();
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// The receipt chain check alone (`lcm_model::verify::verify_receipt_segment`, batch by
/// batch): digests, repeats, links.
fn chain_only(bundle: &Bundle) {
    let policy = &bundle.header.policy;
    let mut after = None;
    for group in &bundle.lifecycle.inference.batches {
        verify_receipt_segment(policy, after, &group.receipts).expect("the chain verifies");
        after = group.receipts.last().map(|r| (r.digest, r.record.sequence));
    }
}

/// Both sides in one process, median of 5 runs each, interleaved.
fn summary(_: &mut Criterion) {
    let f = fixture(MILLION);
    let (mut verify_t, mut recompute_t, mut chain_t) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..5 {
        let t = Instant::now();
        verify(&f);
        verify_t.push(t.elapsed());
        let t = Instant::now();
        black_box(recompute(&f.bundle));
        recompute_t.push(t.elapsed());
        let t = Instant::now();
        chain_only(&f.bundle);
        chain_t.push(t.elapsed());
    }
    let materializer = Materializer::new(&f.bundle.header).expect("the header digests");
    let (mut mat, mut cold) = (Vec::new(), Vec::new());
    for k in 0..2001usize {
        let t = Instant::now();
        materialize(&f, &materializer, (k * 7919) % 1_000_000);
        mat.push(t.elapsed());
        let t = Instant::now();
        materialize_cold(&f, (k * 7919) % 1_000_000);
        cold.push(t.elapsed());
    }
    let (v, r, m, c, ch) = (
        median(verify_t),
        median(recompute_t),
        median(mat),
        median(cold),
        median(chain_t),
    );
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "capsule summary (10^6 receipts): verify_bundle {v:?}, recompute digests and roots {r:?}, ratio {:.3} (target <= 1.5); materialize one receipt: median {m:?} (target <= 50 us), {c:?} including the header digest; of verify_bundle, the receipt chain check takes {ch:?}",
        v.as_secs_f64() / r.as_secs_f64()
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    targets = summary, bundle_1e6
}
criterion_main!(benches);
