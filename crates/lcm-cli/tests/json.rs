//! Issue 15: every command's `--json` output, as docs/CLI.md ("JSON output") documents it. One
//! table runs every command of `lcm --help` (recursively) with `--json` on real stores and
//! files, and checks that standard output is one JSON document (or JSON Lines) holding the
//! documented top-level fields; a command without a row fails the test.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};

use super::*;

/// How a command's `--json` standard output is shaped.
#[derive(Clone, Copy, Debug)]
enum Shape {
    /// One JSON object.
    Object,
    /// JSON Lines: one object per line, at least one line.
    Lines,
    /// A server: one object on its first line, while it runs.
    Served,
}

/// One command line of the table.
struct Row {
    /// The command, as `lcm --help` names it (`log checkpoint`).
    command: &'static str,
    /// Its arguments after the command (`$ID` is replaced, see [`Table::substitute`]).
    args: Vec<String>,
    /// The store it runs on.
    store: PathBuf,
    /// The top-level fields every object printed must hold.
    fields: &'static [&'static str],
    shape: Shape,
    /// Its exit code.
    code: i32,
    /// Its standard input.
    stdin: &'static str,
}

/// The runnable commands of `lcm PREFIX --help`, recursively: a command with subcommands
/// counts itself too when its usage does not require one (`lcm fingerprint PATHS`).
fn commands(prefix: &[&str], found: &mut BTreeSet<String>) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lcm"));
    let help = stdout(&run(c.args(prefix).arg("--help"), 0));
    let mut names = Vec::new();
    let mut in_commands = false;
    for line in help.lines() {
        if line == "Commands:" {
            in_commands = true;
        } else if in_commands && line.is_empty() {
            in_commands = false;
        } else if in_commands && line.starts_with("  ") && !line.starts_with("   ") {
            let name = line.split_whitespace().next().expect("a command name");
            if name != "help" {
                names.push(name.to_owned());
            }
        }
    }
    let usage = help
        .lines()
        .find(|l| l.starts_with("Usage:"))
        .expect("a usage line");
    if !prefix.is_empty() && (names.is_empty() || !usage.trim_end().ends_with("<COMMAND>")) {
        found.insert(prefix.join(" "));
    }
    for name in names {
        let mut sub: Vec<&str> = prefix.to_vec();
        sub.push(&name);
        commands(&sub, found);
    }
}

/// The parsed objects of one row's standard output, checked against its shape and fields.
#[track_caller]
fn objects(row: &Row, text: &str) -> Vec<serde_json::Value> {
    let what = format!("lcm --json {} {}", row.command, row.args.join(" "));
    let documents: Vec<&str> = match row.shape {
        Shape::Object => vec![text],
        Shape::Lines | Shape::Served => text.lines().collect(),
    };
    assert!(!documents.is_empty(), "{what}: nothing on standard output");
    let mut values = Vec::new();
    for document in documents {
        let parsed = serde_json::from_str::<serde_json::Value>(document);
        assert!(parsed.is_ok(), "{what}: not JSON ({parsed:?}): {document}");
        let v = parsed.expect("checked");
        let object = v.as_object();
        assert!(object.is_some(), "{what}: not an object: {v}");
        for field in row.fields {
            let has = object.is_some_and(|o| o.contains_key(*field));
            assert!(has, "{what}: no {field:?} in {v}");
        }
        values.push(v);
    }
    values
}

/// The table being run, with the values later rows refer to.
struct Table {
    ids: BTreeMap<&'static str, String>,
}

impl Table {
    /// `arg` with `$TOKEN_ID` replaced by the id `token create` printed, `$RECEIPT_DIGEST` by
    /// the digest `log proof` printed.
    fn substitute(&self, arg: &str) -> String {
        match self.ids.get(arg) {
            Some(id) => id.clone(),
            None => arg.to_owned(),
        }
    }

    fn run(&mut self, row: &Row) -> usize {
        let args: Vec<String> = row.args.iter().map(|a| self.substitute(a)).collect();
        let row = &Row {
            args: args.clone(),
            store: row.store.clone(),
            stdin: row.stdin,
            ..*row
        };
        let mut cmd = lcm(&row.store);
        cmd.env("LCM_DATASET_PASSWORD", "family_password")
            .env("LCM_MODEL_PASSWORD", "model_password")
            .arg("--json")
            .args(row.command.split(' '))
            .args(&args);
        if let Shape::Served = row.shape {
            return served(row, cmd);
        }
        let out = infer_on(&mut cmd, row.stdin, row.code);
        let values = objects(row, &stdout(&out));
        let (name, field) = match row.command {
            "token create" => ("$TOKEN_ID", "id"),
            "log proof" => ("$RECEIPT_DIGEST", "digest"),
            _ => return values.len(),
        };
        let id = values[0][field].as_str().expect("an id").to_owned();
        self.ids.insert(name, id);
        values.len()
    }
}

/// Starts a server row, reads its first line of standard output and stops it.
fn served(row: &Row, mut cmd: Command) -> usize {
    // Standard error (`lcm: listening on …`) is the test's; standard input is not read.
    let mut child = cmd.stdout(Stdio::piped()).spawn().expect("start lcm serve");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    let read = BufReader::new(stdout).read_line(&mut line);
    let _ = child.kill();
    let _ = child.wait();
    read.expect("read the first line");
    let values = objects(row, &line);
    let address = values[0]["listening"].as_str().expect("an address");
    assert!(
        address.starts_with("127.0.0.1:") && !address.ends_with(":0"),
        "{address}"
    );
    values.len()
}

/// `strs` as owned strings.
fn owned(strs: &[&str]) -> Vec<String> {
    strs.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn every_command_prints_its_documented_json() {
    let s = Scratch::new("json-every");
    let (stages, lifecycle, demo) = (s.path("stages.db"), s.path("lifecycle.db"), s.store());
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/cli");
    let stage = |name: &str| {
        examples
            .join("stages")
            .join(format!("{name}.json"))
            .display()
            .to_string()
    };
    let file = |p: &str| s.path(p).display().to_string();
    let (dir, keys) = (file("out"), file("keys"));
    std::fs::create_dir_all(s.path("keys")).expect("keys folder");
    std::fs::write(s.path("a.bin"), b"weights").expect("a file");
    std::fs::write(s.path("b.bin"), b"weights, changed").expect("a file");
    let pyciaf: serde_json::Value = serde_json::from_str(include_str!(
        "../../../tests/vectors/pyciaf/reference-vectors.json"
    ))
    .expect("the vector file is JSON");
    let py = pyciaf["lifecycle"]["capsule_header"]["compact_json"]
        .as_str()
        .expect("the header text");
    std::fs::write(s.path("pyciaf.json"), py).expect("pyciaf header");
    let (signing, public) = (
        format!("{dir}/signing.key"),
        format!("{dir}/signing.key.pub"),
    );
    let (log_key, vkey) = (format!("{keys}/log.key"), format!("{keys}/log.key.vkey"));
    let (header, bundle, capsule) = (file("h.json"), file("b.json"), file("c.json"));
    let (cp, proof, tiles) = (file("cp.txt"), file("p.txt"), file("tiles"));
    let records: &[&str] = &["kind", "id", "digest"];
    let written = &[
        "kind",
        "path",
        "bytes",
        "deployment",
        "header_digest",
        "key_id",
        "generated_at",
        "receipts",
        "batches",
        "receipts_root",
        "chain_head",
        "release_root",
    ];
    let row = |command, args: &[&str], store: &PathBuf, fields, shape| Row {
        command,
        args: owned(args),
        store: store.clone(),
        fields,
        shape,
        code: 0,
        stdin: "",
    };
    let object = Shape::Object;
    let lines = Shape::Lines;
    #[rustfmt::skip]
    let rows = vec![
        // Stage by stage, on a store of its own.
        row("init", &[], &stages, &["created", "policy_digest", "schema_version", "store"], object),
        row("record dataset", &[&stage("dataset")], &stages, records, lines),
        row("record model", &[&stage("model")], &stages, records, lines),
        row("record training", &[&stage("training")], &stages, records, lines),
        row("record training", &[&stage("training-complete")], &stages, records, lines),
        row("record predeployment", &[&stage("predeployment")], &stages, records, lines),
        row("record deployment", &[&stage("deployment")], &stages, records, lines),
        row("record test", &[&stage("test")], &stages, records, lines),
        Row {
            stdin: include_str!("../../../examples/cli/inferences.jsonl"),
            ..row("infer", &["--deployment", "deploy_001"], &stages, &["sequence", "receipt_id", "digest"], lines)
        },
        row("batch close", &[], &stages, &["window_id", "first_sequence", "last_sequence", "count", "root", "digest"], object),
        row("record release", &["--deployment", "deploy_001", "--test", "test_001"], &stages, records, lines),
        row("record status", &["--deployment", "deploy_001", "--status", "failed", "--reason", "probe"], &stages, records, lines),
        // A whole lifecycle in one file.
        row("init", &[], &lifecycle, &["created"], object),
        row("record lifecycle", &[&examples.join("lifecycle.json").display().to_string()], &lifecycle, records, lines),
        // The demo's store and files.
        row("demo", &["--receipts", "20", "--out", &dir], &demo, &["store", "header", "bundle", "public_key", "key_id", "receipts", "batches", "records", "chain_head", "release_root"], object),
        row("keygen", &["--out", &log_key, "--name", "log.example"], &demo, &["private_key", "public_key", "key_id", "verifier_key", "vkey", "note_key_id"], object),
        row("check", &[], &demo, &["records", "receipts", "batches", "evidence", "chains"], object),
        row("list", &[], &demo, records, lines),
        row("list", &["receipts"], &demo, &["sequence", "receipt_id", "digest"], lines),
        row("list", &["lifecycles"], &demo, &["deployment", "receipts", "batches", "release_root"], lines),
        row("list", &["deployments"], &demo, &["deployment", "digest", "status", "released", "receipts"], lines),
        row("list", &["batches"], &demo, &["deployment", "window_id", "first_sequence", "last_sequence", "count", "digest"], lines),
        row("show", &["deployment-anchor", "deploy_001"], &demo, &["kind", "id", "digest", "record"], object),
        // The header names the log the checkpoints below are of (`log.example`), so that
        // `log verify-capsule` compares one origin.
        row("header", &["--key", &signing, "--name", "log.example", "--out", &header], &demo, written, object),
        row("export", &["--key", &signing, "--out", &bundle], &demo, written, object),
        row("materialize", &["inf_000003", "--header", &header, "--out", &capsule], &demo, &["kind", "path", "bytes", "header_digest", "item"], object),
        row("verify", &[&bundle, "--key", &public], &demo, &["valid", "kind", "checks", "key_id", "results", "not_applicable", "warnings", "synthetic", "trusted_keys"], object),
        row("verify", &[&header, "--key", &public], &demo, &["valid", "kind", "checks", "results"], object),
        row("inspect", &[&capsule], &demo, &["kind", "file", "summary", "header_digest", "item"], object),
        row("inspect", &[&bundle], &demo, &["kind", "file", "summary", "header_digest", "key_id", "policy_digest", "receipts", "records"], object),
        row("fingerprint", &[&file("a.bin")], &demo, &["path", "type", "algorithm", "digest", "bytes"], lines),
        row("fingerprint diff", &[&file("a.bin"), &file("a.bin")], &demo, &["equal", "algorithm", "a", "b", "files", "tensors"], object),
        // Files that differ: exit 1, the same object.
        Row { code: 1, ..row("fingerprint diff", &[&file("a.bin"), &file("b.bin")], &demo, &["equal", "files"], object) },
        row("log checkpoint", &["--key", &log_key, "--out", &cp], &demo, &["origin", "size", "root", "path"], object),
        row("log checkpoint", &["--key", &log_key], &demo, &["origin", "size", "root", "checkpoint"], object),
        row("log check", &[], &demo, &["valid", "deployment", "size", "root"], object),
        row("log prove", &["--from", &header], &demo, &["old_size", "new_size", "proof"], object),
        row("log verify", &[&cp, "--key", &vkey], &demo, &["valid", "origin", "size", "root", "witnesses", "log_key", "since"], object),
        row("log proof", &["--receipt", "inf_000003", "--key", &log_key, "--out", &proof], &demo, &["receipt_id", "index", "digest", "origin", "size", "root", "hashes", "path"], object),
        row("log proof", &["--receipt", "inf_000003", "--key", &log_key], &demo, &["receipt_id", "index", "digest", "proof"], object),
        row("log verify-proof", &[&proof, "--key", &vkey], &demo, &["valid", "digest", "index", "origin", "size", "root", "witnesses"], object),
        row("log verify-capsule", &[&capsule, "--header", &header, "--key", &public, "--checkpoint", &cp, "--log-key", &vkey], &demo, &["valid", "origin", "size", "header_receipts", "witnesses"], object),
        row("log export-tiles", &[&tiles, "--key", &log_key], &demo, &["dir", "origin", "size", "tiles", "entry_bundles"], object),
        row("log verify-tiles", &[&tiles, "--key", &vkey], &demo, &["valid", "origin", "size", "root", "tiles", "since", "entry"], object),
        row("log verify-tiles", &[&tiles, "--key", &vkey, "--since", &cp, "--digest", "$RECEIPT_DIGEST", "--index", "3"], &demo, &["since", "entry"], object),
        row("witness cosign", &[&cp, "--key", &log_key, "--name", "witness.example", "--state", &file("witness"), "--log-key", &vkey], &demo, &["cosigned", "origin", "size", "checkpoint"], object),
        row("token create", &["--deployment", "deploy_001", "--name", "ci"], &demo, &["token", "id", "deployment", "name", "created", "revoked"], object),
        row("token list", &[], &demo, &["id", "deployment", "name", "created", "revoked"], lines),
        row("token revoke", &["$TOKEN_ID"], &demo, &["id", "revoked"], object),
        row("serve", &["--listen", "127.0.0.1:0"], &demo, &["listening"], Shape::Served),
        row("example", &["lifecycle"], &demo, &["dataset", "model", "training", "deployment"], object),
        row("example", &["inferences"], &demo, &["request_id", "query", "output"], lines),
        row("schema", &[], &demo, &["kind", "command"], lines),
        row("schema", &["model"], &demo, &["$schema", "title", "type", "properties", "required"], object),
        row("compat audit", &[&file("pyciaf.json")], &demo, &["file", "file_sha256", "findings", "summary"], object),
        // Last: after the rotation the demo's first key signs no more headers.
        row("keygen", &["--out", &file("next.key")], &demo, &["private_key", "public_key", "key_id"], object),
        row("key rotate", &["--key", &signing, "--new-key", &file("next.key")], &demo, &["kind", "sequence", "old_key_id", "new_key_id", "rotated_at", "statement"], object),
        row("key list", &[], &demo, &["kind", "current", "keys"], object),
    ];

    let mut table = Table {
        ids: BTreeMap::new(),
    };
    for r in &rows {
        assert!(table.run(r) > 0);
    }
    let tested: BTreeSet<String> = rows.iter().map(|r| r.command.to_owned()).collect();
    let mut listed = BTreeSet::new();
    commands(&[], &mut listed);
    let missing: Vec<&String> = listed.iter().filter(|c| !tested.contains(*c)).collect();
    assert!(
        missing.is_empty(),
        "commands without a --json row: {missing:?}"
    );
    let stale: Vec<&String> = tested.difference(&listed).collect();
    assert!(
        stale.is_empty(),
        "rows of commands lcm --help does not list: {stale:?}"
    );
    assert!(listed.len() >= 40, "{listed:?}");
}

#[test]
fn verify_json_gives_each_check_with_its_stage_and_result() {
    let (s, dir) = demo("json-checks");
    let out = run(
        lcm(&s.store())
            .args(["--json", "verify"])
            .arg(dir.join("bundle.json"))
            .arg("--key")
            .arg(dir.join("signing.key.pub")),
        0,
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let results = v["results"].as_array().expect("results");
    assert_eq!(v["checks"].as_u64(), Some(results.len() as u64));
    for r in results {
        for field in ["stage", "check", "record", "field", "result"] {
            assert!(r.get(field).is_some(), "{field} not in {r}");
        }
        assert_eq!(r["result"], "passed", "{r}");
    }
    let stages: BTreeSet<&str> = results.iter().filter_map(|r| r["stage"].as_str()).collect();
    for stage in ["header", "A dataset", "B model", "C training"] {
        assert!(stages.contains(stage), "{stage} not in {stages:?}");
    }
}
