//! The store commands of the real `lcm` binary on a `PostgreSQL` store (`--store
//! postgres://…`, here through `LCM_STORE`): the issue's contract that `lcm check`, `lcm
//! export` and the other store commands accept a `postgres://` URL. They run when
//! `LCM_TEST_POSTGRES_URL` names a server (each test in a fresh schema, dropped after) and
//! say that they are skipped otherwise; the URL errors run always.

use std::path::{Path, PathBuf};

use super::{
    LIFECYCLE, Scratch, infer, infer_at_once, lcm, lines, materialize, p, run, signed, stderr,
    stdout,
};

/// A fresh schema on the test server, dropped on drop; its URL is the store's location.
struct PgStore {
    server: String,
    schema: String,
    url: PathBuf,
}

impl PgStore {
    // The skip line is the test's output, as `cargo test` shows it.
    #[allow(clippy::print_stdout)]
    fn new(name: &str) -> Option<Self> {
        let Some(server) = super::postgres_url() else {
            println!("{name}: PostgreSQL skipped (set LCM_TEST_POSTGRES_URL to run it)");
            return None;
        };
        let schema = format!("lcm_cli_{name}_{}", std::process::id());
        let mut client = postgres::Client::connect(&server, postgres::NoTls).expect("the server");
        client
            .batch_execute(&format!(
                "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
            ))
            .expect("a fresh schema");
        let sep = if server.contains('?') { '&' } else { '?' };
        let url = PathBuf::from(format!("{server}{sep}options=-csearch_path%3D{schema}"));
        Some(Self {
            server,
            schema,
            url,
        })
    }

    /// Raw SQL in the store's schema, as a tamperer would run it.
    fn sql(&self, sql: &str) -> Result<(), postgres::Error> {
        let mut client = postgres::Client::connect(&self.server, postgres::NoTls)?;
        client.batch_execute(&format!("SET search_path TO {}; {sql}", self.schema))
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        if let Ok(mut client) = postgres::Client::connect(&self.server, postgres::NoTls) {
            let _ = client.batch_execute(&format!("DROP SCHEMA {} CASCADE", self.schema));
        }
    }
}

#[test]
fn every_store_command_works_on_a_postgres_url() {
    let Some(pg) = PgStore::new("e2e") else {
        return;
    };
    let s = Scratch::new("pg-e2e");
    let store = pg.url.as_path();
    // Nothing there yet: an input error.
    let out = run(lcm(store).arg("check"), 2);
    assert!(stderr(&out).contains("no store at"), "{}", stderr(&out));
    let first: serde_json::Value =
        serde_json::from_slice(&run(lcm(store).args(["init", "--json"]), 0).stdout).unwrap();
    assert_eq!(first["created"], true);
    let again: serde_json::Value =
        serde_json::from_slice(&run(lcm(store).args(["init", "--json"]), 0).stdout).unwrap();
    assert_eq!(again["created"], false);
    assert_eq!(first["policy_digest"], again["policy_digest"]);
    run(
        lcm(store)
            .args(["record", "lifecycle", LIFECYCLE])
            .env("LCM_DATASET_PASSWORD", "family_password")
            .env("LCM_MODEL_PASSWORD", "model_password"),
        0,
    );
    let out = infer(store, &lines(25, "a"), 0);
    let acks: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
    assert_eq!(acks.len(), 25);
    assert!(acks[0].starts_with("0\ta_0\t"));
    // Three processes append to the one chain at once.
    let writers = infer_at_once(store, &["p", "q", "r"], 100);
    let acked: usize = writers.iter().map(Vec::len).sum();
    assert_eq!(acked, 300);
    let listed = stdout(&run(lcm(store).args(["list", "receipts"]), 0));
    assert_eq!(listed.lines().count(), 325);
    let out = run(lcm(store).args(["batch", "close", "--json"]), 0);
    let batch: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(batch["count"], 325);
    let report: serde_json::Value =
        serde_json::from_slice(&run(lcm(store).args(["check", "--json"]), 0).stdout).unwrap();
    assert_eq!(report["receipts"], 325);
    assert_eq!(report["batches"], 1);
    let shown: serde_json::Value = serde_json::from_slice(
        &run(
            lcm(store).args(["show", "inference-receipt", "a_3", "--json"]),
            0,
        )
        .stdout,
    )
    .unwrap();
    assert_eq!(shown["record"]["sequence"], 3);
    run(lcm(store).args(["list"]), 0);
    // Header, bundle, capsule and checkpoint from the PostgreSQL store verify offline.
    let key = s.path("k");
    run(lcm(store).args(["keygen", "--out", p(&key)]), 0);
    let public = s.path("k.pub");
    let header = s.path("h.json");
    let bundle = s.path("b.json");
    let capsule = s.path("c.json");
    signed(store, "header", &key, &header);
    signed(store, "export", &key, &bundle);
    materialize(store, "a_7", p(&header), &["--out", p(&capsule)], 0);
    for (file, extra) in [
        (&header, vec![]),
        (&bundle, vec![]),
        (&capsule, vec!["--header", p(&header)]),
    ] {
        run(
            lcm(store)
                .args(["verify", p(file), "--key", p(&public)])
                .args(extra),
            0,
        );
    }
    let log_key = s.path("log.key");
    run(
        lcm(store).args(["keygen", "--out", p(&log_key), "--name", "example.com/lcm"]),
        0,
    );
    let cp = s.path("cp");
    run(
        lcm(store).args(["log", "checkpoint", "--key", p(&log_key), "--out", p(&cp)]),
        0,
    );
    let text = std::fs::read_to_string(&cp).unwrap();
    assert!(text.starts_with("example.com/lcm\n325\n"), "{text}");
    // The database refuses an edit; with the trigger disabled, `lcm check` names it (exit 1).
    let refused = pg.sql("UPDATE receipts SET json = json || ' ' WHERE sequence = 1");
    assert!(refused.is_err());
    pg.sql("ALTER TABLE receipts DISABLE TRIGGER receipts_append_only")
        .unwrap();
    let out = run(lcm(store).arg("check"), 1);
    assert!(
        stderr(&out).contains("receipts_append_only"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_bad_or_unreachable_postgres_url_is_an_input_error_without_its_password() {
    for url in [
        "postgres://lcm:s3cret@127.0.0.1:notaport/lcm",
        "postgresql://lcm:s3cret@127.0.0.1:1/lcm?connect_timeout=5",
        "postgres://lcm@127.0.0.1:1/lcm?password=s3cret&connect_timeout=5",
    ] {
        for args in [&["check"][..], &["init"], &["list", "receipts"]] {
            let out = run(lcm(Path::new(url)).args(args), 2);
            let err = stderr(&out);
            assert!(!err.contains("s3cret"), "{err}");
            assert!(
                err.contains("error connecting to server: Connection refused")
                    || err.contains("invalid connection string: invalid value for option `port`"),
                "{err}"
            );
        }
    }
    // A password in LCM_STORE is not shown by --help either.
    let out = run(
        lcm(Path::new("postgres://lcm:s3cret@db/lcm")).arg("--help"),
        0,
    );
    assert!(!stdout(&out).contains("s3cret"));
}
