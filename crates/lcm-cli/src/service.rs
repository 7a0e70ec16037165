//! `lcm serve`, `lcm token`, `lcm key` and `lcm infer --server`: arguments and output over
//! `lcm_server`, `lcm_store::keys` and `lcm_client`.

use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use lcm_store::StoredReceipt;

use crate::cli::{Cli, KeyCommand, ServeArgs, TokenCommand};
use crate::error::{CliError, input};
use crate::io::{Out, open, open_read_only, plural, read_signing_key};

fn usize_of(v: u32) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

/// `lcm serve`.
pub(crate) fn serve(cli: &Cli, args: &ServeArgs) -> Result<(), CliError> {
    let mut config = lcm_server::Config::new(cli.store.clone(), args.listen.clone());
    config.log_key.clone_from(&args.log_key);
    config.origin.clone_from(&args.origin);
    config.public_reads = args.public_reads;
    config.queue_depth = usize_of(args.queue_depth);
    config.max_body = usize_of(args.max_body);
    config.request_timeout = Duration::from_secs(u64::from(args.request_timeout));
    config.max_connections = usize_of(args.max_connections);
    config.tls = args.tls_cert.clone().zip(args.tls_key.clone());
    lcm_server::serve(&config, |addr| {
        eprintln!("lcm: listening on {addr}");
        // A script learns the bound address (of `--listen HOST:0` too) from one JSON line.
        // Written at once (not buffered until exit); a closed stdout only loses this line.
        if cli.json {
            let line = serde_json::json!({"listening": addr.to_string()});
            let _ = writeln!(std::io::stdout(), "{line}");
        }
    })
    .map_err(|e| input(e.to_string()))?;
    eprintln!("lcm: stopped (drained)");
    Ok(())
}

/// `lcm token`.
pub(crate) fn token(cli: &Cli, out: &mut Out, command: &TokenCommand) -> Result<(), CliError> {
    match command {
        TokenCommand::Create { deployment, name } => {
            let mut store = open(cli)?;
            let new = lcm_server::tokens::create(&mut *store, deployment, name)
                .map_err(|e| input(e.to_string()))?;
            out.line(&new.line(cli.json))?;
            eprintln!(
                "lcm: token {} for deployment {deployment} (shown once; the store keeps its SHA-256)",
                new.stored.id
            );
            Ok(())
        }
        TokenCommand::Revoke { id } => {
            let mut store = open(cli)?;
            lcm_server::tokens::revoke(&mut *store, id).map_err(|e| input(format!("{id}: {e}")))?;
            eprintln!("lcm: token {id} revoked");
            if cli.json {
                out.line(&serde_json::json!({"id": id, "revoked": true}).to_string())?;
            }
            Ok(())
        }
        TokenCommand::List => {
            let tokens = open_read_only(cli)?.tokens()?;
            out.lines(
                tokens
                    .iter()
                    .map(|t| lcm_server::tokens::list_line(t, cli.json)),
            )
        }
    }
}

/// `lcm key`.
pub(crate) fn key(cli: &Cli, out: &mut Out, command: &KeyCommand) -> Result<(), CliError> {
    let (value, text) = match command {
        KeyCommand::Rotate { key, new_key } => {
            let (old, new) = (read_signing_key(key)?, read_signing_key(new_key)?);
            let mut store = open(cli)?;
            let now = lcm_model::Timestamp::now();
            lcm_store::keys::rotated(&lcm_store::keys::rotate(&mut *store, &old, &new, now)?)
        }
        KeyCommand::List => {
            lcm_store::keys::key_list(&lcm_store::keys::store_keys(&*open_read_only(cli)?)?)
        }
    };
    out.either(cli.json, &value, &text)
}

/// `lcm infer --server`: standard input to the server in batches, each acknowledgement
/// printed as `lcm infer` prints it once the server acknowledged its batch.
pub(crate) fn infer_remote(
    out: &mut Out,
    server: &str,
    ca_file: Option<&Path>,
    deployment: &str,
    batch_size: u32,
    format: fn(&[StoredReceipt], &mut String),
) -> Result<(), CliError> {
    let token = std::env::var("LCM_TOKEN")
        .map_err(|_| input("LCM_TOKEN: the server's token is required with --server"))?;
    let client = lcm_client::Client::connect(server, &token, ca_file)?;
    let mut lines = String::new();
    let stdin = std::io::stdin();
    let batch_size = usize_of(batch_size);
    let appended = lcm_client::send_lines(&client, deployment, stdin, batch_size, &mut |a| {
        let receipts: Vec<StoredReceipt> = a
            .receipts
            .iter()
            .map(|r| StoredReceipt::acknowledged(r.sequence, r.receipt_id.clone(), r.digest))
            .collect();
        lines.clear();
        format(&receipts, &mut lines);
        out.raw(lines.as_bytes())?;
        out.flush()
    })?;
    let retried = match client.retried() {
        0 => String::new(),
        n => format!(" ({} sent again)", plural(n, "batch", "batches")),
    };
    eprintln!(
        "lcm: appended {} through {server}{retried}",
        plural(appended, "receipt", "receipts")
    );
    Ok(())
}
