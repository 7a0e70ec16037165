//! Load generator of `lcm serve` (docs/PERFORMANCE.md, section Service): 4 concurrent
//! clients on loopback appending batches through the service into a fresh `SQLite` store,
//! then the same at half the measured rate for the p99 latency of an append request, and the
//! limit: the same receipts appended by `lcm infer`'s pipeline directly into the same
//! backend. Not a test: run it with
//! `cargo run --release -p lcm-server --example loadgen -- [SECONDS] [BATCH] [POSTGRES_URL]`;
//! with a `postgres://` URL, both stores (the served one and the limit's) are fresh schemas
//! on that server instead of `SQLite` files, dropped at the end.

// A measuring tool: it prints, stops on any failure, and turns counts into rates and ranks.
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const DEPLOYMENT: &str = "deploy_001";
const CLIENTS: usize = 4;

/// A fresh store location: a file in `dir`, or a new schema on the `PostgreSQL` server `pg`.
fn location(dir: &std::path::Path, name: &str, pg: Option<&str>) -> std::path::PathBuf {
    let Some(url) = pg else {
        let path = dir.join(format!("{name}.db"));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        return path;
    };
    let schema = schema_name(name);
    let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
    client
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        ))
        .unwrap();
    let sep = if url.contains('?') { '&' } else { '?' };
    std::path::PathBuf::from(format!("{url}{sep}options=-csearch_path%3D{schema}"))
}

fn schema_name(name: &str) -> String {
    format!("lcm_loadgen_{}_{name}", std::process::id())
}

fn fresh_store(dir: &std::path::Path, name: &str, pg: Option<&str>) -> std::path::PathBuf {
    let path = location(dir, name, pg);
    let (mut s, _) = lcm_store::init(&path, &lcm_model::Policy::default()).unwrap();
    let input = serde_json::from_str(lcm_store::lifecycle::EXAMPLE).unwrap();
    let passwords = lcm_store::lifecycle::Passwords {
        dataset: "dataset password",
        model: "model password",
    };
    lcm_store::lifecycle::record_into(&mut *s, input, &passwords).unwrap();
    path
}

fn line(tag: &str, i: u64) -> String {
    format!(
        "{{\"request_id\":\"{tag}-{i}\",\"query\":\"Is there pneumonia in chest X-ray {i}?\",\"output\":\"No pneumonia detected (confidence: 95%)\"}}\n"
    )
}

fn body(tag: &str, first: u64, n: u64) -> Vec<u8> {
    (first..first + n)
        .map(|i| line(tag, i))
        .collect::<String>()
        .into_bytes()
}

struct Server {
    url: String,
    stop: tokio::sync::oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

fn start(store: &std::path::Path) -> Server {
    let config = {
        let mut c = lcm_server::Config::new(store.to_path_buf(), "127.0.0.1:0".to_owned());
        c.queue_depth = 64;
        c
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(lcm_server::run(&config, |a| tx.send(a).unwrap(), async {
            let _ = stopped.await;
        }))
        .unwrap();
    });
    let addr = rx.recv().unwrap();
    Server {
        url: format!("http://{addr}"),
        stop,
        thread,
    }
}

/// Saturation: every client sends batches back to back for `seconds`.
fn saturate(url: &str, token: &str, seconds: f64, batch: u64, tag: &str) -> (u64, f64) {
    let done = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let threads: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let client = lcm_client::Client::new(url).unwrap().with_token(token);
            let (done, acked) = (Arc::clone(&done), Arc::clone(&acked));
            let tag = format!("{tag}{c}");
            std::thread::spawn(move || {
                let mut i = 0u64;
                while !done.load(Ordering::Relaxed) {
                    let key = format!("{tag}-{i}");
                    let a = client
                        .append(DEPLOYMENT, &key, &body(&tag, i, batch))
                        .unwrap();
                    acked.fetch_add(a.receipts.len() as u64, Ordering::Relaxed);
                    i += batch;
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(seconds));
    done.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    let elapsed = start.elapsed().as_secs_f64();
    let n = acked.load(Ordering::Relaxed);
    (n, n as f64 / elapsed)
}

/// Paced: the clients together send `rate` receipts/s for `seconds`; returns request
/// latencies in milliseconds, sorted.
fn paced(url: &str, token: &str, seconds: f64, batch: u64, rate: f64, tag: &str) -> Vec<f64> {
    let interval = Duration::from_secs_f64(batch as f64 * CLIENTS as f64 / rate);
    let threads: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let client = lcm_client::Client::new(url).unwrap().with_token(token);
            let tag = format!("{tag}{c}");
            std::thread::spawn(move || {
                let start = Instant::now();
                let mut latencies = Vec::new();
                let mut i = 0u64;
                let mut next = start + interval.mul_f64(c as f64 / CLIENTS as f64);
                while start.elapsed().as_secs_f64() < seconds {
                    let now = Instant::now();
                    if next > now {
                        std::thread::sleep(next - now);
                    }
                    next += interval;
                    let b = body(&tag, i, batch);
                    let t = Instant::now();
                    client
                        .append(DEPLOYMENT, &format!("{tag}-{i}"), &b)
                        .unwrap();
                    latencies.push(t.elapsed().as_secs_f64() * 1000.0);
                    i += batch;
                }
                latencies
            })
        })
        .collect();
    let mut all: Vec<f64> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    all.sort_by(f64::total_cmp);
    all
}

/// The limit: the same receipts appended by `lcm infer`'s pipeline into a fresh store.
fn direct(dir: &std::path::Path, n: u64, batch: u64, pg: Option<&str>) -> f64 {
    let path = fresh_store(dir, "direct", pg);
    let mut store = lcm_store::open(&path).unwrap();
    let model = lcm_store::pipeline::model_of(&*store, DEPLOYMENT).unwrap();
    let text: String = (0..n).map(|i| line("d", i)).collect();
    let start = Instant::now();
    let summary = lcm_store::pipeline::infer::<lcm_store::Error>(
        &mut *store,
        &model,
        DEPLOYMENT,
        lcm_store::pipeline::InferOptions::batch(usize::try_from(batch).unwrap()),
        std::io::Cursor::new(text.into_bytes()),
        |_, _| {},
        &mut |_, _| Ok(()),
    )
    .unwrap();
    assert_eq!(summary.appended, n);
    n as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seconds: f64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10.0);
    let batch: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(1000);
    let pg = args.get(3).map(String::as_str);
    let backend = if pg.is_some() { "PostgreSQL" } else { "SQLite" };
    let dir = std::env::temp_dir().join(format!("lcm-loadgen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = fresh_store(&dir, "served", pg);
    let token = {
        let mut s = lcm_store::open(&store).unwrap();
        lcm_server::tokens::create(&mut *s, DEPLOYMENT, "loadgen")
            .unwrap()
            .token
            .to_string()
    };
    let server = start(&store);
    // Warm-up, then saturation.
    saturate(&server.url, &token, 1.0, batch, "w");
    let (n, rate) = saturate(&server.url, &token, seconds, batch, "s");
    println!(
        "service ({backend}): {n} receipts acknowledged in {seconds} s by {CLIENTS} clients, batches of {batch}: {rate:.0} receipts/s"
    );
    let lat = paced(&server.url, &token, seconds, batch, rate / 2.0, "p");
    let pct = |p: f64| {
        lat[((lat.len() as f64 * p).ceil() as usize)
            .saturating_sub(1)
            .min(lat.len() - 1)]
    };
    println!(
        "service at half rate ({:.0} receipts/s): {} requests, latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        rate / 2.0,
        lat.len(),
        pct(0.50),
        pct(0.99),
        lat[lat.len() - 1]
    );
    let _ = server.stop.send(());
    server.thread.join().unwrap();
    let limit = direct(&dir, n, 16384, pg);
    println!(
        "limit: lcm infer's pipeline, the same {n} receipts into a fresh {backend} store (transactions of up to 16384): {limit:.0} receipts/s"
    );
    println!("ratio service/limit: {:.2}", rate / limit);
    let _ = std::fs::remove_dir_all(&dir);
    if let Some(url) = pg {
        let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
        for name in ["served", "direct"] {
            client
                .batch_execute(&format!("DROP SCHEMA {} CASCADE", schema_name(name)))
                .unwrap();
        }
    }
}
