//! `lcm witness cosign`: the witness role of c2sp.org/tlog-witness over a state directory.
//! The decision is `lcm_tlog::witness`'s, the state `lcm_store::tlog_ops::witness`'s; this
//! module passes the arguments and prints.

use lcm_store::tlog_ops::{self, parse_vkey, read_checkpoint, read_signer};
use lcm_tlog::note::SignatureType;
use serde_json::json;

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
    let submitted = read_checkpoint(checkpoint)?;
    let log_key = parse_vkey(log_key)?;
    let witness_key = read_signer(key, SignatureType::Cosignature, Some(name), &|| {
        name.clone()
    })?;
    let proof = proof
        .as_deref()
        .map(tlog_ops::read_consistency_proof)
        .transpose()?;
    let cosigned =
        tlog_ops::witness::cosign(state, &submitted, &log_key, proof.as_deref(), &witness_key)?;
    let text = cosigned.to_text();
    if cli.json {
        let value = json!({"cosigned": true, "origin": submitted.checkpoint().origin(),
            "size": cosigned.checkpoint().size(), "checkpoint": text});
        return out.line(&value.to_string());
    }
    out.raw(text.as_bytes())
}
