//! Issue 15: inference on real payloads (any JSON value as query and output, the model
//! derived from the deployment, disclosure from files) and receipts found by request id and
//! by time.

use super::*;

/// `lcm infer` without `--model`: the deployment determines it.
fn infer_derived(store: &Path, input: &str, code: i32) -> Output {
    infer_at(store, "deploy_001", &[], input, code)
}

/// A signing key and the header of `s`'s lifecycle; returns the header's path.
fn header_of(s: &Scratch) -> String {
    let key = s.path("signing.key");
    let key = key.to_str().expect("a UTF-8 path");
    run(lcm(&s.store()).args(["keygen", "--out", key]), 0);
    let header = s.path("header.json");
    let header = header.to_str().expect("a UTF-8 path").to_owned();
    run(
        lcm(&s.store()).args(["header", "--key", key, "--out", &header]),
        0,
    );
    header
}

#[test]
fn json_queries_and_outputs_commit_to_their_canonical_json() {
    let s = recorded("infer-json");
    let input = concat!(
        r#"{"request_id":"r-obj","query":{"b":[1,2.0],"a":"x"},"output":{"label":"cat","p":0.5}}"#,
        "\n",
        r#"{"request_id":"r-obj2","query":{"a":"x","b":[1,2]},"output":[1, "two", null]}"#,
        "\n",
        r#"{"request_id":"r-num","query":42,"output":true}"#,
        "\n",
        r#"{"request_id":"r-str","query":"plain text","output":"still a string"}"#,
        "\n",
    );
    let acked = stdout(&infer_derived(&s.store(), input, 0));
    assert_eq!(acked.lines().count(), 4, "{acked}");
    let header = header_of(&s);
    let canonical = r#"{"a":"x","b":[1,2]}"#;
    // Two key orders (and 2.0 against 2) of one object: both receipts open to its canonical
    // JSON, and to no other spelling.
    for receipt in ["inf_000000", "inf_000001"] {
        materialize(&s.store(), receipt, &header, &["--query", canonical], 0);
        materialize(
            &s.store(),
            receipt,
            &header,
            &["--query", r#"{"b":[1,2],"a":"x"}"#],
            2,
        );
    }
    materialize(
        &s.store(),
        "inf_000000",
        &header,
        &["--output", r#"{"label":"cat","p":0.5}"#],
        0,
    );
    materialize(
        &s.store(),
        "inf_000001",
        &header,
        &["--output", r#"[1,"two",null]"#],
        0,
    );
    materialize(
        &s.store(),
        "inf_000002",
        &header,
        &["--query", "42", "--output", "true"],
        0,
    );
    // A string still commits to itself (not to its JSON with quotes).
    materialize(
        &s.store(),
        "inf_000003",
        &header,
        &["--query", "plain text"],
        0,
    );
    materialize(
        &s.store(),
        "inf_000003",
        &header,
        &["--query", "\"plain text\""],
        2,
    );
    // Payloads a line's strict input refuses stay refused.
    let out = infer_derived(
        &s.store(),
        "{\"request_id\":\"r-dup\",\"query\":{\"a\":1,\"a\":2},\"output\":\"o\"}\n",
        2,
    );
    assert_stderr_has(&out, "line 1");
}

#[test]
fn the_model_comes_from_the_deployment_and_a_wrong_one_is_refused() {
    let s = recorded("infer-model");
    // Without --model: the deployment's model; with the right one: the same.
    infer_derived(&s.store(), &lines(2, "derived"), 0);
    infer(&s.store(), &lines(2, "named"), 0);
    assert_eq!(stored_receipts(&s.store()).len(), 4);
    let model = ["--model", "other_model@v9"];
    let out = infer_at(&s.store(), "deploy_001", &model, &lines(1, "wrong"), 2);
    assert_stderr_has(&out, "does not release model other_model@v9");
    assert_stderr_has(&out, "it releases pneumonia_model@v1.0");
    assert_eq!(stored_receipts(&s.store()).len(), 4);
}

#[test]
fn a_disclosure_is_read_from_a_file_or_standard_input() {
    let s = recorded("disclose-file");
    let input = concat!(
        r#"{"request_id":"r1","query":{"image":"sha256:ab","crop":[0,0,8,8]},"output":"a cat"}"#,
        "\n"
    );
    infer_derived(&s.store(), input, 0);
    let header = header_of(&s);
    let query = s.path("query.json");
    // Another key order and spacing in the file: the same value.
    std::fs::write(
        &query,
        "{ \"crop\": [0, 0, 8, 8],\n  \"image\": \"sha256:ab\" }\n",
    )
    .unwrap();
    let output = s.path("output.json");
    std::fs::write(&output, "\"a cat\"\n").unwrap();
    let capsule = s.path("capsule.json");
    let (q, o, c) = (
        query.to_str().unwrap(),
        output.to_str().unwrap(),
        capsule.to_str().unwrap(),
    );
    let args = ["--query-file", q, "--output-file", o, "--out", c];
    materialize(&s.store(), "inf_000000", &header, &args, 0);
    let text = std::fs::read_to_string(&capsule).unwrap();
    assert!(text.contains("a cat"), "{text}");
    // Standard input.
    let out = infer_on(
        lcm(&s.store())
            .args(["materialize", "inf_000000", "--header", &header])
            .args(["--query-file", "-"]),
        r#"{"image":"sha256:ab","crop":[0,0,8,8]}"#,
        0,
    );
    assert!(stdout(&out).contains("sha256:ab"));
    // Another value, a file that is not JSON, a missing file, both forms at once.
    std::fs::write(&query, r#"{"image":"sha256:ac","crop":[0,0,8,8]}"#).unwrap();
    let out = materialize(&s.store(), "inf_000000", &header, &["--query-file", q], 2);
    assert_stderr_has(&out, "not the one receipt inf_000000 committed to");
    std::fs::write(&output, "a cat\n").unwrap();
    let out = materialize(&s.store(), "inf_000000", &header, &["--output-file", o], 2);
    assert_stderr_has(&out, "--output-file");
    assert_stderr_has(&out, "expected one JSON value");
    let missing = s.path("missing.json");
    let out = materialize(
        &s.store(),
        "inf_000000",
        &header,
        &["--query-file", missing.to_str().unwrap()],
        2,
    );
    assert_stderr_has(&out, "missing.json");
    materialize(
        &s.store(),
        "inf_000000",
        &header,
        &["--query", "x", "--query-file", q],
        2,
    );
}

/// The `timestamp` of `lcm show inference-receipt ID`.
fn timestamp_of(s: &Scratch, id: &str) -> String {
    let out = run(lcm(&s.store()).args(["show", "inference-receipt", id]), 0);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("a receipt");
    v["timestamp"].as_str().expect("a timestamp").to_owned()
}

/// The receipt ids `lcm list receipts ARGS…` prints (its second column).
fn listed(s: &Scratch, args: &[&str]) -> Vec<String> {
    let out = run(lcm(&s.store()).args(["list", "receipts"]).args(args), 0);
    stdout(&out)
        .lines()
        .map(|l| l.split('\t').nth(1).expect("a receipt id").to_owned())
        .collect()
}

#[test]
fn receipts_are_found_by_request_id_and_listed_by_time() {
    let s = recorded("find-receipts");
    infer_derived(&s.store(), &lines(3, "early"), 0);
    std::thread::sleep(std::time::Duration::from_millis(30));
    infer_derived(&s.store(), &lines(3, "late"), 0);
    let all = listed(&s, &[]);
    assert_eq!(all.len(), 6, "{all:?}");
    // A request id finds its receipt as its receipt id does.
    let by_receipt = stdout(&run(
        lcm(&s.store()).args(["show", "inference-receipt", &all[4]]),
        0,
    ));
    let request = serde_json::from_str::<serde_json::Value>(&by_receipt).unwrap()["request_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(request, all[4]);
    let by_request = stdout(&run(
        lcm(&s.store()).args(["show", "inference-receipt", &request]),
        0,
    ));
    assert_eq!(by_request, by_receipt);
    let out = run(
        lcm(&s.store()).args(["show", "inference-receipt", "no-such-request"]),
        2,
    );
    assert_stderr_has(&out, "no-such-request");
    // A time range, in any precision and offset.
    let t3 = timestamp_of(&s, &all[3]);
    assert_eq!(listed(&s, &["--since", &t3]), all[3..]);
    assert_eq!(listed(&s, &["--until", &t3]), all[..4]);
    assert_eq!(listed(&s, &["--since", &t3, "--until", &t3]), all[3..4]);
    let offset = t3.replace('Z', "+00:00");
    assert_eq!(listed(&s, &["--since", &offset]), all[3..]);
    // Milliseconds only: at most the receipts of the same millisecond before it join.
    let millis = format!("{}Z", &t3[..23]);
    assert_eq!(listed(&s, &["--since", &millis]), all[3..]);
    let t2 = timestamp_of(&s, &all[2]);
    assert!(t2 < millis, "{t2} {millis}");
    assert_eq!(listed(&s, &["--until", &t2]), all[..3]);
    assert!(listed(&s, &["--until", "2000-01-01T00:00:00Z"]).is_empty());
    // --json lines as without a range.
    let json = run(
        lcm(&s.store()).args(["--json", "list", "receipts", "--since", &t3]),
        0,
    );
    assert_eq!(stdout(&json).lines().count(), 3);
    // An invalid time: exit 2 naming the flag and the expected form.
    for (flag, bad) in [("--since", "yesterday"), ("--until", "2026-12-07 01:00:00")] {
        let out = run(lcm(&s.store()).args(["list", "receipts", flag, bad]), 2);
        assert_stderr_has(&out, flag);
        assert_stderr_has(&out, "expected an RFC 3339 timestamp");
    }
    let out = run(lcm(&s.store()).args(["list", "batches", "--since", &t3]), 2);
    assert_stderr_has(&out, "lcm list receipts");
}

/// The memory of `lcm infer` does not grow with its input: after `WARM` receipts (past the
/// bulk writer's 16 MiB page cache, at about 400 bytes of store a receipt, and with every
/// stage of the pipeline full), the peak resident size (`VmHWM`) grows by less than
/// `BOUND_KIB` while `MORE` receipts are appended by the same process. What it holds is the
/// page cache and the batches in flight between its threads, both independent of the input's
/// length (docs/CLI.md, `lcm infer`).
#[test]
#[allow(clippy::print_stderr)] // The figures are printed for the docs.
fn infer_memory_does_not_grow_with_the_input() {
    use std::io::{BufRead as _, Write as _};
    const WARM: usize = 60_000;
    const MORE: usize = 120_000;
    const BOUND_KIB: u64 = 8 * 1024;
    let s = recorded("infer-memory");
    let (mut child, mut stdin) = spawn_fed(
        infer_cmd(&s.store()).args(["--batch-size", "1000"]),
        Stdio::null(),
    );
    let pid = child.id();
    // The feeder writes the second part only when told: the acknowledgments of the first
    // must all be read (and the peak sampled) before the input goes on.
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let feeder = std::thread::spawn(move || {
        stdin.write_all(lines(WARM, "w").as_bytes())?;
        if go_rx.recv().is_ok() {
            stdin.write_all(lines(MORE, "m").as_bytes())?;
        }
        Ok::<(), std::io::Error>(())
    });
    let mut reader = std::io::BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut line = String::new();
    let mut read_acks = |n: usize| {
        for _ in 0..n {
            line.clear();
            assert!(reader.read_line(&mut line).expect("an acknowledgment") > 0);
        }
    };
    let peak = || serve::read_status_kib(pid, "VmHWM").expect("lcm infer's VmHWM");
    read_acks(WARM);
    let warm = peak();
    go_tx.send(()).expect("the feeder waits");
    read_acks(MORE);
    let after = peak();
    feeder
        .join()
        .expect("the feeder")
        .expect("the input written");
    let status = child.wait().expect("wait for lcm infer");
    assert_eq!(status.code(), Some(0));
    eprintln!(
        "lcm infer memory: after {WARM} receipts VmHWM {warm} KiB; after {} VmHWM {after} KiB; \
         growth {} KiB (bound {BOUND_KIB})",
        WARM + MORE,
        after.saturating_sub(warm)
    );
    assert!(
        after.saturating_sub(warm) < BOUND_KIB,
        "VmHWM grew from {warm} to {after} KiB over {MORE} receipts"
    );
    assert_eq!(stored_receipts(&s.store()).len(), WARM + MORE);
}
