//! `lcm witness cosign`: the witness role of c2sp.org/tlog-witness over a state directory.
//! The decision is `lcm_tlog::witness`'s, the state `lcm_store::tlog_ops::witness`'s; this
//! module passes the arguments and prints.

use lcm_store::tlog_ops;

use crate::cli::{Cli, WitnessCommand};
use crate::error::CliError;
use crate::io::Out;

pub(crate) fn cosign(cli: &Cli, out: &mut Out, command: &WitnessCommand) -> Result<(), CliError> {
    let WitnessCommand::Cosign {
        checkpoint,
        key,
        name,
        state,
        log_key,
        proof,
    } = command;
    let files = tlog_ops::witness::CosignFiles {
        checkpoint,
        log_key,
        key,
        name,
        proof: proof.as_deref(),
    };
    let (value, text) = tlog_ops::witness::cosign_files(state, &files)?.summary();
    if cli.json {
        return out.line(&value.to_string());
    }
    out.raw(text.as_bytes())
}
