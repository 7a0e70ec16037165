//! `lcm`: record an AI lifecycle into an embedded `SQLite` store, append chained inference
//! receipts, seal batches, fingerprint models and check the store.
//!
//! Exit codes: 0 success; 1 a verification failed (the failing stage and field on standard
//! error); 2 a usage or input error (missing file, malformed JSON, wrong key format) or any
//! other failure. Errors are one line on standard error; the binary never prints a backtrace.

// A command-line tool prints: that is its interface.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod capsules;
mod cli;
mod commands;
mod compat;
mod error;
mod fingerprint;
mod io;
mod progress;
mod service;
mod tlog;
mod witness;

use std::process::ExitCode;

#[global_allocator] // batches are allocated on one thread, freed on another (Cargo.toml)
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    // Last line of defence only: every error path returns a `CliError`. A panic prints one
    // line (no backtrace) and exits with 2.
    std::panic::set_hook(Box::new(|info| {
        let p = info.payload();
        let msg = (p.downcast_ref::<&str>().copied())
            .or_else(|| p.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("unknown");
        eprintln!("lcm: internal error: {msg}");
        std::process::exit(2);
    }));
    commands::run()
}
