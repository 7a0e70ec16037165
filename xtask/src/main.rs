//! Project automation for `lcm`, in the [cargo-xtask] pattern: `cargo xtask <command>`.
//!
//! Run `cargo xtask help` for the commands. The `xtask` alias lives in `.cargo/config.toml`.
//! This crate uses only `std`, because it is compiled before every task: it finds cargo through
//! `$CARGO`, the workspace root through `CARGO_MANIFEST_DIR`, and runs every check as a child
//! `cargo` process from that root.
//!
//! [cargo-xtask]: https://github.com/matklad/cargo-xtask/

// A command-line tool prints by design: this is the one crate where the workspace's
// `print_stdout`/`print_stderr` lints are allowed.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};
use std::{env, fs};

/// The README's test command, `cargo test --workspace` (the arguments after `cargo`).
///
/// `.ci/run` runs exactly this command itself, last, so that CI's closing lines are its test
/// summary; `cargo xtask ci --skip-test-command` then leaves it out. The unit tests
/// `ci_script_runs_the_test_command` and `readme_documents_the_test_command` keep `.ci/run`,
/// the README and this constant in step.
const TEST_COMMAND: &str = "test --workspace";

/// The crate whose feature sets are checked one by one (clippy and tests with
/// `--no-default-features` and `--all-features`): the only crate with features.
const FEATURE_CRATE: &str = "lcm-crypto";

/// How long `cargo xtask ci` fuzzes each target.
const FUZZ_SMOKE_SECONDS: u64 = 10;

/// The default `PROPTEST_CASES` of `cargo xtask proptest` (proptest's own default is 256).
const DEFAULT_PROPTEST_CASES: u32 = 10_000;

/// The environment variable of the golden-vector contract (see [`vectors`]).
const REGENERATE_VECTORS_ENV: &str = "LCM_REGENERATE_VECTORS";

/// cargo-deny, pinned to the version `deny.toml` was checked with (it needs at least 0.19).
const CARGO_DENY: Tool = Tool {
    subcommand: "deny",
    package: "cargo-deny",
    version: "0.20.2",
};

/// cargo-fuzz, pinned to the version the fuzz layout was checked with.
const CARGO_FUZZ: Tool = Tool {
    subcommand: "fuzz",
    package: "cargo-fuzz",
    version: "0.13.2",
};

/// The first lines of `cargo xtask help`.
const HELP_HEADER: &str = "\
cargo xtask <command> [options]: project automation for lcm (std only).
`cargo xtask <command> --help` (or -h) prints the help of one command.

Commands:
";

/// Every command with its help text, in the order `cargo xtask help` lists them.
///
/// `run` dispatches on exactly these names; the unit test `every_command_has_help` checks that
/// `cargo xtask <command> --help` and `-h` print the entry and run nothing.
const COMMANDS: &[(&str, &str)] = &[
    (
        "ci",
        "  ci [--skip-test-command]
        Every blocking check, in order, stopping at the first failure:
          cargo fmt --all -- --check
          cargo clippy --workspace --all-targets -- -D warnings
          cargo clippy -p lcm-crypto --all-targets --no-default-features -- -D warnings
          cargo clippy -p lcm-crypto --all-targets --all-features -- -D warnings
          cargo test --workspace          (the README's test command)
          cargo test -p lcm-crypto --no-default-features
          cargo test -p lcm-crypto --all-features
          RUSTDOCFLAGS='-D warnings' cargo doc --workspace --no-deps
          cargo deny --workspace check bans licenses sources   (installs cargo-deny if missing)
          cargo bench --workspace --no-run
          fuzz smoke run: every target for 10 s   (only when cargo-fuzz is installed)
        then prints a timing summary. --skip-test-command leaves out `cargo test --workspace`,
        for callers that run it themselves (.ci/run runs it last).
",
    ),
    (
        "lint",
        "  lint  cargo fmt --check and the three clippy runs of `ci`.
",
    ),
    (
        "test",
        "  test  cargo test --workspace (the README's test command).
",
    ),
    (
        "proptest",
        "  proptest [--cases N] [FILTER]
        cargo test --workspace --release --tests [FILTER] with PROPTEST_CASES=N
        (default 10000). Every proptest block takes its case count from PROPTEST_CASES
        (proptest's default, 256, under plain `cargo test`; the tidy test
        `proptest_case_counts_come_from_the_environment` keeps it so). Tests without
        proptest are unaffected.
",
    ),
    (
        "fuzz",
        "  fuzz [TARGET] [--seconds N]
        Fuzzes TARGET (every target in fuzz/fuzz_targets when none is named) for N seconds
        each (default 10), with RUSTC_BOOTSTRAP=1 on stable. Installs cargo-fuzz if missing.
        New corpus entries go to fuzz/target/corpus/TARGET; the committed seeds in
        fuzz/corpus/TARGET are only read. Crashes land in fuzz/artifacts/TARGET: commit them,
        and `cargo test` replays them (tests/fuzz_artifacts.rs).
",
    ),
    (
        "bench",
        "  bench [NAME] [-- ARGS]
        cargo bench --workspace, or cargo bench --bench NAME; ARGS go to criterion
        (`cargo xtask bench NAME -- --help` shows criterion's own options).
",
    ),
    (
        "deny",
        "  deny  cargo deny --workspace check bans licenses sources (installs cargo-deny if missing).
",
    ),
    (
        "advisories",
        "  advisories
        cargo deny --workspace check advisories. Needs github.com for the RustSec database:
        when it cannot be fetched this prints a warning and exits 0. Not part of `ci`.
",
    ),
    (
        "vectors",
        "  vectors
        Regenerates the golden vectors: runs `cargo test --workspace vectors` with
        LCM_REGENERATE_VECTORS=1. Contract for vector tests: a test whose name contains
        `vectors` and that checks a committed file is up to date rewrites that file instead of
        failing when LCM_REGENERATE_VECTORS=1 is set. Review and commit the diff.
",
    ),
    (
        "tidy",
        "  tidy  The tidy checks (tests/tidy.rs): cargo test -p lcm --test tests tidy::
        Plain `cargo test` runs them too.
",
    ),
    (
        "help",
        "  help [COMMAND]
        This text, or the help of COMMAND.
",
    ),
];

/// The help of `command`, if it is one.
fn command_help(command: &str) -> Option<&'static str> {
    COMMANDS
        .iter()
        .find(|(name, _)| *name == command)
        .map(|(_, help)| *help)
}

/// `cargo xtask help`: the header and every command's help.
fn full_help() -> String {
    let mut text = HELP_HEADER.to_owned();
    for (_, help) in COMMANDS {
        text.push_str(help);
    }
    text
}

fn main() -> ExitCode {
    match run(Args(env::args().skip(1).collect())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(mut args: Args) -> Result<(), String> {
    let Some(command) = args.positional() else {
        print!("{}", full_help());
        return Ok(());
    };
    if args.help_requested() {
        let help = command_help(&command).ok_or_else(|| unknown_command(&command))?;
        print!("{help}");
        return Ok(());
    }
    let mut runner = Runner::new();
    match command.as_str() {
        "ci" => {
            let skip_test_command = args.flag("--skip-test-command");
            args.finish()?;
            let result = ci(&mut runner, skip_test_command);
            runner.print_summary();
            result
        }
        "lint" => {
            args.finish()?;
            lint(&mut runner)
        }
        "test" => {
            args.finish()?;
            runner.step("test", runner.cargo(TEST_COMMAND))
        }
        "proptest" => {
            let cases = args.number("--cases")?.unwrap_or(DEFAULT_PROPTEST_CASES);
            let filter = args.positional();
            args.finish()?;
            let mut command = runner.cargo("test --workspace --release --tests");
            command
                .args(filter)
                .env("PROPTEST_CASES", cases.to_string());
            runner.step(&format!("proptest ({cases} cases)"), command)
        }
        "fuzz" => {
            let seconds = args.number("--seconds")?.unwrap_or(FUZZ_SMOKE_SECONDS);
            let target = args.positional();
            args.finish()?;
            runner.ensure_tool(&CARGO_FUZZ)?;
            let targets = match target {
                Some(target) => vec![target],
                None => fuzz_targets()?,
            };
            fuzz(&mut runner, &targets, seconds)
        }
        "bench" => {
            let passthrough = args.passthrough();
            let name = args.positional();
            args.finish()?;
            let mut command = match &name {
                Some(name) => runner.cargo(&format!("bench --bench {name}")),
                None => runner.cargo("bench --workspace"),
            };
            if !passthrough.is_empty() {
                command.arg("--").args(passthrough);
            }
            runner.step("bench", command)
        }
        "deny" => {
            args.finish()?;
            deny(&mut runner)
        }
        "advisories" => {
            args.finish()?;
            advisories(&mut runner)
        }
        "vectors" => {
            args.finish()?;
            vectors(&mut runner)
        }
        "tidy" => {
            args.finish()?;
            runner.step("tidy", runner.cargo("test -p lcm --test tests tidy::"))
        }
        "help" => {
            match args.positional() {
                Some(topic) => {
                    args.finish()?;
                    let help = command_help(&topic).ok_or_else(|| unknown_command(&topic))?;
                    print!("{help}");
                }
                None => {
                    args.finish()?;
                    print!("{}", full_help());
                }
            }
            Ok(())
        }
        other => Err(unknown_command(other)),
    }
}

/// The error for a command that is not in [`COMMANDS`].
fn unknown_command(command: &str) -> String {
    format!("unknown command {command:?}; run `cargo xtask help` for the commands")
}

/// Every blocking check, in the order of STYLE.md rule 32 (see the `ci` entry of `COMMANDS`).
fn ci(runner: &mut Runner, skip_test_command: bool) -> Result<(), String> {
    lint(runner)?;
    if skip_test_command {
        runner.skip(
            "test (workspace)",
            "--skip-test-command: the caller runs it",
        );
    } else {
        runner.step("test (workspace)", runner.cargo(TEST_COMMAND))?;
    }
    for features in ["--no-default-features", "--all-features"] {
        let command = runner.cargo(&format!("test -p {FEATURE_CRATE} {features}"));
        runner.step(&format!("test ({FEATURE_CRATE} {features})"), command)?;
    }
    let mut doc = runner.cargo("doc --workspace --no-deps");
    doc.env("RUSTDOCFLAGS", "-D warnings");
    runner.step("doc", doc)?;
    deny(runner)?;
    // CI only checks that the benches build. The bench profile (thin LTO, one codegen unit)
    // is for measuring and took 4-12 minutes of CI's two cores to compile; this step overrides
    // it for the compile check only, so `cargo bench` itself still measures the real thing.
    let mut bench = runner.cargo("bench --workspace --no-run");
    bench
        .env("CARGO_PROFILE_BENCH_LTO", "false")
        .env("CARGO_PROFILE_BENCH_CODEGEN_UNITS", "16")
        .env("CARGO_PROFILE_BENCH_OPT_LEVEL", "0")
        .env("CARGO_PROFILE_BENCH_DEBUG", "false");
    runner.step("bench (compile only)", bench)?;
    if runner.tool_available(&CARGO_FUZZ) {
        fuzz(runner, &fuzz_targets()?, FUZZ_SMOKE_SECONDS)
    } else {
        runner.skip(
            "fuzz smoke run",
            "cargo-fuzz is not installed (`cargo xtask fuzz` installs it)",
        );
        Ok(())
    }
}

/// `cargo fmt --check`, then clippy on the whole workspace and on each feature set of
/// [`FEATURE_CRATE`] (one package at a time, so feature unification hides nothing).
fn lint(runner: &mut Runner) -> Result<(), String> {
    runner.step("fmt", runner.cargo("fmt --all -- --check"))?;
    let clippy = "clippy --workspace --all-targets -- -D warnings";
    runner.step("clippy (workspace)", runner.cargo(clippy))?;
    for features in ["--no-default-features", "--all-features"] {
        let args = format!("clippy -p {FEATURE_CRATE} --all-targets {features} -- -D warnings");
        runner.step(
            &format!("clippy ({FEATURE_CRATE} {features})"),
            runner.cargo(&args),
        )?;
    }
    Ok(())
}

fn deny(runner: &mut Runner) -> Result<(), String> {
    runner.ensure_tool(&CARGO_DENY)?;
    let args = "deny --workspace check bans licenses sources";
    runner.step("deny (bans licenses sources)", runner.cargo(args))
}

/// The advisories check never blocks: without the `RustSec` database (github.com unreachable)
/// it warns and succeeds. With the database, real advisories fail it.
fn advisories(runner: &mut Runner) -> Result<(), String> {
    if let Err(error) = runner.ensure_tool(&CARGO_DENY) {
        eprintln!("warning: advisories not checked: {error}");
        return Ok(());
    }
    if let Err(error) = runner.step("fetch advisory database", runner.cargo("deny fetch db")) {
        eprintln!("warning: advisories not checked, the RustSec database is unreachable: {error}");
        return Ok(());
    }
    runner.step(
        "advisories",
        runner.cargo("deny --workspace check advisories"),
    )
}

/// Regenerates the golden vectors.
///
/// The contract, which every vector test honours: a test whose name contains `vectors` and that
/// checks that a committed vector file is up to date rewrites the file instead of failing when
/// the environment variable [`REGENERATE_VECTORS_ENV`] is set to `1`. So this runs those tests
/// with the variable set; the diff is then reviewed and committed like code.
fn vectors(runner: &mut Runner) -> Result<(), String> {
    let mut command = runner.cargo("test --workspace vectors");
    command.env(REGENERATE_VECTORS_ENV, "1");
    runner.step("regenerate vectors", command)?;
    println!("Vectors regenerated: review `git diff -- tests/vectors` and commit.");
    Ok(())
}

/// The fuzz targets: the file stems in `fuzz/fuzz_targets`, sorted.
fn fuzz_targets() -> Result<Vec<String>, String> {
    let dir = project_root().join("fuzz").join("fuzz_targets");
    let entries = fs::read_dir(&dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    let mut targets = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
            .path();
        if path.extension().is_some_and(|ext| ext == "rs")
            && let Some(stem) = path.file_stem().and_then(|s| s.to_str())
        {
            targets.push(stem.to_owned());
        }
    }
    targets.sort();
    if targets.is_empty() {
        return Err(format!(
            "expected fuzz targets in {}, found none",
            dir.display()
        ));
    }
    Ok(targets)
}

/// Builds every fuzz target, then fuzzes each for `seconds`.
///
/// cargo-fuzz needs nightly-only rustc flags: `RUSTC_BOOTSTRAP=1` lets the stable toolchain
/// accept them (rustls' CI does the same). Debug assertions stay on, so integer overflow in
/// index math panics and is found. The committed seeds are passed as a second, read-only corpus
/// so that libFuzzer writes its new inputs to the scratch corpus under `fuzz/target/`.
fn fuzz(runner: &mut Runner, targets: &[String], seconds: u64) -> Result<(), String> {
    let fuzz_dir = project_root().join("fuzz");
    let mut build = runner.cargo("fuzz build --debug-assertions");
    build.current_dir(&fuzz_dir).env("RUSTC_BOOTSTRAP", "1");
    runner.step("fuzz build", build)?;
    for target in targets {
        let scratch = fuzz_dir.join("target").join("corpus").join(target);
        fs::create_dir_all(&scratch)
            .map_err(|e| format!("cannot create {}: {e}", scratch.display()))?;
        let mut command = runner.cargo(&format!("fuzz run --debug-assertions {target}"));
        command
            .arg(&scratch)
            .arg(fuzz_dir.join("corpus").join(target))
            .arg("--")
            .arg(format!("-max_total_time={seconds}"))
            .current_dir(&fuzz_dir)
            .env("RUSTC_BOOTSTRAP", "1");
        runner.step(&format!("fuzz {target} ({seconds} s)"), command)?;
    }
    Ok(())
}

/// The workspace root: xtask lives in `<root>/xtask`.
///
/// `cargo run` sets `CARGO_MANIFEST_DIR` for the process too. That value is preferred to the
/// one compiled in, which goes stale when two checkouts share a target directory (cargo may
/// then reuse the other checkout's binary).
fn project_root() -> PathBuf {
    let manifest_dir = env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    manifest_dir
        .parent()
        .map_or_else(|| manifest_dir.clone(), Path::to_path_buf)
}

/// A cargo subcommand installed with `cargo install`.
struct Tool {
    /// `cargo <subcommand>`.
    subcommand: &'static str,
    /// The crates.io package that provides it.
    package: &'static str,
    /// The version installed when it is missing.
    version: &'static str,
}

/// What happened to one step, for the summary.
enum Outcome {
    Failed(Duration),
    Passed(Duration),
    Skipped(&'static str),
}

/// Runs cargo commands from the workspace root as named steps, and records their timings.
struct Runner {
    cargo: OsString,
    root: PathBuf,
    steps: Vec<(String, Outcome)>,
    start: Instant,
}

impl Runner {
    fn new() -> Self {
        Self {
            cargo: env::var_os("CARGO").unwrap_or_else(|| "cargo".into()),
            root: project_root(),
            steps: Vec::new(),
            start: Instant::now(),
        }
    }

    /// `cargo <args>` in the workspace root; `args` is split at whitespace (arguments that may
    /// contain spaces, such as paths, are added with `Command::arg`).
    fn cargo(&self, args: &str) -> Command {
        let mut command = Command::new(&self.cargo);
        command
            .args(args.split_whitespace())
            .current_dir(&self.root);
        command
    }

    /// Runs `command` under a header; an unsuccessful exit is an error naming the step.
    fn step(&mut self, name: &str, mut command: Command) -> Result<(), String> {
        println!("\n==> {name}\n    $ {}", describe(&command));
        let start = Instant::now();
        let status = command.status();
        let elapsed = start.elapsed();
        let result = match status {
            Ok(status) if status.success() => Ok(()),
            Ok(status) => Err(format!("step `{name}` failed ({status})")),
            Err(error) => Err(format!("step `{name}` could not start: {error}")),
        };
        let outcome = if result.is_ok() {
            Outcome::Passed(elapsed)
        } else {
            Outcome::Failed(elapsed)
        };
        self.steps.push((name.to_owned(), outcome));
        result
    }

    fn skip(&mut self, name: &str, reason: &'static str) {
        println!("\n==> {name}\n    skipped: {reason}");
        self.steps.push((name.to_owned(), Outcome::Skipped(reason)));
    }

    /// Whether `cargo <tool> --version` works.
    fn tool_available(&self, tool: &Tool) -> bool {
        self.cargo(&format!("{} --version", tool.subcommand))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    }

    /// Installs `tool` with `cargo install --locked` when it is missing.
    fn ensure_tool(&mut self, tool: &Tool) -> Result<(), String> {
        if self.tool_available(tool) {
            return Ok(());
        }
        let spec = format!("{}@{}", tool.package, tool.version);
        let command = self.cargo(&format!("install --locked {spec}"));
        self.step(&format!("install {spec}"), command)
    }

    fn print_summary(&self) {
        println!("\n==> summary");
        for (name, outcome) in &self.steps {
            let (status, time) = match outcome {
                Outcome::Failed(time) => ("FAILED ", format!("{:>7.1} s", time.as_secs_f64())),
                Outcome::Passed(time) => ("ok     ", format!("{:>7.1} s", time.as_secs_f64())),
                Outcome::Skipped(reason) => ("skipped", format!("({reason})")),
            };
            println!("    {status}  {time}  {name}");
        }
        println!("    total   {:>7.1} s", self.start.elapsed().as_secs_f64());
    }
}

/// `command` as a shell-like line for the step header, with `cargo` for `$CARGO`.
fn describe(command: &Command) -> String {
    let mut words: Vec<String> = command
        .get_envs()
        .filter_map(|(key, value)| {
            let value = value?.to_string_lossy();
            let value = if value.contains(' ') {
                format!("'{value}'")
            } else {
                value.into_owned()
            };
            Some(format!("{}={value}", key.to_string_lossy()))
        })
        .collect();
    words.push("cargo".to_owned());
    words.extend(
        command
            .get_args()
            .map(|arg| arg.to_string_lossy().into_owned()),
    );
    words.join(" ")
}

/// The command-line arguments after the subcommand, consumed as they are recognised.
struct Args(Vec<String>);

impl Args {
    /// Removes `--name` if present.
    fn flag(&mut self, name: &str) -> bool {
        let before = self.0.len();
        self.0.retain(|arg| arg != name);
        self.0.len() != before
    }

    /// Removes `--name N` or `--name=N` and parses `N`.
    fn number<T: std::str::FromStr>(&mut self, name: &str) -> Result<Option<T>, String> {
        let prefix = format!("{name}=");
        let Some(position) = self
            .0
            .iter()
            .position(|a| a == name || a.starts_with(&prefix))
        else {
            return Ok(None);
        };
        let arg = self.0.remove(position);
        let value = match arg.strip_prefix(&prefix) {
            Some(value) => value.to_owned(),
            None if position < self.0.len() => self.0.remove(position),
            None => return Err(format!("expected a number after {name}, got nothing")),
        };
        value
            .parse()
            .map(Some)
            .map_err(|_| format!("expected a number after {name}, got {value:?}"))
    }

    /// Whether `--help` or `-h` comes before any `--` (after it, the arguments belong to the
    /// command that `bench` runs).
    fn help_requested(&self) -> bool {
        self.0
            .iter()
            .take_while(|a| *a != "--")
            .any(|a| a == "--help" || a == "-h")
    }

    /// Removes and returns everything after `--`.
    fn passthrough(&mut self) -> Vec<String> {
        match self.0.iter().position(|a| a == "--") {
            Some(position) => self.0.split_off(position).into_iter().skip(1).collect(),
            None => Vec::new(),
        }
    }

    /// Removes and returns the first argument that is not an option.
    fn positional(&mut self) -> Option<String> {
        let position = self.0.iter().position(|a| !a.starts_with('-'))?;
        Some(self.0.remove(position))
    }

    /// Fails on anything not consumed.
    fn finish(self) -> Result<(), String> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "unexpected arguments {:?}; run `cargo xtask help`",
                self.0
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Args {
        Args(line.split_whitespace().map(str::to_owned).collect())
    }

    #[test]
    fn readme_documents_the_test_command() {
        let readme = fs::read_to_string(project_root().join("README.md")).unwrap();
        let command = format!("cargo {TEST_COMMAND}");
        assert!(
            readme.lines().any(|line| line.trim() == command),
            "README.md must show `{command}`"
        );
    }

    #[test]
    fn ci_script_runs_the_test_command() {
        let script = fs::read_to_string(project_root().join(".ci").join("run")).unwrap();
        let command = format!("cargo {TEST_COMMAND}");
        let runs_it = script.lines().any(|line| {
            let line = line.trim_start();
            line.strip_prefix(&command)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(' '))
        });
        assert!(
            runs_it,
            ".ci/run must run the README's test command `{command}` on a line of its own"
        );
        assert!(
            script.contains("cargo xtask ci --skip-test-command"),
            ".ci/run must run the other checks"
        );
    }

    #[test]
    fn arguments_are_parsed() {
        let mut a = args("--cases 7 merkle");
        assert_eq!(a.number::<u32>("--cases"), Ok(Some(7)));
        assert_eq!(a.positional().as_deref(), Some("merkle"));
        assert_eq!(a.finish(), Ok(()));

        let mut a = args("--seconds=3");
        assert_eq!(a.number::<u64>("--seconds"), Ok(Some(3)));
        assert_eq!(a.number::<u64>("--seconds"), Ok(None));

        let mut a = args("--cases x");
        assert_eq!(
            a.number::<u32>("--cases"),
            Err("expected a number after --cases, got \"x\"".into())
        );
        assert_eq!(
            args("--cases").number::<u32>("--cases"),
            Err("expected a number after --cases, got nothing".into())
        );

        let mut a = args("merkle -- --quick --noplot");
        assert_eq!(a.passthrough(), ["--quick", "--noplot"]);
        assert_eq!(a.positional().as_deref(), Some("merkle"));
        assert!(a.finish().is_ok());

        let mut a = args("--skip-test-command --bogus");
        assert!(a.flag("--skip-test-command"));
        assert!(!a.flag("--skip-test-command"));
        assert_eq!(
            a.finish(),
            Err("unexpected arguments [\"--bogus\"]; run `cargo xtask help`".into())
        );
    }

    #[test]
    fn every_command_has_help() {
        let help = full_help();
        for (name, text) in COMMANDS {
            assert!(
                text.trim_start().starts_with(name),
                "the help of {name} starts with its name: {text:?}"
            );
            assert!(help.contains(text), "`cargo xtask help` lists {name}");
            // The help is printed and nothing runs: a command that ran would fail or take
            // minutes here (`ci`, `bench`), and an unknown argument would be an error.
            for flag in ["--help", "-h"] {
                assert_eq!(
                    run(args(&format!("{name} {flag}"))),
                    Ok(()),
                    "{name} {flag}"
                );
                assert_eq!(
                    run(args(&format!("{name} --cases 3 {flag} FILTER"))),
                    Ok(()),
                    "{name} with other arguments and {flag}"
                );
            }
            assert_eq!(run(args(&format!("help {name}"))), Ok(()), "help {name}");
        }
        assert_eq!(run(args("bogus --help")), Err(unknown_command("bogus")));
        assert_eq!(run(args("help bogus")), Err(unknown_command("bogus")));
        // After `--`, `--help` belongs to criterion.
        assert!(!args("merkle -- --help").help_requested());
        assert!(args("merkle -h -- --quick").help_requested());
    }

    #[test]
    fn commands_are_described_like_shell_lines() {
        let mut command = Command::new("/somewhere/cargo");
        command
            .args(["doc", "--no-deps"])
            .env("RUSTDOCFLAGS", "-D warnings");
        assert_eq!(
            describe(&command),
            "RUSTDOCFLAGS='-D warnings' cargo doc --no-deps"
        );
    }

    #[test]
    fn fuzz_targets_are_listed() {
        let targets = fuzz_targets().unwrap();
        assert!(targets.iter().any(|t| t == "digest_hex"), "{targets:?}");
        assert!(targets.windows(2).all(|w| w[0] < w[1]), "{targets:?}");
    }
}
