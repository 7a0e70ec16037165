//! Tidy checks: repository-wide rules that plain `cargo test` enforces (`cargo xtask tidy`).
//!
//! Each rule is a function from file text to a list of problems, tested on small fixtures
//! first and then run over the tree:
//!
//! - every Rust file starts with a `//!` line, or a `#![doc = ...]` attribute (the
//!   `missing_docs` lint needs docs on test and bench roots, and the rest follow suit);
//! - no `unsafe` code, no debugging or unfinished-code macros, no ignored or
//!   panic-expecting tests (STYLE.md rules 18 and 29);
//! - every workspace member's manifest has `publish = false` and `[lints] workspace = true`,
//!   and takes every dependency from `[workspace.dependencies]` (rules 4 and 19);
//! - every proptest block takes its case count from `PROPTEST_CASES` (proptest's
//!   `Config::default()`), so that `cargo xtask proptest --cases N` reaches every property
//!   test: no `with_cases`, no `cases` field or assignment with a number of its own;
//! - `ARCHITECTURE.md` has a section per crate in `crates/` with an
//!   "Architecture Invariant:" line (rule 2).
//!
//! The forbidden spellings are assembled with `concat!` so that this file does not contain
//! them itself.

use std::fs;
use std::path::{Path, PathBuf};

/// The directories whose Rust files are checked, relative to the workspace root.
const RUST_DIRS: &[&str] = &[
    "crates",
    "src",
    "tests",
    "benches",
    "xtask",
    "fuzz/fuzz_targets",
    "fuzz/src",
];

/// Code that must not appear in any Rust file, with the reason.
const FORBIDDEN: &[(&str, &str)] = &[
    (concat!("to", "do!"), "unfinished code"),
    (concat!("unimple", "mented!"), "unfinished code"),
    (concat!("db", "g!"), "a debugging leftover"),
    (
        concat!("#[ig", "nore"),
        "tests are never skipped: assert the current behaviour",
    ),
    (
        concat!("#[should", "_panic"),
        "tests assert results, not panics",
    ),
];

/// Ways of giving a proptest config a case count of its own, which would ignore
/// `PROPTEST_CASES` (the constructor, and the field in a struct literal or an assignment).
const CASES_CONSTRUCTOR: &str = concat!("with_", "cases(");
const CASES_FIELD: &str = concat!("cas", "es:");
const CASES_ASSIGNMENT: &str = concat!(".cas", "es =");
/// The environment variable that sets the case count of every proptest block.
const CASES_ENV: &str = "PROPTEST_CASES";

/// The keyword of unsafe code.
const UNSAFE: &str = concat!("un", "safe");

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The entries of `dir`, sorted; none when it does not exist.
fn entries(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .map(|entry| entry.expect("a readable directory entry").path())
        .collect();
    paths.sort();
    paths
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `(path relative to the root, text)` of a file.
fn load(path: &Path) -> (String, String) {
    let text = fs::read_to_string(path).expect("a readable UTF-8 file");
    let relative = path.strip_prefix(root()).unwrap_or(path);
    (relative.display().to_string(), text)
}

/// Every `.rs` file under `dir`, skipping `target` and hidden directories.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for path in entries(dir) {
        let name = file_name(&path);
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                rust_files(&path, out);
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

/// `(path relative to the root, text)` of every checked Rust file.
fn rust_sources() -> Vec<(String, String)> {
    let mut paths = Vec::new();
    for dir in RUST_DIRS {
        rust_files(&root().join(dir), &mut paths);
    }
    assert!(
        paths.len() >= 10,
        "expected the workspace's Rust files, found {}",
        paths.len()
    );
    paths.iter().map(|path| load(path)).collect()
}

/// The crate directories under `crates/`.
fn crate_dirs() -> Vec<PathBuf> {
    let dirs: Vec<_> = entries(&root().join("crates"))
        .into_iter()
        .filter(|p| p.join("Cargo.toml").is_file())
        .collect();
    assert!(!dirs.is_empty(), "expected crates in crates/");
    dirs
}

/// The manifests of the workspace members: the root package, `crates/*` and `xtask`.
fn member_manifests() -> Vec<(String, String)> {
    let mut paths = vec![root().join("Cargo.toml"), root().join("xtask/Cargo.toml")];
    paths.extend(crate_dirs().iter().map(|dir| dir.join("Cargo.toml")));
    paths.iter().map(|path| load(path)).collect()
}

// ----- the rules -----

/// A file starts with its docs: a `//!` line, or (for a crate root that shows its README,
/// STYLE.md rule 22) a `#![doc = ...]` attribute.
fn missing_module_doc(path: &str, text: &str) -> Vec<String> {
    if text.starts_with("//!") || text.starts_with("#![doc") {
        Vec::new()
    } else {
        vec![format!(
            "{path}:1: must start with a `//!` line saying what the file is for"
        )]
    }
}

fn forbidden_code(path: &str, text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let number = number + 1;
        for (pattern, reason) in FORBIDDEN {
            if line.contains(pattern) {
                problems.push(format!("{path}:{number}: `{pattern}`: {reason}"));
            }
        }
        if has_unsafe_code(line) {
            problems.push(format!(
                "{path}:{number}: `{UNSAFE}` code: the workspace forbids it"
            ));
        }
    }
    problems
}

/// Whether `line` has the keyword as a word followed by a block or an item (`{`, `fn`, `impl`,
/// `trait`, `extern`), which skips prose and the `*_code` lint names.
fn has_unsafe_code(line: &str) -> bool {
    line.match_indices(UNSAFE).any(|(at, _)| {
        let before = line[..at].chars().next_back();
        let after = &line[at + UNSAFE.len()..];
        let word_start = !before.is_some_and(|c| c.is_alphanumeric() || c == '_');
        let rest = after.trim_start();
        let separated = after.len() != rest.len() || rest.starts_with('{');
        word_start
            && separated
            && ["{", "fn ", "impl", "trait ", "extern "]
                .iter()
                .any(|next| rest.starts_with(next))
    })
}

/// A proptest config that sets its own case count ignores `PROPTEST_CASES`, and then
/// `cargo xtask proptest --cases N` silently runs fewer (or more) cases there. The case count
/// must come from `ProptestConfig::default()`, which reads the variable (256 when unset).
///
/// Flagged, in files that use proptest: [`CASES_CONSTRUCTOR`], the field [`CASES_FIELD`] in
/// a struct literal (the word starting a line, or after `{` or `,`; a function parameter
/// after a comma is flagged too, so name it otherwise), and [`CASES_ASSIGNMENT`]. A line
/// that reads [`CASES_ENV`] itself is allowed. A `let` binding and a first parameter of
/// that name are not fields.
fn hard_coded_proptest_cases(path: &str, text: &str) -> Vec<String> {
    if !text.contains("proptest") {
        return Vec::new();
    }
    let mut problems = Vec::new();
    for (number, line) in text.lines().enumerate() {
        if line.contains(CASES_ENV) {
            continue;
        }
        let field = line.match_indices(CASES_FIELD).any(|(at, _)| {
            let before = line[..at].trim_end();
            let word_start = !line[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_');
            word_start && (before.is_empty() || before.ends_with('{') || before.ends_with(','))
        });
        if line.contains(CASES_CONSTRUCTOR) || line.contains(CASES_ASSIGNMENT) || field {
            problems.push(format!(
                "{path}:{}: a proptest case count of its own ignores {CASES_ENV} \
                 (`cargo xtask proptest --cases N`): take it from `ProptestConfig::default()`",
                number + 1
            ));
        }
    }
    problems
}

/// `[section]` name and its `key = value` lines, comments and blank lines dropped.
fn toml_sections(text: &str) -> Vec<(String, Vec<String>)> {
    let mut sections = vec![(String::new(), Vec::new())];
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(header) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            sections.push((
                header.trim_matches(['[', ']']).trim().to_owned(),
                Vec::new(),
            ));
        } else if let Some((_, lines)) = sections.last_mut() {
            lines.push(line.to_owned());
        }
    }
    sections
}

/// `key = value` with the spaces around `=` and inside inline tables removed.
fn normalized(line: &str) -> String {
    line.chars().filter(|c| !c.is_whitespace()).collect()
}

fn is_dependency_table(section: &str) -> bool {
    let last = section.rsplit_once('.').map_or(section, |(_, last)| last);
    ["dependencies", "dev-dependencies", "build-dependencies"].contains(&last)
        && section != "workspace.dependencies"
}

fn manifest_problems(path: &str, text: &str) -> Vec<String> {
    let sections = toml_sections(text);
    let section = |name: &str| sections.iter().find(|(header, _)| header == name);
    let has = |name: &str, line: &str| {
        section(name).is_some_and(|(_, lines)| lines.iter().any(|l| normalized(l) == line))
    };
    let mut problems = Vec::new();
    if !has("package", "publish=false") {
        problems.push(format!("{path}: `[package]` needs `publish = false`"));
    }
    if !has("lints", "workspace=true") {
        problems.push(format!("{path}: needs `[lints] workspace = true`"));
    }
    for (header, lines) in &sections {
        if is_dependency_table(header) {
            for line in lines {
                let line = normalized(line);
                let (key, value) = line.split_once('=').unwrap_or((&line, ""));
                let inherited = (key.ends_with(".workspace") && value == "true")
                    || (value.starts_with('{') && value.contains("workspace=true"));
                if !inherited {
                    problems.push(format!(
                        "{path}: `[{header}]` {key}: take the version from the root \
                         `[workspace.dependencies]` (`{key}.workspace = true`)"
                    ));
                }
            }
        } else if let Some((table, name)) = header.rsplit_once('.')
            && is_dependency_table(table)
            && !lines.iter().any(|l| normalized(l) == "workspace=true")
        {
            problems.push(format!(
                "{path}: `[{header}]` needs `workspace = true` ({name})"
            ));
        }
    }
    problems
}

/// Every crate needs a Markdown section whose heading names it and whose text has an
/// "Architecture Invariant:" line. A section runs to the next heading of the same or a
/// higher level; `#` lines inside code fences are not headings.
fn architecture_problems(text: &str, crates: &[String]) -> Vec<String> {
    let mut in_fence = false;
    // Each line with its heading level, if it is a heading.
    let lines: Vec<(&str, Option<usize>)> = text
        .lines()
        .map(|line| {
            if line.trim_start().starts_with("```") {
                in_fence = !in_fence;
            }
            let hashes = line.len() - line.trim_start_matches('#').len();
            let heading = !in_fence && hashes > 0 && line[hashes..].starts_with(' ');
            (line, heading.then_some(hashes))
        })
        .collect();
    let documented = |name: &str| {
        lines.iter().enumerate().any(|(start, &(heading, level))| {
            let Some(depth) = level.filter(|_| heading.contains(name)) else {
                return false;
            };
            lines[start + 1..]
                .iter()
                .take_while(|(_, level)| level.is_none_or(|d| d > depth))
                .any(|(line, _)| line.contains("Architecture Invariant:"))
        })
    };
    crates
        .iter()
        .filter(|name| !documented(name))
        .map(|name| {
            format!(
                "ARCHITECTURE.md: needs a section whose heading names `{name}`, with an \
                 \"Architecture Invariant:\" line"
            )
        })
        .collect()
}

#[track_caller]
fn assert_tidy(problems: Vec<String>) {
    assert!(
        problems.is_empty(),
        "tidy problems:\n{}",
        problems.join("\n")
    );
}

// ----- the rules on fixtures -----

#[track_caller]
fn check(rule: fn(&str, &str) -> Vec<String>, text: &str, expected: &[&str]) {
    assert_eq!(rule("f", text), expected, "text: {text:?}");
}

#[test]
fn module_doc_rule() {
    check(missing_module_doc, "//! Does things.\nfn main() {}\n", &[]);
    check(
        missing_module_doc,
        "#![doc = include_str!(\"../README.md\")]\n//!\n",
        &[],
    );
    check(
        missing_module_doc,
        "#![forbid(unsafe_code)]\n//! Late.\n",
        &["f:1: must start with a `//!` line saying what the file is for"],
    );
    check(
        missing_module_doc,
        "// A plain comment.\n//! Late.\n",
        &["f:1: must start with a `//!` line saying what the file is for"],
    );
    check(
        missing_module_doc,
        "",
        &["f:1: must start with a `//!` line saying what the file is for"],
    );
}

#[test]
fn forbidden_code_rule() {
    let todo = FORBIDDEN[0].0;
    let ignore = FORBIDDEN[3].0;
    check(
        forbidden_code,
        "#![forbid(unsafe_code)]\n// Never unsafe, never.\n",
        &[],
    );
    check(forbidden_code, "let x = 1;\nfn f() { todo_list(); }\n", &[]);
    let expected = format!("f:2: `{todo}`: unfinished code");
    check(
        forbidden_code,
        &format!("fn f() {{\n    {todo}()\n}}"),
        &[&expected],
    );
    let expected =
        format!("f:1: `{ignore}`: tests are never skipped: assert the current behaviour");
    check(
        forbidden_code,
        &format!("{ignore}]\n#[test]\nfn t() {{}}"),
        &[&expected],
    );
    let block = format!("let v = {UNSAFE} {{ read() }};");
    check(
        forbidden_code,
        &block,
        &["f:1: `unsafe` code: the workspace forbids it"],
    );
    for code in [
        "{ read() }",
        "fn f() {}",
        "impl Send for X {}",
        "trait T {}",
        "extern \"C\" {}",
    ] {
        let expected = ["f:1: `unsafe` code: the workspace forbids it"];
        check(forbidden_code, &format!("{UNSAFE} {code}"), &expected);
    }
    check(
        forbidden_code,
        &format!("pub {UNSAFE}{{}}"),
        &["f:1: `unsafe` code: the workspace forbids it"],
    );
    check(
        forbidden_code,
        &format!("not_{UNSAFE} {{}}\n{UNSAFE}_fn()"),
        &[],
    );
}

#[test]
fn proptest_cases_rule() {
    let problem = |line: usize| {
        format!(
            "f:{line}: a proptest case count of its own ignores {CASES_ENV} \
             (`cargo xtask proptest --cases N`): take it from `ProptestConfig::default()`"
        )
    };
    let default = "proptest! {\n    #![proptest_config(ProptestConfig::default())]\n}";
    check(hard_coded_proptest_cases, default, &[]);
    let constructor =
        format!("proptest! {{\n    #![proptest_config(Config::{CASES_CONSTRUCTOR}64))]\n}}");
    check(hard_coded_proptest_cases, &constructor, &[&problem(2)]);
    let field = format!(
        "proptest! {{\n    #![proptest_config(ProptestConfig {{\n        {CASES_FIELD} 64,\n        \
         ..ProptestConfig::default()\n    }})]\n}}"
    );
    check(hard_coded_proptest_cases, &field, &[&problem(3)]);
    let inline =
        format!("use proptest::prelude::*;\nlet c = ProptestConfig {{ {CASES_FIELD} 9, ..c }};");
    check(hard_coded_proptest_cases, &inline, &[&problem(2)]);
    let assignment = format!("use proptest::test_runner::Config;\nconfig{CASES_ASSIGNMENT} 64;");
    check(hard_coded_proptest_cases, &assignment, &[&problem(2)]);
    let from_env =
        format!("// proptest\nlet c = Config {{ {CASES_FIELD} env_cases(\"{CASES_ENV}\"), ..c }};");
    check(hard_coded_proptest_cases, &from_env, &[]);
    let not_fields = format!(
        "// proptest\nlet {CASES_FIELD} Vec<u8> = vec![];\nfn f({CASES_FIELD} u8, n{CASES_FIELD} u8) {{}}"
    );
    check(hard_coded_proptest_cases, &not_fields, &[]);
    // Files that do not use proptest are not its business.
    check(
        hard_coded_proptest_cases,
        &format!("Config::{CASES_CONSTRUCTOR}3)"),
        &[],
    );
}

#[test]
fn manifest_rule() {
    let good = "[package]\nname = \"a\"\npublish = false\n\n[dependencies]\n\
                x.workspace = true\ny = { workspace = true, features = [\"serde\"] }\n\n\
                [dev-dependencies.z]\nworkspace = true\n\n[lints]\nworkspace = true\n";
    check(manifest_problems, good, &[]);
    let bad = "[package]\nname = \"a\"\n\n[target.'cfg(unix)'.dependencies]\nx = \"1.0\"\n\
               # y = \"2\"\n\n[build-dependencies.z]\nversion = \"1\"\n\n[lints]\nclippy = {}\n";
    check(
        manifest_problems,
        bad,
        &[
            "f: `[package]` needs `publish = false`",
            "f: needs `[lints] workspace = true`",
            "f: `[target.'cfg(unix)'.dependencies]` x: take the version from the root \
         `[workspace.dependencies]` (`x.workspace = true`)",
            "f: `[build-dependencies.z]` needs `workspace = true` (z)",
        ],
    );
    let root = "[package]\npublish = false\n[lints]\nworkspace = true\n\
                [workspace.dependencies]\nserde = \"1\"\n";
    check(manifest_problems, root, &[]);
}

#[test]
fn architecture_rule() {
    let crates = ["lcm-a".to_owned(), "lcm-b".to_owned()];
    let text = "# Architecture\n\n## Crates\n\n### `crates/lcm-a`\n\nDoes a.\n\n\
                **Architecture Invariant:** a depends on nothing.\n\n### `crates/lcm-b`\n\n\
                Does b.\n\n#### Details\n\nArchitecture Invariant: b never calls a.\n";
    assert_eq!(architecture_problems(text, &crates), Vec::<String>::new());
    // lcm-b's invariant moved under a sibling heading: no longer its own.
    let moved = text.replace("#### Details", "### Elsewhere");
    assert_eq!(
        architecture_problems(&moved, &crates),
        [
            "ARCHITECTURE.md: needs a section whose heading names `lcm-b`, with an \
         \"Architecture Invariant:\" line"
        ]
    );
    assert_eq!(
        architecture_problems("lcm-a lcm-b Architecture Invariant:", &crates).len(),
        2
    );
    // A `#` comment in a code block does not end a section.
    let fenced = text.replace("Does b.", "```sh\n# build b\ncargo build\n```");
    assert_eq!(
        architecture_problems(&fenced, &crates),
        Vec::<String>::new()
    );
}

// ----- the rules on the tree -----

#[test]
fn rust_files_start_with_a_module_doc() {
    assert_tidy(
        rust_sources()
            .iter()
            .flat_map(|(path, text)| missing_module_doc(path, text))
            .collect(),
    );
}

#[test]
fn no_forbidden_code() {
    assert_tidy(
        rust_sources()
            .iter()
            .flat_map(|(path, text)| forbidden_code(path, text))
            .collect(),
    );
}

#[test]
fn proptest_case_counts_come_from_the_environment() {
    assert_tidy(
        rust_sources()
            .iter()
            .flat_map(|(path, text)| hard_coded_proptest_cases(path, text))
            .collect(),
    );
}

#[test]
fn member_manifests_inherit_lints_and_versions() {
    let manifests = member_manifests();
    assert!(
        manifests.len() >= 3,
        "expected the member manifests, found {}",
        manifests.len()
    );
    assert_tidy(
        manifests
            .iter()
            .flat_map(|(path, text)| manifest_problems(path, text))
            .collect(),
    );
}

#[test]
fn architecture_names_every_crate_with_its_invariant() {
    let text = fs::read_to_string(root().join("ARCHITECTURE.md"))
        .expect("ARCHITECTURE.md exists at the workspace root");
    let crates: Vec<String> = crate_dirs().iter().map(|dir| file_name(dir)).collect();
    assert_tidy(architecture_problems(&text, &crates));
}

/// The cycles among the modules of one crate: `files` maps a module's name to its source, an
/// edge is a `crate::<module>` path in that source. Returns one line per module that can reach
/// itself.
fn module_cycles(files: &[(String, String)]) -> Vec<String> {
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    let edges = |text: &str| -> Vec<usize> {
        names
            .iter()
            .enumerate()
            .filter(|(_, n)| {
                text.contains(&format!("crate::{n}::"))
                    || text.contains(&format!("crate::{n}}}"))
                    || text.contains(&format!("crate::{n};"))
            })
            .map(|(i, _)| i)
            .collect()
    };
    let graph: Vec<Vec<usize>> = files.iter().map(|(_, t)| edges(t)).collect();
    let mut problems = Vec::new();
    for start in 0..files.len() {
        let mut seen = vec![false; files.len()];
        let mut stack: Vec<usize> = graph[start].clone();
        while let Some(m) = stack.pop() {
            if m == start {
                problems.push(format!(
                    "module {} imports itself through a cycle",
                    names[start]
                ));
                break;
            }
            if !seen[m] {
                seen[m] = true;
                stack.extend(&graph[m]);
            }
        }
    }
    problems
}

#[test]
fn module_cycle_rule() {
    let acyclic = [
        ("a".to_owned(), "use crate::b::x;".to_owned()),
        ("b".to_owned(), String::new()),
    ];
    assert!(module_cycles(&acyclic).is_empty());
    let cyclic = [
        ("a".to_owned(), "use crate::b::x;".to_owned()),
        ("b".to_owned(), "use crate::c::{y};".to_owned()),
        ("c".to_owned(), "fn f() { crate::a::g() }".to_owned()),
    ];
    assert_eq!(module_cycles(&cyclic).len(), 3);
}

/// Issue 10: the modules of the `lcm` binary import each other without cycles (shared things
/// live in leaf modules: `cli`, `error`, `io`).
#[test]
fn cli_modules_have_no_cycles() {
    let dir = root().join("crates/lcm-cli/src");
    let files: Vec<(String, String)> = entries(&dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .map(|p| {
            let name = p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            (name, fs::read_to_string(&p).unwrap_or_default())
        })
        .collect();
    assert!(
        files.len() >= 5,
        "expected the CLI's modules in {}",
        dir.display()
    );
    assert_tidy(module_cycles(&files));
}
