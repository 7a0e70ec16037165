//! Measures `lcm infer`'s pipeline beside the receipt-making rate, in one process on one
//! input, for docs/PERFORMANCE.md (issue 12 item 8: "measured in the same run as the
//! receipt-making rate").
//!
//! ```sh
//! cargo build --release -p lcm-store --example infer_rate
//! cd "$(mktemp -d)" && lcm init && \
//!   LCM_DATASET_PASSWORD=a LCM_MODEL_PASSWORD=b lcm record lifecycle examples/cli/lifecycle.json
//! chrt -r 10 infer_rate lcm.db /tmp/inf1m.jsonl deploy_001 [BATCH]
//! ```
//!
//! 1. The limit: the input (read into memory first), `BATCH` lines at a time (16,384 by
//!    default, as `lcm infer`), parsed with strict input ([`pipeline::parse_requests`]) and
//!    its receipts made ([`pipeline::make_receipts`]) in a tight loop on one thread, nothing
//!    stored: the work of the pipeline's reader and maker stages alone.
//! 2. [`pipeline::infer`] (the code of `lcm infer`) on the same file into the store: every
//!    receipt committed durably and acknowledged (the acknowledgement lines counted).
//!
//! Each phase prints its wall time, the CPU time of the process (user + system, all threads,
//! from `/proc/self/stat`) and receipts/s; the last line is the ratio of the acknowledged rate
//! to the making rate. Memory: the input's text, and one batch of lines and receipts at a
//! time (it grows with `BATCH`, not with the number of receipts, beyond the text).

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::Instant;

use lcm_managers::ReceiptChain;
use lcm_store::pipeline;

/// User and system CPU seconds of this process (all threads so far), from `/proc/self/stat`.
fn cpu_seconds() -> Result<(f64, f64), Box<dyn std::error::Error>> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // The fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').ok_or("/proc/self/stat: no ')'")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks = |i: usize| -> Result<f64, Box<dyn std::error::Error>> {
        let t: u32 = fields.get(i).ok_or("/proc/self/stat: short")?.parse()?;
        // The kernel's USER_HZ is 100 on Linux.
        Ok(f64::from(t) / 100.0)
    };
    Ok((ticks(11)?, ticks(12)?))
}

/// Wall seconds and user/system CPU seconds of `f`.
fn measured<T>(
    f: impl FnOnce() -> Result<T, Box<dyn std::error::Error>>,
) -> Result<(T, f64, f64, f64), Box<dyn std::error::Error>> {
    let (u0, s0) = cpu_seconds()?;
    let t = Instant::now();
    let out = f()?;
    let wall = t.elapsed().as_secs_f64();
    let (u1, s1) = cpu_seconds()?;
    Ok((out, wall, u1 - u0, s1 - s0))
}

fn report(what: &str, n: u64, wall: f64, user: f64, sys: f64) -> f64 {
    // Counts as f64 for a rate; exactness is not needed.
    #[allow(clippy::cast_precision_loss)]
    let n = n as f64;
    let rate = n / wall;
    println!(
        "{what}: {n} receipts, {wall:.3} s wall, {user:.2} s user + {sys:.2} s sys = {:.2} µs CPU a receipt, {rate:.0} receipts/s",
        (user + sys) * 1e6 / n
    );
    rate
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let usage = "usage: infer_rate STORE INPUT DEPLOYMENT [BATCH]";
    let mut args = std::env::args().skip(1);
    let store_path = args.next().ok_or(usage)?;
    let input = args.next().ok_or(usage)?;
    let deployment = args.next().ok_or(usage)?;
    let batch: usize = args.next().map_or(Ok(16_384), |b| b.parse())?;
    let mut store = lcm_store::open(std::path::Path::new(&store_path))?;
    let model = pipeline::release_model(&*store, &deployment, None)?;
    let release = pipeline::resolve_release(&*store, &model, &deployment)?;
    let policy = store.policy()?;
    let seed = store.open_chain(&deployment)?;
    let mut chain = ReceiptChain::from_seed(&policy, &seed);
    let head = store.head(&deployment)?;
    drop(seed);
    let text = std::fs::read_to_string(&input)?;

    // 1. The limit: parse and make, one thread, nothing stored, a batch at a time.
    let (mut parse_s, mut make_s) = (0.0, 0.0);
    let (made, wall, user, sys) = measured(|| {
        let mut made = 0u64;
        let mut expected = head;
        let mut rest = text.as_str();
        while !rest.is_empty() {
            // The next `batch` lines.
            let end = rest
                .match_indices('\n')
                .nth(batch.max(1) - 1)
                .map_or(rest.len(), |(i, _)| i + 1);
            let (chunk, tail) = rest.split_at(end);
            rest = tail;
            let t = Instant::now();
            let lines = pipeline::parse_requests(chunk)?;
            let t2 = Instant::now();
            let receipts = pipeline::make_receipts(&mut chain, release, expected, &lines)?;
            make_s += t2.elapsed().as_secs_f64();
            parse_s += t2.duration_since(t).as_secs_f64();
            if let Some(last) = receipts.last() {
                expected = Some(lcm_store::ChainHead {
                    sequence: last.stored.sequence,
                    digest: last.stored.digest,
                });
            }
            made += u64::try_from(receipts.len())?;
            std::hint::black_box(receipts);
        }
        Ok(made)
    })?;
    let making = report(
        "making (parse + strict + make, one thread)",
        made,
        wall,
        user,
        sys,
    );
    println!("  of which parse + strict {parse_s:.3} s, make {make_s:.3} s (wall)");
    drop(text);

    // 2. `lcm infer`'s pipeline into the store, acknowledged after each durable commit.
    let file = std::fs::File::open(&input)?;
    let options = pipeline::InferOptions::batch(batch);
    let mut ack_bytes = 0usize;
    let (summary, wall, user, sys) = measured(|| {
        Ok(pipeline::infer(
            &mut *store,
            &model,
            &deployment,
            options,
            file,
            pipeline::text_acks,
            &mut |acks: &str, _| -> Result<(), lcm_store::Error> {
                ack_bytes += acks.len();
                Ok(())
            },
        )?)
    })?;
    let acked = report(
        "lcm infer pipeline (durable, acknowledged)",
        summary.appended,
        wall,
        user,
        sys,
    );
    println!(
        "acknowledged / making: {:.3} ({ack_bytes} bytes of acknowledgements)",
        acked / making
    );
    Ok(())
}
