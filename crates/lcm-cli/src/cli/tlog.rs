//! The arguments of `lcm log`: the transparency log of a receipt chain.

use std::path::PathBuf;

use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub(crate) enum LogCommand {
    /// Write the current signed checkpoint of a chain's log (C2SP format).
    Checkpoint(CheckpointArgs),
    /// Recompute a chain's log from its receipts and compare every stored tile and its size
    /// (O(n) time, O(log n) memory). Exit 1 naming the first tile that differs.
    Check {
        /// The deployment whose chain's log is meant (default: the store's only chain).
        #[arg(long)]
        deployment: Option<String>,
    },
    /// Write a consistency proof from an older checkpoint's size to the current log: one
    /// base64 hash a line (the proof lines of c2sp.org/tlog-witness). Exit 1 when the older
    /// checkpoint is not a state of this log (fork or rollback).
    Prove(ProveArgs),
    /// Verify a signed checkpoint (of lcm or any C2SP log): the log's signature, a quorum of
    /// witness cosignatures and, with --since, that it extends an older checkpoint. Exit 1
    /// naming the reason (signature, quorum, fork, rollback, origin), 2 for malformed input.
    Verify(LogVerifyArgs),
    /// Write one receipt's offline proof (c2sp.org/tlog-proof): a signed checkpoint of the
    /// current log and the receipt's inclusion proof into it; the `extra` line holds the
    /// receipt's digest.
    Proof(ProofArgs),
    /// Verify an offline receipt proof (c2sp.org/tlog-proof) with the log's and witnesses'
    /// verifier keys alone. Exit 1 when it does not verify, 2 for malformed input.
    VerifyProof(VerifyProofArgs),
    /// Verify a receipt capsule made against an older header against a newer signed
    /// checkpoint of the log: the capsule against its header (as `lcm verify`), the
    /// checkpoint (signature, witness quorum), and a consistency proof from the header's
    /// receipt count to the checkpoint. Exit 1 naming the failure, 2 for malformed input.
    VerifyCapsule(VerifyCapsuleArgs),
    /// Write the log as static files in the c2sp.org/tlog-tiles layout: `checkpoint`,
    /// `tile/L/N[.p/W]` and `tile/entries/N[.p/W]` (each entry a receipt's 32-byte digest).
    ExportTiles(ExportTilesArgs),
    /// Check a log exported by `export-tiles` (or any tlog-tiles directory whose entries are
    /// 32-byte digests): its checkpoint's signature, that its tiles and entries hash to the
    /// checkpoint's root, and optionally a receipt's inclusion and consistency with an older
    /// checkpoint (monitoring). Exit 1 when a check fails.
    VerifyTiles(VerifyTilesArgs),
}

#[derive(Debug, Args)]
pub(crate) struct CheckpointArgs {
    /// The deployment whose chain's log is meant (default: the store's only chain).
    #[arg(long)]
    pub(crate) deployment: Option<String>,
    /// The log's private key: an `lcm keygen` key file, or a C2SP signer key
    /// (`PRIVATE+KEY+...`).
    #[arg(long)]
    pub(crate) key: PathBuf,
    /// The origin (and key name); default: the name of KEYFILE.vkey, else the signer
    /// key's name, else `lcm.local/DEPLOYMENT`.
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// Where to write it (default: standard output).
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct ProveArgs {
    /// The older checkpoint, or a capsule header (its receipt count and receipts root).
    #[arg(long)]
    pub(crate) from: PathBuf,
    /// The deployment whose chain's log is meant (default: the store's only chain).
    #[arg(long)]
    pub(crate) deployment: Option<String>,
    /// Where to write it (default: standard output).
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
}

/// The witnesses whose cosignatures a checkpoint must carry (`--witness`, `--quorum`).
#[derive(Debug, Args)]
pub(crate) struct WitnessArgs {
    /// A witness's verifier key (text or file); repeatable.
    #[arg(long)]
    pub(crate) witness: Vec<String>,
    /// How many of the witnesses must have cosigned.
    #[arg(long, default_value_t = 0)]
    pub(crate) quorum: usize,
}

#[derive(Debug, Args)]
pub(crate) struct LogVerifyArgs {
    /// The checkpoint.
    pub(crate) checkpoint: PathBuf,
    /// The log's verifier key: the key text or a file holding it.
    #[arg(long)]
    pub(crate) key: String,
    /// An older checkpoint of the same log that this one must extend.
    #[arg(long)]
    pub(crate) since: Option<PathBuf>,
    /// The consistency proof from --since's size (from `lcm log prove`).
    #[arg(long, requires = "since")]
    pub(crate) proof: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) witnesses: WitnessArgs,
}

#[derive(Debug, Args)]
pub(crate) struct ProofArgs {
    /// The receipt id.
    #[arg(long)]
    pub(crate) receipt: String,
    /// The log's private key (as for `lcm log checkpoint`); or --checkpoint.
    #[arg(
        long,
        required_unless_present = "checkpoint",
        conflicts_with = "checkpoint"
    )]
    pub(crate) key: Option<PathBuf>,
    /// The origin (as for `lcm log checkpoint`).
    #[arg(long, requires = "key")]
    pub(crate) name: Option<String>,
    /// Prove into this signed checkpoint of the log (for example one witnesses cosigned)
    /// instead of signing the current one; its root must be the log's at its size.
    #[arg(long)]
    pub(crate) checkpoint: Option<PathBuf>,
    /// The deployment whose chain holds the receipt (default: the store's only chain).
    #[arg(long)]
    pub(crate) deployment: Option<String>,
    /// Where to write it (default: standard output).
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyProofArgs {
    /// The proof file.
    pub(crate) file: PathBuf,
    /// The log's verifier key: the key text or a file holding it.
    #[arg(long)]
    pub(crate) key: String,
    #[command(flatten)]
    pub(crate) witnesses: WitnessArgs,
    /// The receipt's digest (64 hex characters) the proof must be about (default: the
    /// proof's `extra` line).
    #[arg(long)]
    pub(crate) digest: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyCapsuleArgs {
    /// The capsule (from `lcm materialize`).
    pub(crate) capsule: PathBuf,
    /// The header it was made against.
    #[arg(long)]
    pub(crate) header: PathBuf,
    /// The header signer's public key file (from `lcm keygen`).
    #[arg(long)]
    pub(crate) key: PathBuf,
    /// The newer signed checkpoint.
    #[arg(long)]
    pub(crate) checkpoint: PathBuf,
    /// The log's verifier key: the key text or a file holding it.
    #[arg(long)]
    pub(crate) log_key: String,
    /// The consistency proof from the header's receipt count (`lcm log prove --from
    /// HEADER`).
    #[arg(long)]
    pub(crate) proof: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) witnesses: WitnessArgs,
}

#[derive(Debug, Args)]
pub(crate) struct ExportTilesArgs {
    /// The directory (created if missing).
    pub(crate) dir: PathBuf,
    /// The deployment whose chain's log is meant (default: the store's only chain).
    #[arg(long)]
    pub(crate) deployment: Option<String>,
    /// The log's private key (as for `lcm log checkpoint`).
    #[arg(long)]
    pub(crate) key: PathBuf,
    /// The origin (as for `lcm log checkpoint`).
    #[arg(long)]
    pub(crate) name: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyTilesArgs {
    /// The directory.
    pub(crate) dir: PathBuf,
    /// The log's verifier key: the key text or a file holding it.
    #[arg(long)]
    pub(crate) key: String,
    /// An older checkpoint that the directory's must extend (proof computed from the
    /// tiles).
    #[arg(long)]
    pub(crate) since: Option<PathBuf>,
    /// A receipt digest (64 hex characters) that must be the entry at --index.
    #[arg(long, requires = "index")]
    pub(crate) digest: Option<String>,
    /// The entry index of --digest.
    #[arg(long, requires = "digest")]
    pub(crate) index: Option<u64>,
}
