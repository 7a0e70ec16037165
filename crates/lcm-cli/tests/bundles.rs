//! Issue 12 item 7: `lcm verify` of an exported bundle streams it (one read, memory that does
//! not grow with its receipts), with the errors and exit codes of a bundle read whole.

use super::serve::read_status_kib;
use super::*;

/// Exports `s`'s store to `name` signed with a fresh key; returns the bundle's path and the
/// public key's.
fn exported(s: &Scratch, name: &str) -> (PathBuf, PathBuf) {
    let key = s.path("k");
    if !key.exists() {
        run(
            lcm(&s.store()).args(["keygen", "--out", key.to_str().expect("utf-8 path")]),
            0,
        );
    }
    let bundle = s.path(name);
    run(
        lcm(&s.store()).args([
            "export",
            "--key",
            key.to_str().expect("utf-8 path"),
            "--out",
            bundle.to_str().expect("utf-8 path"),
        ]),
        0,
    );
    (bundle, s.path("k.pub"))
}

/// `lcm verify` of a streamed bundle, tampered: one byte of a receipt, a truncated file,
/// trailing bytes, the header's count. Each fails with the exit code and the message of a
/// bundle read whole.
#[test]
fn streamed_verify_tamper_twins() {
    let s = recorded("bundles-tamper");
    infer(&s.store(), &lines(30, "t"), 0);
    let (bundle, public) = exported(&s, "b.json");
    let out = verify(&s, &bundle, &public, &[], 0);
    assert_stdout_has(&out, "valid bundle");
    let text = std::fs::read_to_string(&bundle).expect("bundle");
    let write = |name: &str, t: &str| {
        let p = s.path(name);
        std::fs::write(&p, t).expect("write");
        p
    };
    // One byte of the 8th receipt's request id.
    let at = text
        .match_indices("\"request_id\": \"req_t_")
        .nth(7)
        .expect("receipt")
        .0
        + "\"request_id\": \"req_t_".len();
    let mut bytes = text.clone().into_bytes();
    bytes[at] = if bytes[at] == b'9' { b'8' } else { b'9' };
    let one_byte = write("byte.json", std::str::from_utf8(&bytes).expect("utf-8"));
    let out = verify(&s, &one_byte, &public, &[], 1);
    assert_stderr_has(&out, "receipt digest");
    assert_stderr_has(&out, "/receipts/7/record");
    // Truncated, and trailing bytes: refused as malformed JSON (exit 2), as a file read
    // whole always was.
    let truncated = write("truncated.json", &text[..text.len() * 2 / 3]);
    let out = verify(&s, &truncated, &public, &[], 2);
    assert_stderr_has(&out, "malformed JSON: EOF while parsing");
    let trailing = write("trailing.json", &format!("{text}x"));
    let out = verify(&s, &trailing, &public, &[], 2);
    assert_stderr_has(&out, "malformed JSON: trailing characters");
    // The header's count: the header no longer matches the records (and its signature).
    let count = text.replacen("\"receipt_count\": 30", "\"receipt_count\": 29", 1);
    assert_ne!(count, text);
    let out = verify(&s, &write("count.json", &count), &public, &[], 1);
    assert_stderr_has(&out, "receipt_count");
}

/// The peak resident size of `lcm verify` over a bundle, sampled from `/proc` every few
/// milliseconds until it exits (`VmHWM` only grows, so the last sample is the peak up to a
/// few milliseconds before the exit), with its wall time.
fn verify_peak_kib(s: &Scratch, bundle: &Path, public: &Path) -> (u64, std::time::Duration) {
    let start = std::time::Instant::now();
    let mut child = lcm(&s.store())
        .args([
            "verify",
            bundle.to_str().expect("utf-8 path"),
            "--key",
            public.to_str().expect("utf-8 path"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn lcm verify");
    let pid = child.id();
    let mut peak = 0;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert_eq!(status.code(), Some(0), "lcm verify {}", bundle.display());
            return (peak, start.elapsed());
        }
        // The process may exit between the two calls: then there is nothing to read.
        peak = peak.max(read_status_kib(pid, "VmHWM").unwrap_or(0));
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// The memory of `lcm verify` does not grow with the bundle: verifying bundles of `K` and
/// `5 K` receipts (13 and 64 MB of JSON), the peak resident size grows by less than
/// `BOUND_KIB` (a bundle read whole takes about two bytes of memory per byte of bundle: 100
/// MB more here).
#[test]
#[allow(clippy::print_stderr)] // The figures are printed for the docs.
fn verify_memory_does_not_grow_with_the_bundle() {
    const K: usize = 10_000;
    const BOUND_KIB: u64 = 8 * 1024;
    let s = recorded("bundles-memory");
    infer(&s.store(), &lines(K, "a"), 0);
    let (small, public) = exported(&s, "small.json");
    infer(&s.store(), &lines(4 * K, "b"), 0);
    let (large, _) = exported(&s, "large.json");
    let size = |p: &Path| std::fs::metadata(p).expect("bundle").len();
    let (small_kib, small_time) = verify_peak_kib(&s, &small, &public);
    let (large_kib, large_time) = verify_peak_kib(&s, &large, &public);
    eprintln!(
        "lcm verify memory: {K} receipts ({} bytes) VmHWM {small_kib} KiB in {small_time:?}; \
         {} receipts ({} bytes) VmHWM {large_kib} KiB in {large_time:?}; growth {} KiB \
         (bound {BOUND_KIB})",
        size(&small),
        5 * K,
        size(&large),
        large_kib.saturating_sub(small_kib)
    );
    assert!(small_kib > 0 && large_kib > 0, "no sample of the peak");
    assert!(
        large_kib.saturating_sub(small_kib) < BOUND_KIB,
        "VmHWM grew from {small_kib} to {large_kib} KiB over {} receipts",
        4 * K
    );
    let _ = std::fs::remove_file(&small);
    let _ = std::fs::remove_file(&large);
}

/// `lcm export --compact` and `lcm header --compact` write one line of the same JSON in fewer
/// bytes; `lcm verify` checks the compact bundle as it checks an indented one, and refuses it
/// tampered (one byte of a receipt); `--compact` with a range is a usage error.
#[test]
fn compact_documents_verify_and_fail_tampered() {
    let s = recorded("bundles-compact");
    infer(&s.store(), &lines(12, "c"), 0);
    let (indented, public) = exported(&s, "b.json");
    let (key, compact, header) = (s.path("k"), s.path("c.json"), s.path("h.json"));
    let path = |p: &Path| p.to_str().expect("utf-8 path").to_owned();
    for (command, out) in [("export", &compact), ("header", &header)] {
        let args = [
            command,
            "--compact",
            "--key",
            &path(&key),
            "--out",
            &path(out),
        ];
        run(lcm(&s.store()).args(args), 0);
    }
    let (text, wide) = (
        std::fs::read_to_string(&compact).expect("bundle"),
        std::fs::read_to_string(&indented).expect("bundle"),
    );
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.len() < wide.len() * 3 / 4,
        "{} of {}",
        text.len(),
        wide.len()
    );
    let value = |t: &str| serde_json::from_str::<serde_json::Value>(t).expect("JSON");
    assert_eq!(value(&text)["inference"], value(&wide)["inference"]);
    let head = std::fs::read_to_string(&header).expect("header");
    assert_eq!(head.lines().count(), 1, "{head}");
    assert_eq!(value(&head)["stage_g_inference"]["receipt_count"], 12);
    assert_stdout_has(&verify(&s, &compact, &public, &[], 0), "valid bundle");
    // One byte of the 5th receipt's request id.
    let at = text
        .match_indices("\"request_id\":\"req_c_")
        .nth(4)
        .expect("receipt")
        .0
        + "\"request_id\":\"req_c_".len();
    let mut bytes = text.into_bytes();
    bytes[at] = if bytes[at] == b'9' { b'8' } else { b'9' };
    let tampered = s.path("tampered.json");
    std::fs::write(&tampered, &bytes).expect("write");
    let out = verify(&s, &tampered, &public, &[], 1);
    assert_stderr_has(&out, "receipt digest");
    assert_stderr_has(&out, "/receipts/4/record");
    let range = [
        "export",
        "--compact",
        "--key",
        &path(&key),
        "--from-seq",
        "0",
        "--to-seq",
        "1",
    ];
    assert_stderr_has(&run(lcm(&s.store()).args(range), 2), "--compact");
}
