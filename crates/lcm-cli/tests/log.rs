//! `lcm log` and `lcm witness` with the real binary: checkpoints whose root is the header's,
//! consistency proofs, forks of two copies of one store, rollbacks, witness quorums, offline
//! receipt proofs and static tiles, each with tamper twins.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::{
    Scratch, assert_stderr_has, assert_stdout_has, infer, kill_infer_after, lcm, lines,
    materialize, p, recorded, run, signed, stderr, stdout, with_receipts,
};

/// `lcm keygen --out NAME --name ORIGIN [--witness]` in the scratch directory.
fn keygen(s: &Scratch, file: &str, name: &str, witness: bool) -> PathBuf {
    let key = s.path(file);
    let mut cmd = lcm(&s.store());
    cmd.args(["keygen", "--out", p(&key), "--name", name]);
    if witness {
        cmd.arg("--witness");
    }
    run(&mut cmd, 0);
    key
}

fn vkey(key: &Path) -> PathBuf {
    PathBuf::from(format!("{}.vkey", key.display()))
}

/// `lcm log checkpoint --key KEY --out FILE` on `store`.
fn checkpoint(store: &Path, key: &Path, out: &Path) {
    run(
        lcm(store).args(["log", "checkpoint", "--key", p(key), "--out", p(out)]),
        0,
    );
}

/// `lcm log checkpoint` of `s`'s store with `key`, written to the scratch file `name`.
fn checkpointed(s: &Scratch, key: &Path, name: &str) -> PathBuf {
    let out = s.path(name);
    checkpoint(&s.store(), key, &out);
    out
}

/// `lcm log prove --from OLD --out FILE` on `store`.
fn prove(store: &Path, old: &Path, out: &Path, code: i32) -> Output {
    run(
        lcm(store).args(["log", "prove", "--from", p(old), "--out", p(out)]),
        code,
    )
}

/// `lcm log verify CHECKPOINT --key VKEY ARGS...`.
fn log_verify(s: &Scratch, cp: &Path, key: &str, args: &[&str], code: i32) -> Output {
    run(
        lcm(&s.store())
            .args(["log", "verify", p(cp), "--key", key])
            .args(args),
        code,
    )
}

/// `lcm log verify NEW --key VKEY --since OLD [--proof PROOF]`.
fn verify_since(
    s: &Scratch,
    new: &Path,
    vk: &Path,
    old: &Path,
    proof: Option<&Path>,
    code: i32,
) -> Output {
    let mut args = vec!["--since", p(old)];
    if let Some(proof) = proof {
        args.extend(["--proof", p(proof)]);
    }
    log_verify(s, new, p(vk), &args, code)
}

/// Runs `check` with byte `at` of `file` flipped, then puts the file back as it was.
fn with_flipped_byte<T>(file: &Path, at: usize, check: impl FnOnce() -> T) -> T {
    let original = std::fs::read(file).expect("read the file");
    let mut bytes = original.clone();
    bytes[at] ^= 1;
    std::fs::write(file, &bytes).expect("write the flipped byte");
    let result = check();
    std::fs::write(file, &original).expect("put the file back");
    result
}

/// A recorded store with `receipts` receipts (`a_0`, ...) and the log key `log.key` of
/// `example.com/lcm`.
fn logged(name: &str, receipts: usize) -> (Scratch, PathBuf) {
    let s = with_receipts(name, receipts);
    let key = keygen(&s, "log.key", "example.com/lcm", false);
    (s, key)
}

/// A copy of the store `copy.db`, then `receipts` different receipts appended to each
/// (`b_*` to the store, `c_*` to the copy): two logs that fork.
fn diverged_copy(s: &Scratch, receipts: usize) -> PathBuf {
    let copy = s.path("copy.db");
    copy_store(&s.store(), &copy);
    infer(&s.store(), &lines(receipts, "b"), 0);
    infer(&copy, &lines(receipts, "c"), 0);
    copy
}

/// Runs `cmd` with `--proof PROOF` when there is one.
fn run_with_proof(cmd: &mut Command, proof: Option<&Path>, code: i32) -> Output {
    if let Some(proof) = proof {
        cmd.args(["--proof", p(proof)]);
    }
    run(cmd, code)
}

/// Copies a store file (with its WAL, if any) to `to`.
fn copy_store(from: &Path, to: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let src = PathBuf::from(format!("{}{suffix}", from.display()));
        if src.exists() {
            std::fs::copy(&src, format!("{}{suffix}", to.display())).expect("copy the store");
        }
    }
}

#[test]
fn keygen_name_writes_the_verifier_key() {
    let s = Scratch::new("log-keygen");
    let key = keygen(&s, "log.key", "example.com/log", false);
    let text = std::fs::read_to_string(vkey(&key)).unwrap();
    let line = text.strip_suffix('\n').unwrap();
    let fields: Vec<&str> = line.splitn(3, '+').collect();
    assert_eq!(fields[0], "example.com/log");
    assert_eq!(fields[1].len(), 8);
    // base64(0x01 || 32-byte key) starts with "A" (0x01 = 000000 01....).
    assert!(fields[2].starts_with('A'), "{line}");
    let w = keygen(&s, "w.key", "witness.example", true);
    let wtext = std::fs::read_to_string(vkey(&w)).unwrap();
    // Type 0x04: base64 starts with "B".
    assert!(wtext.split('+').nth(2).unwrap().starts_with('B'), "{wtext}");
    // A name with a '+' or a space is refused before anything is written.
    let bad = s.path("bad.key");
    run(
        lcm(&s.store()).args(["keygen", "--out", p(&bad), "--name", "a+b"]),
        2,
    );
    assert!(!bad.exists());
    run(
        lcm(&s.store()).args(["keygen", "--out", p(&bad), "--witness"]),
        2,
    );
    // An existing vkey is not overwritten without --force.
    run(
        lcm(&s.store()).args(["keygen", "--out", p(&key), "--name", "x"]),
        2,
    );
}

#[test]
fn a_checkpoint_is_the_headers_receipts_root_and_verifies() {
    let (s, key) = logged("log-checkpoint", 300);
    let cp = checkpointed(&s, &key, "c1");
    let text = std::fs::read_to_string(&cp).unwrap();
    assert!(text.starts_with("example.com/lcm\n300\n"), "{text}");
    assert!(text.contains("\n\n— example.com/lcm "), "{text}");
    // Without --out: standard output, the same note format.
    let printed = stdout(&run(
        lcm(&s.store()).args(["log", "checkpoint", "--key", p(&key)]),
        0,
    ));
    assert!(printed.starts_with("example.com/lcm\n300\n"));
    // The root is the header's receipts root.
    let header = s.path("h.json");
    signed(&s.store(), "header", &key, &header);
    let h: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&header).unwrap()).unwrap();
    let out = log_verify(&s, &cp, p(&vkey(&key)), &["--json"], 0);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["size"], 300);
    assert_eq!(v["root"], h["stage_g_inference"]["receipts_root"], "{h}");
    // The key as text works as well as the file.
    let key_text = std::fs::read_to_string(vkey(&key)).unwrap();
    log_verify(&s, &cp, key_text.trim_end(), &[], 0);
    // Tamper twins: one digit of the size, one character of the root, the signature.
    let tampered = s.path("t");
    std::fs::write(&tampered, text.replacen("\n300\n", "\n301\n", 1)).unwrap();
    let out = log_verify(&s, &tampered, p(&vkey(&key)), &[], 1);
    assert_stderr_has(&out, "signature");
    // A signature line with one byte changed.
    let sig_line = text.lines().last().unwrap();
    let mut sig: Vec<char> = sig_line.chars().collect();
    let i = sig.len() - 10;
    sig[i] = if sig[i] == 'A' { 'B' } else { 'A' };
    let sig: String = sig.into_iter().collect();
    std::fs::write(&tampered, text.replacen(sig_line, &sig, 1)).unwrap();
    log_verify(&s, &tampered, p(&vkey(&key)), &[], 1);
    let root_line = text.lines().nth(2).unwrap();
    let mut changed: Vec<char> = root_line.chars().collect();
    changed[0] = if changed[0] == 'A' { 'B' } else { 'A' };
    let changed: String = changed.into_iter().collect();
    std::fs::write(&tampered, text.replacen(root_line, &changed, 1)).unwrap();
    log_verify(&s, &tampered, p(&vkey(&key)), &[], 1);
    // Another log's key: its signature is unknown, so no known key signed.
    let other = keygen(&s, "other.key", "example.com/lcm", false);
    let out = log_verify(&s, &cp, p(&vkey(&other)), &[], 1);
    assert_stderr_has(&out, "signature");
    // Malformed input: exit 2.
    std::fs::write(&tampered, "not a checkpoint").unwrap();
    log_verify(&s, &tampered, p(&vkey(&key)), &[], 2);
    log_verify(&s, &cp, "not-a-key", &[], 2);
    // A keyfile whose .vkey is another key's is refused.
    std::fs::copy(vkey(&other), vkey(&key)).unwrap();
    run(
        lcm(&s.store()).args(["log", "checkpoint", "--key", p(&key)]),
        2,
    );
    // A key file that is not a key.
    run(
        lcm(&s.store()).args(["log", "checkpoint", "--key", p(&cp)]),
        2,
    );
}

#[test]
fn two_copies_of_one_store_diverging_are_a_fork() {
    let (s, key) = logged("log-fork", 300);
    let vk = vkey(&key);
    let c1 = checkpointed(&s, &key, "c1");
    let copy = diverged_copy(&s, 100);
    let (c2, c2x) = (s.path("c2"), s.path("c2x"));
    checkpoint(&s.store(), &key, &c2);
    checkpoint(&copy, &key, &c2x);
    // Each extends c1 with a proof from its own store.
    let (p2, p2x) = (s.path("p2"), s.path("p2x"));
    prove(&s.store(), &c1, &p2, 0);
    prove(&copy, &c1, &p2x, 0);
    let proof_text = std::fs::read_to_string(&p2).unwrap();
    assert!(proof_text.lines().all(|l| l.len() == 44), "{proof_text}");
    let out = verify_since(&s, &c2, &vk, &c1, Some(&p2), 0);
    assert!(stdout(&out).contains("extends the checkpoint of size 300"));
    verify_since(&s, &c2x, &vk, &c1, Some(&p2x), 0);
    // The two copies: same size, different roots — a fork, with both signed states.
    let out = verify_since(&s, &c2x, &vk, &c2, None, 1);
    assert_stderr_has(&out, "fork");
    let evidence = stdout(&out);
    assert!(evidence.contains(&std::fs::read_to_string(&c2).unwrap()));
    assert!(evidence.contains(&std::fs::read_to_string(&c2x).unwrap()));
    // The copy grows on: its proof from c2 cannot be made (the prover sees the fork), and
    // the other copy's proof does not verify.
    infer(&copy, &lines(50, "d"), 0);
    let c3x = s.path("c3x");
    checkpoint(&copy, &key, &c3x);
    let p3 = s.path("p3");
    let out = prove(&copy, &c2, &p3, 1);
    assert_stderr_has(&out, "fork");
    prove(&copy, &c2x, &p3, 0);
    let out = verify_since(&s, &c3x, &vk, &c2, Some(&p3), 1);
    assert_stderr_has(&out, "fork");
    // Without a proof, a larger checkpoint is not shown to extend: a fork (no proof).
    verify_since(&s, &c3x, &vk, &c2x, None, 1);
    verify_since(&s, &c3x, &vk, &c2x, Some(&p3), 0);
    // A rollback: the older checkpoint given as the newer.
    let out = verify_since(&s, &c1, &vk, &c2, None, 1);
    assert_stderr_has(&out, "rollback");
    assert!(stdout(&out).contains("rollback evidence"));
    let out = prove(&s.store(), &c3x, &p3, 1);
    assert_stderr_has(&out, "rollback");
    // Malformed proof: exit 2.
    std::fs::write(&p3, "not base64\n").unwrap();
    verify_since(&s, &c3x, &vk, &c2x, Some(&p3), 2);
}

#[test]
fn witnesses_cosign_consistent_checkpoints_and_a_quorum_is_required() {
    let (s, key) = logged("log-witness", 10);
    let vk = vkey(&key);
    let (w1, w2) = (
        keygen(&s, "w1.key", "w1.example", true),
        keygen(&s, "w2.key", "w2.example", true),
    );
    let (state1, state2) = (s.path("state1"), s.path("state2"));
    let cosign = |w: &Path, name: &str, state: &Path, cp: &Path, proof: Option<&Path>, code| {
        run_with_proof(
            lcm(&s.store()).args([
                "witness",
                "cosign",
                p(cp),
                "--key",
                p(w),
                "--name",
                name,
                "--state",
                p(state),
                "--log-key",
                p(&vk),
            ]),
            proof,
            code,
        )
    };
    let c1 = checkpointed(&s, &key, "c1");
    // w1 cosigns; then w2 cosigns w1's output: two cosignatures.
    let once = s.path("c1.w1");
    std::fs::write(
        &once,
        stdout(&cosign(&w1, "w1.example", &state1, &c1, None, 0)),
    )
    .unwrap();
    let twice = s.path("c1.w12");
    std::fs::write(
        &twice,
        stdout(&cosign(&w2, "w2.example", &state2, &once, None, 0)),
    )
    .unwrap();
    let (v1, v2) = (vkey(&w1), vkey(&w2));
    let both = |quorum| ["--witness", p(&v1), "--witness", p(&v2), "--quorum", quorum];
    log_verify(&s, &once, p(&vk), &both("1"), 0);
    let out = log_verify(&s, &once, p(&vk), &both("2"), 1);
    assert_stderr_has(&out, "quorum");
    log_verify(&s, &twice, p(&vk), &both("2"), 0);
    // Witnesses not named are ignored: quorum 1 of w2 alone on w1's cosignature fails.
    log_verify(
        &s,
        &once,
        p(&vk),
        &["--witness", p(&vkey(&w2)), "--quorum", "1"],
        1,
    );
    // The state keeps the latest cosigned checkpoint per origin.
    let held = state1.join("example.com%2Flcm.checkpoint");
    assert_eq!(
        std::fs::read_to_string(&held).unwrap(),
        std::fs::read_to_string(&once).unwrap()
    );

    // The log grows: w1 needs a proof from what it holds.
    infer(&s.store(), &lines(5, "b"), 0);
    let c2 = checkpointed(&s, &key, "c2");
    let out = cosign(&w1, "w1.example", &state1, &c2, None, 1);
    assert_stderr_has(&out, "proof");
    let proof = s.path("p12");
    prove(&s.store(), &c1, &proof, 0);
    cosign(&w1, "w1.example", &state1, &c2, Some(&proof), 0);
    let latest = std::fs::read_to_string(&held).unwrap();
    assert!(latest.starts_with("example.com/lcm\n15\n"));
    // A rollback is refused and the state is unchanged.
    let out = cosign(&w1, "w1.example", &state1, &c1, None, 1);
    assert_stderr_has(&out, "rollback");
    assert_eq!(std::fs::read_to_string(&held).unwrap(), latest);
    // A fork (a copy of the store at 10, grown differently to 15) is refused, and both
    // signed checkpoints are kept.
    let copy = s.path("copy.db");
    let forked = s.path("forked");
    {
        // Another store of the same lifecycle whose chain diverges from the first receipt.
        let f = recorded("log-witness-fork");
        infer(&f.store(), &lines(10, "a"), 0);
        infer(&f.store(), &lines(5, "x"), 0);
        copy_store(&f.store(), &copy);
    }
    checkpoint(&copy, &key, &forked);
    let out = cosign(&w1, "w1.example", &state1, &forked, None, 1);
    assert_stderr_has(&out, "fork");
    let kept: Vec<String> = std::fs::read_dir(state1.join("forks"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(kept.len(), 2);
    assert!(kept.contains(&latest));
    assert!(kept.contains(&std::fs::read_to_string(&forked).unwrap()));
    assert_eq!(std::fs::read_to_string(&held).unwrap(), latest);
    // A checkpoint signed by another key is refused.
    let other = keygen(&s, "other.key", "example.com/lcm", false);
    let bad = s.path("bad");
    checkpoint(&s.store(), &other, &bad);
    let out = cosign(&w1, "w1.example", &state1, &bad, None, 1);
    assert_stderr_has(&out, "signature");
    assert_eq!(std::fs::read_to_string(&held).unwrap(), latest);
}

/// Real checkpoints of the Go checksum database verify; a changed character fails; two of
/// them without a proof are not shown consistent.
#[test]
fn checkpoints_of_another_log_verify() {
    let s = Scratch::new("log-sumdb");
    let v: serde_json::Value = serde_json::from_str(include_str!(
        "../../lcm-tlog/tests/vectors/c2sp/sumdb-checkpoints.json"
    ))
    .unwrap();
    let vk = v["vkey"].as_str().unwrap();
    let cps: Vec<&str> = v["checkpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let (small, large) = (s.path("small"), s.path("large"));
    // 3,784,599 and 63,512,409 leaves.
    std::fs::write(&small, cps[0]).unwrap();
    std::fs::write(&large, cps[1]).unwrap();
    let out = log_verify(&s, &small, vk, &[], 0);
    assert!(stdout(&out).contains("origin go.sum database tree, size 3784599"));
    log_verify(&s, &large, vk, &[], 0);
    let tampered = s.path("t");
    std::fs::write(&tampered, cps[0].replacen("3784599", "3784598", 1)).unwrap();
    log_verify(&s, &tampered, vk, &[], 1);
    let out = log_verify(&s, &small, vk, &["--since", p(&large)], 1);
    assert_stderr_has(&out, "rollback");
    let out = log_verify(&s, &large, vk, &["--since", p(&small)], 1);
    assert_stderr_has(&out, "no consistency proof");
}

#[test]
fn an_offline_receipt_proof_verifies_with_keys_alone() {
    let (s, key) = logged("log-proof", 700);
    let vk = vkey(&key);
    let w = keygen(&s, "w.key", "w.example", true);
    // `lcm log proof --receipt RECEIPT ARGS…`.
    let receipt_proof = |receipt: &str, args: &[&str], code| {
        run(
            lcm(&s.store())
                .args(["log", "proof", "--receipt", receipt])
                .args(args),
            code,
        )
    };
    let proof = s.path("a_517.tlog-proof");
    receipt_proof("a_517", &["--key", p(&key), "--out", p(&proof)], 0);
    let text = std::fs::read_to_string(&proof).unwrap();
    assert!(text.starts_with("c2sp.org/tlog-proof@v1\nextra "), "{text}");
    assert!(text.contains("\nindex 517\n"), "{text}");
    let verify = |file: &Path, args: &[&str], code| {
        run(
            lcm(&s.store())
                .args(["log", "verify-proof", p(file), "--key", p(&vk)])
                .args(args),
            code,
        )
    };
    let out = verify(&proof, &[], 0);
    assert!(stdout(&out).contains("is entry 517 of example.com/lcm (size 700"));
    // The receipt's digest, as the store lists it.
    let listed = stdout(&run(lcm(&s.store()).args(["list", "receipts"]), 0));
    let line = listed.lines().find(|l| l.starts_with("517\t")).unwrap();
    let digest = line.split('\t').nth(2).unwrap();
    verify(&proof, &["--digest", digest], 0);
    // Tamper twins: another receipt's digest, another index, one proof hash, the size.
    let other = listed.lines().find(|l| l.starts_with("516\t")).unwrap();
    let out = verify(&proof, &["--digest", other.split('\t').nth(2).unwrap()], 1);
    assert_stderr_has(&out, "inclusion");
    let t = s.path("t");
    std::fs::write(&t, text.replacen("\nindex 517\n", "\nindex 516\n", 1)).unwrap();
    verify(&t, &[], 1);
    let hash_line = text.lines().nth(3).unwrap();
    let swapped: String = hash_line
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if i == 5 {
                if c == 'A' { 'B' } else { 'A' }
            } else {
                c
            }
        })
        .collect();
    std::fs::write(&t, text.replacen(hash_line, &swapped, 1)).unwrap();
    verify(&t, &[], 1);
    std::fs::write(&t, text.replacen("\n700\n", "\n701\n", 1)).unwrap();
    let out = verify(&t, &[], 1);
    assert_stderr_has(&out, "signature");
    // A quorum of a witness that did not cosign fails; after cosigning it verifies.
    let out = verify(&proof, &["--witness", p(&vkey(&w)), "--quorum", "1"], 1);
    assert_stderr_has(&out, "quorum");
    let cp = checkpointed(&s, &key, "cp");
    let cosigned = stdout(&run(
        lcm(&s.store()).args([
            "witness",
            "cosign",
            p(&cp),
            "--key",
            p(&w),
            "--name",
            "w.example",
            "--state",
            p(&s.path("wstate")),
            "--log-key",
            p(&vk),
        ]),
        0,
    ));
    std::fs::write(&cp, cosigned).unwrap();
    let witnessed = s.path("witnessed.tlog-proof");
    receipt_proof(
        "a_517",
        &["--checkpoint", p(&cp), "--out", p(&witnessed)],
        0,
    );
    verify(&witnessed, &["--witness", p(&vkey(&w)), "--quorum", "1"], 0);
    // A checkpoint of another store is not a state of this log.
    let f = recorded("log-proof-fork");
    infer(&f.store(), &lines(700, "z"), 0);
    let other_cp = s.path("other_cp");
    checkpoint(&f.store(), &key, &other_cp);
    let out = receipt_proof("a_517", &["--checkpoint", p(&other_cp)], 1);
    assert_stderr_has(&out, "fork");
    // Truncated or garbage: exit 2.
    std::fs::write(&t, &text[..40]).unwrap();
    verify(&t, &[], 2);
    let unknown = receipt_proof("nope", &["--key", p(&key)], 2);
    assert!(stderr(&unknown).contains("nope"));
}

#[test]
fn exported_tiles_verify_and_monitor_consistency() {
    let (s, key) = logged("log-tiles", 600);
    let vk = vkey(&key);
    let c1 = checkpointed(&s, &key, "c1");
    infer(&s.store(), &lines(100, "b"), 0);
    let dir = s.path("tiles");
    run(
        lcm(&s.store()).args(["log", "export-tiles", p(&dir), "--key", p(&key)]),
        0,
    );
    // 700 leaves: level-0 tiles 0, 1 and 2.p/188, level 1 tile 0.p/2, and entry bundles.
    for f in [
        "checkpoint",
        "tile/0/000",
        "tile/0/001",
        "tile/0/002.p/188",
        "tile/1/000.p/2",
        "tile/entries/000",
        "tile/entries/002.p/188",
    ] {
        assert!(dir.join(f).exists(), "{f}");
    }
    assert_eq!(
        std::fs::metadata(dir.join("tile/0/000")).unwrap().len(),
        256 * 32
    );
    let verify = |args: &[&str], code| {
        run(
            lcm(&s.store())
                .args(["log", "verify-tiles", p(&dir), "--key", p(&vk)])
                .args(args),
            code,
        )
    };
    let out = verify(&[], 0);
    assert_stdout_has(&out, "size 700");
    let out = verify(&["--since", p(&c1)], 0);
    assert!(stdout(&out).contains("extends the checkpoint of size 600"));
    let listed = stdout(&run(lcm(&s.store()).args(["list", "receipts"]), 0));
    let digest = |seq: &str| -> String {
        let line = listed
            .lines()
            .find(|l| l.starts_with(&format!("{seq}\t")))
            .unwrap();
        line.split('\t').nth(2).unwrap().to_owned()
    };
    verify(&["--digest", &digest("650"), "--index", "650"], 0);
    verify(&["--digest", &digest("651"), "--index", "650"], 1);
    // A checkpoint of a diverging copy is a fork of the exported log.
    let f = recorded("log-tiles-fork");
    infer(&f.store(), &lines(600, "z"), 0);
    let cf = s.path("cf");
    checkpoint(&f.store(), &key, &cf);
    let out = verify(&["--since", p(&cf)], 1);
    assert_stderr_has(&out, "fork");
    // Tamper twins: one byte of a tile, one byte of an entry bundle.
    with_flipped_byte(&dir.join("tile/0/001"), 100, || verify(&[], 1));
    with_flipped_byte(&dir.join("tile/entries/002.p/188"), 40, || verify(&[], 1));
    verify(&[], 0);
}

/// Receipts acknowledged before a `kill -9` are in the log: its size is the chain's, and its
/// root the header's receipts root.
#[test]
fn the_log_survives_kill_9() {
    let s = recorded("log-kill9");
    let acked = u64::try_from(kill_infer_after(&s.store(), "50", 700).len()).unwrap();
    let stored = u64::try_from(
        stdout(&run(lcm(&s.store()).args(["list", "receipts"]), 0))
            .lines()
            .count(),
    )
    .unwrap();
    assert!(stored >= acked);
    let key = keygen(&s, "log.key", "example.com/lcm", false);
    let cp = checkpointed(&s, &key, "cp");
    let out = log_verify(&s, &cp, p(&vkey(&key)), &["--json"], 0);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["size"], stored);
    let header = s.path("h.json");
    signed(&s.store(), "header", &key, &header);
    let h: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&header).unwrap()).unwrap();
    assert_eq!(v["root"], h["stage_g_inference"]["receipts_root"]);
    let out = run(lcm(&s.store()).args(["log", "check"]), 0);
    assert_stdout_has(&out, &format!("{stored} leaves"));
    // Appends continue the log after the crash.
    infer(&s.store(), &lines(3, "after"), 0);
    checkpoint(&s.store(), &key, &cp);
    assert!(
        std::fs::read_to_string(&cp)
            .unwrap()
            .starts_with(&format!("example.com/lcm\n{}\n", stored + 3))
    );
    // Tamper twin: one hash of a stored tile is found by `lcm log check`.
    {
        let conn = rusqlite::Connection::open(s.store()).unwrap();
        conn.execute_batch("DROP TRIGGER log_tiles_only_grow;")
            .unwrap();
        let mut hashes: Vec<u8> = conn
            .query_row(
                "SELECT hashes FROM log_tiles WHERE level = 0 AND idx = 1",
                [],
                |r| r.get(0),
            )
            .unwrap();
        hashes[40] ^= 1;
        conn.execute(
            "UPDATE log_tiles SET hashes = ?1 WHERE level = 0 AND idx = 1",
            [hashes],
        )
        .unwrap();
    }
    let out = run(lcm(&s.store()).args(["log", "check"]), 1);
    assert_stderr_has(&out, "tile/0/001");
    // The store's own check audits the log too.
    let out = run(lcm(&s.store()).arg("check"), 1);
    assert_stderr_has(&out, "log of deployment");
    assert_stderr_has(&out, "tile/0/001");
}

/// `lcm verify h2.json --header h1.json` looks at h1: h2 must extend it (a proof from the
/// store or a file), and two copies of one store diverging are a fork, exit 1.
#[test]
fn verify_header_against_an_older_header() {
    let (s, key) = logged("log-headers", 300);
    let public = PathBuf::from(format!("{}.pub", key.display()));
    let header = |store: &Path, out: &Path| {
        signed(store, "header", &key, out);
    };
    let verify = |store: &Path, new: &Path, old: &Path, extra: &[&str], code| {
        run(
            lcm(store)
                .args(["verify", p(new), "--key", p(&public), "--header", p(old)])
                .args(extra),
            code,
        )
    };
    let h1 = s.path("h1.json");
    header(&s.store(), &h1);
    let c1 = checkpointed(&s, &key, "c1");
    let copy = diverged_copy(&s, 301);
    let (h2, h2x) = (s.path("h2.json"), s.path("h2x.json"));
    header(&s.store(), &h2);
    header(&copy, &h2x);
    // Each copy's newer header extends h1, with the proof from its own store.
    let out = verify(&s.store(), &h2, &h1, &[], 0);
    assert_stdout_has(&out, "receipt log extends the header");
    verify(&copy, &h2x, &h1, &[], 0);
    let out = verify(&s.store(), &h2, &h2, &[], 0);
    assert_stdout_has(&out, "receipt log is the same as the header");
    // Against each other: same count, different roots — a fork, both states printed.
    let out = verify(&s.store(), &h2x, &h2, &[], 1);
    assert_stderr_has(&out, "fork");
    assert_stdout_has(&out, "fork evidence, older");
    // The other copy's store cannot prove h2x extends h1 from its own log... but h2's store
    // proves h2 does; and a proof file from `lcm log prove` works without a store.
    let proof = s.path("p");
    prove(&s.store(), &c1, &proof, 0);
    let elsewhere = s.path("no-store.db");
    verify(&elsewhere, &h2, &h1, &["--proof", p(&proof)], 0);
    // Without a store or a proof, a larger header is not shown to extend: a fork.
    verify(&elsewhere, &h2, &h1, &[], 1);
    // The other copy's proof does not verify for this copy's header: a fork.
    let proof_x = s.path("px");
    prove(&copy, &c1, &proof_x, 0);
    let out = verify(&elsewhere, &h2, &h1, &["--proof", p(&proof_x)], 1);
    assert_stderr_has(&out, "fork");
    // A rollback: the older header given as the newer.
    let out = verify(&s.store(), &h1, &h2, &[], 1);
    assert_stderr_has(&out, "rollback");
    // A tampered older header fails its own verification.
    let text = std::fs::read_to_string(&h1).unwrap();
    let bad = s.path("bad.json");
    std::fs::write(
        &bad,
        text.replacen("\"receipt_count\": 300", "\"receipt_count\": 299", 1),
    )
    .unwrap();
    verify(&s.store(), &h2, &bad, &[], 1);
}

/// A capsule made against an older header verifies against a newer checkpoint through a
/// consistency proof from the header's receipt count; with tamper twins.
#[test]
fn a_capsule_of_an_older_header_verifies_against_a_newer_checkpoint() {
    let (s, key) = logged("log-capsule", 200);
    let (public, vk) = (PathBuf::from(format!("{}.pub", key.display())), vkey(&key));
    let c0 = checkpointed(&s, &key, "c0");
    infer(&s.store(), &lines(100, "b"), 0);
    let h1 = s.path("h1.json");
    signed(&s.store(), "header", &key, &h1);
    let capsule = s.path("capsule.json");
    materialize(&s.store(), "a_17", p(&h1), &["--out", p(&capsule)], 0);
    let copy = s.path("copy.db");
    copy_store(&s.store(), &copy);
    infer(&s.store(), &lines(400, "c"), 0);
    let c2 = checkpointed(&s, &key, "c2");
    let proof = s.path("p");
    prove(&s.store(), &h1, &proof, 0);
    let verify = |cp: &Path, proof: Option<&Path>, capsule: &Path, code| {
        run_with_proof(
            lcm(&s.store()).args([
                "log",
                "verify-capsule",
                p(capsule),
                "--header",
                p(&h1),
                "--key",
                p(&public),
                "--checkpoint",
                p(cp),
                "--log-key",
                p(&vk),
            ]),
            proof,
            code,
        )
    };
    let out = verify(&c2, Some(&proof), &capsule, 0);
    assert!(
        stdout(&out).contains("header's 300 receipts are a state of example.com/lcm (size 700")
    );
    // Without a proof, or with another copy's proof: a fork.
    let out = verify(&c2, None, &capsule, 1);
    assert_stderr_has(&out, "fork");
    infer(&copy, &lines(400, "x"), 0);
    let proof_x = s.path("px");
    prove(&copy, &h1, &proof_x, 0);
    verify(&c2, Some(&proof_x), &capsule, 1);
    // A checkpoint older than the header: a rollback.
    let out = verify(&c0, None, &capsule, 1);
    assert_stderr_has(&out, "rollback");
    // A checkpoint signed by another key.
    let other = keygen(&s, "other.key", "example.com/lcm", false);
    let c2o = s.path("c2o");
    checkpoint(&s.store(), &other, &c2o);
    let out = verify(&c2o, Some(&proof), &capsule, 1);
    assert_stderr_has(&out, "signature");
    // A capsule whose receipt was edited fails against its header.
    let text = std::fs::read_to_string(&capsule).unwrap();
    assert!(text.contains("req_a_17"), "{text}");
    let edited = text.replace("req_a_17", "req_a_18");
    let bad = s.path("bad.json");
    std::fs::write(&bad, edited).unwrap();
    verify(&c2, Some(&proof), &bad, 1);
    // Malformed: exit 2.
    std::fs::write(&bad, "{").unwrap();
    verify(&c2, Some(&proof), &bad, 2);
}

#[test]
fn the_header_names_its_log_origin_and_is_checked_against_it() {
    let (s, key) = logged("log-origin", 20);
    let (public, vk) = (PathBuf::from(format!("{}.pub", key.display())), vkey(&key));
    let header = |name: Option<&str>, out: &Path| {
        let mut cmd = lcm(&s.store());
        cmd.args(["header", "--key", p(&key), "--out", p(out)]);
        if let Some(name) = name {
            cmd.args(["--name", name]);
        }
        run(&mut cmd, 0);
        std::fs::read_to_string(out).unwrap()
    };
    // By default the origin is the key's (as `lcm log checkpoint` picks it); --name names another.
    let (h, h2) = (s.path("h.json"), s.path("h2.json"));
    let text = header(None, &h);
    assert!(
        text.contains("\"log_origin\": \"example.com/lcm\""),
        "{text}"
    );
    let other = header(Some("example.org/other"), &h2);
    assert!(
        other.contains("\"log_origin\": \"example.org/other\""),
        "{other}"
    );
    run(
        lcm(&s.store()).args(["verify", p(&h), "--key", p(&public)]),
        0,
    );
    // The field is signed: a changed origin fails the header's signature.
    let bad = s.path("bad.json");
    std::fs::write(&bad, text.replace("example.com/lcm", "example.com/lcn")).unwrap();
    let out = run(
        lcm(&s.store()).args(["verify", p(&bad), "--key", p(&public)]),
        1,
    );
    assert_stderr_has(&out, "signature");
    // Compared with a checkpoint or a header of another origin: exit 1 naming both.
    let capsule = s.path("capsule.json");
    materialize(&s.store(), "a_3", p(&h2), &["--out", p(&capsule)], 0);
    let c = checkpointed(&s, &key, "c");
    let verify = |header: &Path, code| {
        run(
            lcm(&s.store()).args([
                "log",
                "verify-capsule",
                p(&capsule),
                "--header",
                p(header),
                "--key",
                p(&public),
                "--checkpoint",
                p(&c),
                "--log-key",
                p(&vk),
            ]),
            code,
        )
    };
    let out = verify(&h2, 1);
    assert_stderr_has(&out, "origin");
    assert_stderr_has(&out, "example.org/other");
    assert_stderr_has(&out, "example.com/lcm");
    let out = run(
        lcm(&s.store()).args(["verify", p(&h2), "--key", p(&public), "--header", p(&h)]),
        1,
    );
    assert_stderr_has(&out, "origin");
    assert_stderr_has(&out, "example.org/other");
    // The same origin verifies; an origin no checkpoint can carry is refused at making (exit 2).
    let h3 = s.path("h3.json");
    header(Some("example.org/other"), &h3);
    run(
        lcm(&s.store()).args(["verify", p(&h3), "--key", p(&public), "--header", p(&h2)]),
        0,
    );
    run(
        lcm(&s.store()).args(["header", "--key", p(&key), "--name", "bad origin\n"]),
        2,
    );
}

/// `lcm export --from-seq A --to-seq B` and `lcm verify` of the range, with tamper twins.
#[test]
fn a_sequence_range_exports_with_its_proofs_and_verifies() {
    let (s, key) = logged("log-range", 20);
    let public = PathBuf::from(format!("{}.pub", key.display()));
    let export = |from: &str, to: &str, out: &Path, code| {
        run(
            lcm(&s.store()).args([
                "export",
                "--key",
                p(&key),
                "--from-seq",
                from,
                "--to-seq",
                to,
                "--out",
                p(out),
            ]),
            code,
        )
    };
    let verify = |file: &Path, code| {
        run(
            lcm(&s.store()).args(["verify", p(file), "--key", p(&public)]),
            code,
        )
    };
    let r = s.path("range.json");
    let out = export("5", "9", &r, 0);
    assert_stdout_has(&out, "wrote range");
    assert_stdout_has(&out, "(5 receipts), proved into example.com/lcm size 20");
    let out = verify(&r, 0);
    assert_stdout_has(
        &out,
        "valid range: receipts 5 to 9 of deploy_001 are linked and entries of example.com/lcm (size 20",
    );
    let r0 = s.path("range0.json");
    export("0", "19", &r0, 0);
    verify(&r0, 0);
    // Past the end, reversed, or on a header: exit 2, nothing written.
    let none = s.path("none.json");
    let out = export("15", "20", &none, 2);
    assert_stderr_has(&out, "0 to 19");
    export("5", "3", &none, 2);
    assert!(!none.exists());
    run(
        lcm(&s.store()).args([
            "header",
            "--key",
            p(&key),
            "--from-seq",
            "1",
            "--to-seq",
            "2",
        ]),
        2,
    );
    let text = std::fs::read_to_string(&r).unwrap();
    let bad = s.path("bad.json");
    let twin = |edited: String, code, reason: &str| {
        assert_ne!(edited, text);
        std::fs::write(&bad, edited).unwrap();
        let out = verify(&bad, code);
        assert_stderr_has(&out, reason);
    };
    // A receipt byte.
    twin(text.replacen("req_a_7", "req_a_8", 1), 1, "inclusion");
    // A proof hash.
    let at = text.find("\"proof\": [\"").unwrap() + 11;
    let mut edited = text.clone();
    let c = if &text[at..=at] == "0" { "1" } else { "0" };
    edited.replace_range(at..=at, c);
    twin(edited, 1, "inclusion");
    // The checkpoint's size.
    twin(text.replacen("\\n20\\n", "\\n21\\n", 1), 1, "signature");
    // The predecessor the first receipt links to.
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let prev = doc["previous"]["digest"].as_str().unwrap().to_owned();
    let flipped = format!(
        "{}{}",
        if prev.starts_with('0') { "1" } else { "0" },
        &prev[1..]
    );
    doc["previous"]["digest"] = flipped.into();
    twin(
        serde_json::to_string(&doc).unwrap(),
        1,
        "inclusion: the predecessor",
    );
    // A receipt removed from the middle of the range (and the range's end moved to match).
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    doc["receipts"].as_array_mut().unwrap().remove(2);
    twin(serde_json::to_string(&doc).unwrap(), 1, "range: 4 receipts");
    doc["to_seq"] = 8.into();
    twin(
        serde_json::to_string(&doc).unwrap(),
        1,
        "range: receipt a_8 has sequence 8",
    );
    // ... and its successor renumbered to fill the gap: its link names the removed receipt.
    doc["receipts"][2]["receipt"]["sequence"] = 7.into();
    twin(
        serde_json::to_string(&doc).unwrap(),
        1,
        "chain: receipt a_8",
    );
    // The deployment's name, and one byte of its sealed deployment record.
    twin(
        text.replacen(
            "\"deployment\": \"deploy_001\"",
            "\"deployment\": \"deploy_002\"",
            1,
        ),
        1,
        "deployment: the document names deployment \"deploy_002\", its deployment record is of \"deploy_001\"",
    );
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let by = doc["lifecycle"]["deployment"]["record"]["deployed_by"]
        .as_str()
        .unwrap()
        .to_owned();
    let flipped = if by.ends_with('e') { 'f' } else { 'e' };
    doc["lifecycle"]["deployment"]["record"]["deployed_by"] =
        format!("{}{flipped}", &by[..by.len() - 1]).into();
    twin(
        serde_json::to_string(&doc).unwrap(),
        1,
        "seal: the document's deployment record",
    );
    // The policy's commitment scheme (no digest depends on it): the receipts name theirs.
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let other = if doc["policy"]["commitments"] == "salted" {
        "plaintext"
    } else {
        "salted"
    };
    doc["policy"]["commitments"] = other.into();
    twin(
        serde_json::to_string(&doc).unwrap(),
        1,
        "policy: receipt a_5 (sequence 5) commits its input under",
    );
    // Another key.
    let other = keygen(&s, "other.key", "example.com/lcm", false);
    let out = run(
        lcm(&s.store()).args([
            "verify",
            p(&r),
            "--key",
            &format!("{}.pub", other.display()),
        ]),
        1,
    );
    assert_stderr_has(&out, "signature");
}

/// A range of one deployment's chain presented as another's, in a store of two deployments:
/// the receipts carry their own deployment's record digest, and a swapped record is named.
#[test]
fn a_range_names_its_deployment_by_its_records() {
    let (s, _) = super::two_chains("log-range-two");
    let key = keygen(&s, "log.key", "example.com/lcm", false);
    let public = PathBuf::from(format!("{}.pub", key.display()));
    let export = |deployment: &str, out: &Path| {
        run(
            lcm(&s.store()).args([
                "export",
                "--key",
                p(&key),
                "--deployment",
                deployment,
                "--from-seq",
                "1",
                "--to-seq",
                "3",
                "--out",
                p(out),
            ]),
            0,
        );
        serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(out).unwrap()).unwrap()
    };
    let (one, two) = (
        export("deploy_001", &s.path("one.json")),
        export("deploy_002", &s.path("two.json")),
    );
    let bad = s.path("bad.json");
    let verify = |doc: &serde_json::Value, code| {
        std::fs::write(&bad, serde_json::to_string(doc).unwrap()).unwrap();
        run(
            lcm(&s.store()).args(["verify", p(&bad), "--key", p(&public)]),
            code,
        )
    };
    let out = verify(&two, 0);
    assert_stdout_has(&out, "receipts 1 to 3 of deploy_002 are linked");
    // deploy_002's receipts under deploy_001's records and name.
    let mut relabelled = two.clone();
    relabelled["deployment"] = "deploy_001".into();
    relabelled["lifecycle"] = one["lifecycle"].clone();
    let out = verify(&relabelled, 1);
    assert_stderr_has(
        &out,
        "deployment_anchor: receipt two_1 (sequence 1) carries deployment_anchor",
    );
    // deploy_001's deployment record swapped into deploy_002's document.
    let mut swapped = two;
    swapped["lifecycle"]["deployment"] = one["lifecycle"]["deployment"].clone();
    let out = verify(&swapped, 1);
    assert_stderr_has(
        &out,
        "deployment: the document names deployment \"deploy_002\", its deployment record is of \"deploy_001\"",
    );
    // ... with the name to match: deploy_001's record names predeploy_001, not predeploy_002.
    swapped["deployment"] = "deploy_001".into();
    let out = verify(&swapped, 1);
    assert_stderr_has(&out, "lifecycle: the deployment record's predeployment is");
}

/// `lcm export --since T --until T`: the span of the chain covering the window, verified with
/// the count of its receipts in the window; bad windows and mixed flags are usage errors.
#[test]
fn a_time_range_exports_the_span_of_its_window() {
    // Three calls, 20 ms apart: receipts a_* (0 to 2), b_* (3 to 5), c_* (6 to 8).
    let (s, key) = logged("log-range-time", 3);
    for tag in ["b", "c"] {
        std::thread::sleep(std::time::Duration::from_millis(20));
        infer(&s.store(), &lines(3, tag), 0);
    }
    let public = PathBuf::from(format!("{}.pub", key.display()));
    let stamp = |id: &str| {
        let out = run(lcm(&s.store()).args(["show", "inference-receipt", id]), 0);
        let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        v["timestamp"].as_str().unwrap().to_owned()
    };
    let (a2, b0, b2, c0) = (stamp("a_2"), stamp("b_0"), stamp("b_2"), stamp("c_0"));
    let r = s.path("time.json");
    let export = |args: &[&str], code| {
        run(
            lcm(&s.store())
                .args(["export", "--key", p(&key), "--out", p(&r)])
                .args(args),
            code,
        )
    };
    let out = export(&["--since", &b0, "--until", &b2], 0);
    assert_stdout_has(&out, "receipts 3 to 5 of deploy_001 (3 receipts)");
    assert_stdout_has(&out, "; 3 of them made in [");
    let out = run(
        lcm(&s.store()).args(["verify", p(&r), "--key", p(&public)]),
        0,
    );
    assert_stdout_has(
        &out,
        "valid range: receipts 3 to 5 of deploy_001 are linked",
    );
    assert_stdout_has(&out, "; 3 of them made in [");
    let out = run(
        lcm(&s.store()).args(["--json", "verify", p(&r), "--key", p(&public)]),
        0,
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        (v["from_seq"].as_u64(), v["in_window"].as_u64()),
        (Some(3), Some(3))
    );
    // Open-ended windows.
    let out = export(&["--since", &c0], 0);
    assert_stdout_has(&out, "receipts 6 to 8 of deploy_001");
    let out = export(&["--until", &a2], 0);
    assert_stdout_has(&out, "receipts 0 to 2 of deploy_001");
    // Usage errors: exit 2, nothing written.
    std::fs::remove_file(&r).unwrap();
    let out = export(&["--since", &c0, "--until", &a2], 2);
    assert_stderr_has(&out, "is after --until");
    let out = export(
        &[
            "--since",
            "2000-01-01T00:00:00Z",
            "--until",
            "2000-01-02T00:00:00Z",
        ],
        2,
    );
    assert_stderr_has(
        &out,
        "no receipt of deployment deploy_001 was made in [2000-01-01T00:00:00",
    );
    let out = export(&["--since", &b0, "--from-seq", "0", "--to-seq", "1"], 2);
    assert_stderr_has(&out, "cannot be used with");
    let out = export(&["--since", "yesterday"], 2);
    assert_stderr_has(&out, "--since");
    assert!(!r.exists());
    let out = run(
        lcm(&s.store()).args(["header", "--key", p(&key), "--since", &b0]),
        2,
    );
    assert_stderr_has(&out, "options of lcm export");
}
