//! The command line, declared with clap's derive API.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Verifiable AI lifecycle records (CIAF LCM) in an embedded `SQLite` store or a `PostgreSQL`
/// database.
#[derive(Debug, Parser)]
#[command(name = "lcm", version, about, long_about = None)]
pub(crate) struct Cli {
    /// The store: an `SQLite` file, or a `postgres://` URL (also accepted after the commands
    /// that use a store).
    #[arg(
        long,
        env = "LCM_STORE",
        hide_env_values = true,
        default_value = "lcm.db"
    )]
    pub(crate) store: PathBuf,
    /// Print machine-readable JSON on standard output.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// `--store` after a command that uses a store (the commands that use none, `keygen`,
/// `fingerprint`, `inspect`, `witness`, `compat`, do not offer it there).
#[derive(Debug, Args)]
pub(crate) struct StoreArg {
    /// The store: an `SQLite` file or a `postgres://` URL (default: the top-level --store,
    /// `LCM_STORE`, else `lcm.db`).
    #[arg(long = "store", global = true, value_name = "PATH")]
    pub(crate) store: Option<PathBuf>,
}

/// The example files of `lcm example`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ExampleName {
    /// A whole lifecycle, for `lcm record lifecycle`.
    Lifecycle,
    /// Stage A, for `lcm record dataset`.
    Dataset,
    /// Stage B, for `lcm record model`.
    Model,
    /// Stage C (start, first checkpoint), for `lcm record training`.
    Training,
    /// Stage C (next checkpoint, complete), for `lcm record training`.
    TrainingComplete,
    /// Stage D, for `lcm record predeployment`.
    Predeployment,
    /// Stage E, for `lcm record deployment`.
    Deployment,
    /// Stage F, for `lcm record test`.
    Test,
    /// Inference lines (JSON Lines), for `lcm infer`.
    Inferences,
}

impl ExampleName {
    /// The file's text, as shipped in `examples/cli/`.
    pub(crate) const fn text(self) -> &'static str {
        match self {
            Self::Lifecycle => include_str!("../../../examples/cli/lifecycle.json"),
            Self::Dataset => include_str!("../../../examples/cli/stages/dataset.json"),
            Self::Model => include_str!("../../../examples/cli/stages/model.json"),
            Self::Training => include_str!("../../../examples/cli/stages/training.json"),
            Self::TrainingComplete => {
                include_str!("../../../examples/cli/stages/training-complete.json")
            }
            Self::Predeployment => {
                include_str!("../../../examples/cli/stages/predeployment.json")
            }
            Self::Deployment => include_str!("../../../examples/cli/stages/deployment.json"),
            Self::Test => include_str!("../../../examples/cli/stages/test.json"),
            Self::Inferences => include_str!("../../../examples/cli/inferences.jsonl"),
        }
    }
}

/// The hash of `lcm fingerprint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Algorithm {
    /// SHA-256.
    Sha256,
    /// BLAKE3.
    Blake3,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create the store (idempotent: an existing store keeps its policy and secrets).
    Init {
        #[command(flatten)]
        store: StoreArg,
        /// A policy JSON file (default: the default policy).
        #[arg(long)]
        policy: Option<PathBuf>,
    },
    /// Generate an Ed25519 signing key: the private key at PATH (mode 0600), the public key
    /// at PATH.pub, each as 64 lowercase hex characters and a newline; with --name, also the
    /// C2SP verifier key `NAME+hex(id)+base64(type||key)` at PATH.vkey.
    Keygen {
        /// Where to write the private key.
        #[arg(long)]
        out: PathBuf,
        /// Overwrite existing key files.
        #[arg(long)]
        force: bool,
        /// The key's C2SP name (a log's origin, or a witness's name): writes PATH.vkey.
        #[arg(long)]
        name: Option<String>,
        /// With --name: the verifier key is a witness's cosignature key (type 0x04) rather
        /// than a log's note signature key (type 0x01).
        #[arg(long, requires = "name")]
        witness: bool,
    },
    /// Record lifecycle stages from JSON files.
    Record {
        #[command(flatten)]
        store: StoreArg,
        #[command(subcommand)]
        command: RecordCommand,
    },
    /// Append chained inference receipts read as JSON Lines on standard input.
    ///
    /// Each line is a JSON object `{"request_id", "query", "output"}`, optionally with
    /// `"receipt_id"`, `"input_metadata"`, `"output_metadata"`, `"explanation_digests"` (print an
    /// example: `lcm example inferences`). A receipt is
    /// acknowledged when its line is printed on standard output: it is then committed and
    /// durable.
    Infer {
        #[command(flatten)]
        store: StoreArg,
        /// The model anchor: NAME@VERSION as recorded.
        #[arg(long)]
        model: String,
        /// The deployment id as recorded.
        #[arg(long)]
        deployment: String,
        /// The most receipts committed in one transaction.
        #[arg(long, default_value_t = 16384, value_parser = clap::value_parser!(u32).range(1..))]
        batch_size: u32,
        /// Accept a request id that the deployment's chain already holds (or that the input
        /// repeats); by default it is refused.
        #[arg(long)]
        allow_repeated_request_id: bool,
    },
    /// Inference batches.
    Batch {
        #[command(flatten)]
        store: StoreArg,
        #[command(subcommand)]
        command: BatchCommand,
    },
    /// Recompute every record digest, the whole receipt chain and every batch.
    Check {
        #[command(flatten)]
        store: StoreArg,
    },
    /// List stored records (or receipts, with the kind `receipts`).
    List {
        #[command(flatten)]
        store: StoreArg,
        /// Only this record kind, for example `model-anchor`; `receipts` lists receipts.
        kind: Option<String>,
        /// The deployment whose receipts are listed (default: the store's only chain).
        #[arg(long)]
        deployment: Option<String>,
    },
    /// Print one stored record's canonical JSON.
    Show {
        #[command(flatten)]
        store: StoreArg,
        /// The record kind (`inference-receipt` for receipts).
        kind: String,
        /// The record id.
        id: String,
        /// The deployment whose chain holds the receipt (default: the store's only chain).
        #[arg(long)]
        deployment: Option<String>,
    },
    /// Fingerprint model files and directories.
    Fingerprint(FingerprintArgs),
    /// Run the example lifecycle into the store (dataset family with three splits, model,
    /// training with checkpoints, pre-deployment, deployment, test evaluation, receipts in
    /// batches, all roots) and write a signed header.json and a self-contained bundle.json.
    Demo {
        #[command(flatten)]
        store: StoreArg,
        /// How many inference receipts to append.
        #[arg(long, default_value_t = 1000)]
        receipts: u64,
        /// Where to write the key, header.json and bundle.json.
        #[arg(long, default_value = "lcm-demo")]
        out: PathBuf,
    },
    /// Sign and write the capsule header of a lifecycle in the store.
    Header {
        #[command(flatten)]
        store: StoreArg,
        /// The private key (from `lcm keygen`).
        #[arg(long)]
        key: PathBuf,
        /// Where to write it (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
        /// The deployment whose lifecycle is meant (default: the store's only one).
        #[arg(long)]
        deployment: Option<String>,
    },
    /// Write the self-contained, signed bundle of a lifecycle in the store.
    Export {
        #[command(flatten)]
        store: StoreArg,
        /// The private key (from `lcm keygen`).
        #[arg(long)]
        key: PathBuf,
        /// Where to write it (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
        /// The deployment whose lifecycle is meant (default: the store's only one).
        #[arg(long)]
        deployment: Option<String>,
    },
    /// Write one receipt's capsule: the receipt, its inclusion proof into the header's
    /// receipts root and its chain neighbours, optionally with the openings of its query
    /// and output.
    Materialize {
        #[command(flatten)]
        store: StoreArg,
        /// The receipt id.
        receipt_id: String,
        /// The header the capsule proves into (from `lcm header`).
        #[arg(long)]
        header: PathBuf,
        /// Disclose the query: it must be the committed one.
        #[arg(long)]
        query: Option<String>,
        /// Disclose the output: it must be the committed one.
        #[arg(long)]
        output: Option<String>,
        /// Where to write it (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
        /// The deployment whose chain holds the receipt (default: the header's).
        #[arg(long)]
        deployment: Option<String>,
    },
    /// Verify a header, capsule or bundle file (detected from its content).
    Verify {
        #[command(flatten)]
        store: StoreArg,
        /// The file.
        file: PathBuf,
        /// The signer's public key file (default: the path in `LCM_PUBLIC_KEY`).
        #[arg(long, env = "LCM_PUBLIC_KEY")]
        key: Option<PathBuf>,
        /// For a capsule: the header it proves into. For a header: an older header of the
        /// same receipt chain that it must extend (exit 1 for a fork or a rollback).
        #[arg(long)]
        header: Option<PathBuf>,
        #[command(flatten)]
        requirements: RequirementArgs,
        /// For a header with --header: the consistency proof from the older header's receipt
        /// count (`lcm log prove`; default: computed from the store's log).
        #[arg(long, requires = "header")]
        proof: Option<PathBuf>,
    },
    /// Summarize a header, capsule or bundle file (with --json: the summary lines and the
    /// digests, key id and counts a script needs).
    Inspect {
        /// The file.
        file: PathBuf,
        /// With --json: also the whole document, under `document`.
        #[arg(long)]
        document: bool,
    },
    /// The transparency log of a receipt chain: signed checkpoints (c2sp.org/tlog-checkpoint),
    /// consistency and inclusion proofs, and a static tile export (c2sp.org/tlog-tiles).
    Log {
        #[command(flatten)]
        store: StoreArg,
        #[command(subcommand)]
        command: LogCommand,
    },
    /// The witness role of c2sp.org/tlog-witness: cosign only checkpoints consistent with
    /// what the witness saw before.
    Witness {
        #[command(subcommand)]
        command: WitnessCommand,
    },
    /// Print an example input file (built in, so an installed binary has them too): a
    /// lifecycle file, a stage file, or inference lines for `lcm infer`.
    Example {
        /// Which file.
        #[arg(value_enum)]
        name: ExampleName,
    },
    /// Records of the Python reference (pyciaf): what can and cannot be checked.
    Compat {
        #[command(subcommand)]
        command: CompatCommand,
    },
}

impl Command {
    /// The `--store` given after the command, for a command that uses a store.
    pub(crate) fn store(&self) -> Option<&std::path::Path> {
        match self {
            Self::Init { store, .. }
            | Self::Record { store, .. }
            | Self::Infer { store, .. }
            | Self::Batch { store, .. }
            | Self::Check { store }
            | Self::List { store, .. }
            | Self::Show { store, .. }
            | Self::Demo { store, .. }
            | Self::Header { store, .. }
            | Self::Export { store, .. }
            | Self::Materialize { store, .. }
            | Self::Verify { store, .. }
            | Self::Log { store, .. } => store.store.as_deref(),
            Self::Keygen { .. }
            | Self::Fingerprint(_)
            | Self::Inspect { .. }
            | Self::Witness { .. }
            | Self::Example { .. }
            | Self::Compat { .. } => None,
        }
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum LogCommand {
    /// Write the current signed checkpoint of a chain's log (C2SP format).
    Checkpoint {
        /// The deployment whose chain's log is meant (default: the store's only chain).
        #[arg(long)]
        deployment: Option<String>,
        /// The log's private key: an `lcm keygen` key file, or a C2SP signer key
        /// (`PRIVATE+KEY+...`).
        #[arg(long)]
        key: PathBuf,
        /// The origin (and key name); default: the name of KEYFILE.vkey, else the signer
        /// key's name, else `lcm.local/DEPLOYMENT`.
        #[arg(long)]
        name: Option<String>,
        /// Where to write it (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
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
    Prove {
        /// The older checkpoint, or a capsule header (its receipt count and receipts root).
        #[arg(long)]
        from: PathBuf,
        /// The deployment whose chain's log is meant (default: the store's only chain).
        #[arg(long)]
        deployment: Option<String>,
        /// Where to write it (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Verify a signed checkpoint (of lcm or any C2SP log): the log's signature, a quorum of
    /// witness cosignatures and, with --since, that it extends an older checkpoint. Exit 1
    /// naming the reason (signature, quorum, fork, rollback, origin), 2 for malformed input.
    Verify {
        /// The checkpoint.
        checkpoint: PathBuf,
        /// The log's verifier key: the key text or a file holding it.
        #[arg(long)]
        key: String,
        /// An older checkpoint of the same log that this one must extend.
        #[arg(long)]
        since: Option<PathBuf>,
        /// The consistency proof from --since's size (from `lcm log prove`).
        #[arg(long, requires = "since")]
        proof: Option<PathBuf>,
        /// A witness's verifier key (text or file); repeatable.
        #[arg(long)]
        witness: Vec<String>,
        /// How many of the witnesses must have cosigned.
        #[arg(long, default_value_t = 0)]
        quorum: usize,
    },
    /// Write one receipt's offline proof (c2sp.org/tlog-proof): a signed checkpoint of the
    /// current log and the receipt's inclusion proof into it; the `extra` line holds the
    /// receipt's digest.
    Proof {
        /// The receipt id.
        #[arg(long)]
        receipt: String,
        /// The log's private key (as for `lcm log checkpoint`); or --checkpoint.
        #[arg(
            long,
            required_unless_present = "checkpoint",
            conflicts_with = "checkpoint"
        )]
        key: Option<PathBuf>,
        /// The origin (as for `lcm log checkpoint`).
        #[arg(long, requires = "key")]
        name: Option<String>,
        /// Prove into this signed checkpoint of the log (for example one witnesses cosigned)
        /// instead of signing the current one; its root must be the log's at its size.
        #[arg(long)]
        checkpoint: Option<PathBuf>,
        /// The deployment whose chain holds the receipt (default: the store's only chain).
        #[arg(long)]
        deployment: Option<String>,
        /// Where to write it (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Verify an offline receipt proof (c2sp.org/tlog-proof) with the log's and witnesses'
    /// verifier keys alone. Exit 1 when it does not verify, 2 for malformed input.
    VerifyProof {
        /// The proof file.
        file: PathBuf,
        /// The log's verifier key: the key text or a file holding it.
        #[arg(long)]
        key: String,
        /// A witness's verifier key (text or file); repeatable.
        #[arg(long)]
        witness: Vec<String>,
        /// How many of the witnesses must have cosigned.
        #[arg(long, default_value_t = 0)]
        quorum: usize,
        /// The receipt's digest (64 hex characters) the proof must be about (default: the
        /// proof's `extra` line).
        #[arg(long)]
        digest: Option<String>,
    },
    /// Verify a receipt capsule made against an older header against a newer signed
    /// checkpoint of the log: the capsule against its header (as `lcm verify`), the
    /// checkpoint (signature, witness quorum), and a consistency proof from the header's
    /// receipt count to the checkpoint. Exit 1 naming the failure, 2 for malformed input.
    VerifyCapsule {
        /// The capsule (from `lcm materialize`).
        capsule: PathBuf,
        /// The header it was made against.
        #[arg(long)]
        header: PathBuf,
        /// The header signer's public key file (from `lcm keygen`).
        #[arg(long)]
        key: PathBuf,
        /// The newer signed checkpoint.
        #[arg(long)]
        checkpoint: PathBuf,
        /// The log's verifier key: the key text or a file holding it.
        #[arg(long)]
        log_key: String,
        /// The consistency proof from the header's receipt count (`lcm log prove --from
        /// HEADER`).
        #[arg(long)]
        proof: Option<PathBuf>,
        /// A witness's verifier key (text or file); repeatable.
        #[arg(long)]
        witness: Vec<String>,
        /// How many of the witnesses must have cosigned.
        #[arg(long, default_value_t = 0)]
        quorum: usize,
    },
    /// Write the log as static files in the c2sp.org/tlog-tiles layout: `checkpoint`,
    /// `tile/L/N[.p/W]` and `tile/entries/N[.p/W]` (each entry a receipt's 32-byte digest).
    ExportTiles {
        /// The directory (created if missing).
        dir: PathBuf,
        /// The deployment whose chain's log is meant (default: the store's only chain).
        #[arg(long)]
        deployment: Option<String>,
        /// The log's private key (as for `lcm log checkpoint`).
        #[arg(long)]
        key: PathBuf,
        /// The origin (as for `lcm log checkpoint`).
        #[arg(long)]
        name: Option<String>,
    },
    /// Check a log exported by `export-tiles` (or any tlog-tiles directory whose entries are
    /// 32-byte digests): its checkpoint's signature, that its tiles and entries hash to the
    /// checkpoint's root, and optionally a receipt's inclusion and consistency with an older
    /// checkpoint (monitoring). Exit 1 when a check fails.
    VerifyTiles {
        /// The directory.
        dir: PathBuf,
        /// The log's verifier key: the key text or a file holding it.
        #[arg(long)]
        key: String,
        /// An older checkpoint that the directory's must extend (proof computed from the
        /// tiles).
        #[arg(long)]
        since: Option<PathBuf>,
        /// A receipt digest (64 hex characters) that must be the entry at --index.
        #[arg(long, requires = "index")]
        digest: Option<String>,
        /// The entry index of --digest.
        #[arg(long, requires = "digest")]
        index: Option<u64>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum WitnessCommand {
    /// Cosign a checkpoint if it is consistent with the witness's state (DIR), print it with
    /// the cosignature added and keep it as the origin's latest. Exit 1 without signing for
    /// a bad log signature, a rollback, a fork or a missing or invalid proof.
    Cosign {
        /// The checkpoint.
        checkpoint: PathBuf,
        /// The witness's private key (an `lcm keygen` key file or a C2SP signer key).
        #[arg(long)]
        key: PathBuf,
        /// The witness's name.
        #[arg(long)]
        name: String,
        /// The witness's state directory (created if missing).
        #[arg(long)]
        state: PathBuf,
        /// The log's verifier key: the key text or a file holding it.
        #[arg(long)]
        log_key: String,
        /// The consistency proof from the size the witness holds (from `lcm log prove`).
        #[arg(long)]
        proof: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum CompatCommand {
    /// Audit a capsule header written by the Python reference, field by field: what is
    /// consistent, what is inconsistent, and what cannot be checked (truncated digests,
    /// discarded salts) and why. Exit 0 when the audit ran, 2 for unreadable input.
    Audit {
        /// The header (`CapsuleHeader.to_json()` or `to_compact_json()`).
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum RecordCommand {
    /// Record a whole lifecycle (dataset family and splits, model, training with
    /// checkpoints, pre-deployment, deployment, test evaluation, release root) from one
    /// JSON file, atomically. The master passwords come from the environment variables
    /// `LCM_DATASET_PASSWORD` and `LCM_MODEL_PASSWORD`.
    Lifecycle {
        /// The lifecycle file (print an example: `lcm example lifecycle`).
        file: PathBuf,
        #[command(flatten)]
        overrides: OverrideArgs,
    },
    /// Stage A: a dataset family and its splits (password: `LCM_DATASET_PASSWORD`).
    Dataset {
        /// The stage file (print an example: `lcm example dataset`).
        file: PathBuf,
        /// Record a dataset with personal data (`contains_pii`) although the policy commits
        /// in plaintext; REASON is kept in a sealed `policy-override` record.
        #[arg(long, value_name = "REASON")]
        allow_plaintext_pii: Option<String>,
    },
    /// Stage B: a model anchor, authorized on stored dataset families (password:
    /// `LCM_MODEL_PASSWORD`).
    Model {
        /// The stage file (print an example: `lcm example model`).
        file: PathBuf,
    },
    /// Stage C: start a training session, add checkpoints to an open one, complete it.
    Training {
        /// The stage file (print an example: `lcm example training`).
        file: PathBuf,
    },
    /// Stage D: a pre-deployment anchor of a completed training session's model.
    Predeployment {
        /// The stage file (print an example: `lcm example predeployment`).
        file: PathBuf,
    },
    /// Stage E: a deployment anchor carrying out a pre-deployment.
    Deployment {
        /// The stage file (print an example: `lcm example deployment`).
        file: PathBuf,
        /// Deploy although the pre-deployment's SBOM records a failed security and
        /// compliance check; REASON is kept in a sealed `policy-override` record.
        #[arg(long, value_name = "REASON")]
        allow_failed_security_scan: Option<String>,
    },
    /// Stage F: a test evaluation of a stored split.
    Test {
        /// The stage file (print an example: `lcm example test`).
        file: PathBuf,
    },
    /// The training session root and the release root of a deployment.
    Release {
        /// The deployment id.
        #[arg(long)]
        deployment: String,
        /// The test evaluation it is released on.
        #[arg(long)]
        test: String,
    },
    /// A deployment status change: a rollback, a failure, or a retry after a failure.
    Status {
        /// The deployment id.
        #[arg(long)]
        deployment: String,
        /// The new status.
        #[arg(long, value_enum)]
        status: Status,
        /// Why.
        #[arg(long)]
        reason: String,
    },
}

/// What `lcm verify` requires of the document's policy, beyond a valid signature and
/// consistent records (`lcm_capsule::PolicyRequirements`).
#[derive(Debug, Args)]
pub(crate) struct RequirementArgs {
    /// Require this commitment scheme (`salted`, `hmac` or `plaintext`).
    #[arg(long, value_name = "SCHEME")]
    pub(crate) require_commitments: Option<String>,
    /// Require at least this PBKDF2 cost, in the policy and every anchor.
    #[arg(long, value_name = "N")]
    pub(crate) min_kdf_iterations: Option<u32>,
    /// Require this hash algorithm.
    #[arg(long, value_enum, value_name = "ALGORITHM")]
    pub(crate) require_hash: Option<Algorithm>,
    /// Require the dataset to declare this compliance framework (repeatable, e.g. HIPAA).
    #[arg(long, value_name = "NAME")]
    pub(crate) require_framework: Vec<String>,
    /// Accept plaintext commitments on a dataset with personal data (refused by default);
    /// a warning is printed instead.
    #[arg(long)]
    pub(crate) allow_plaintext_pii: bool,
}

/// Reasons for passing the policy gates of `lcm record lifecycle`.
#[derive(Debug, Args)]
pub(crate) struct OverrideArgs {
    /// Record a dataset with personal data (`contains_pii`) although the policy commits in
    /// plaintext; REASON is kept in a sealed `policy-override` record.
    #[arg(long, value_name = "REASON")]
    pub(crate) allow_plaintext_pii: Option<String>,
    /// Deploy although the pre-deployment's SBOM records a failed security and compliance
    /// check; REASON is kept in a sealed `policy-override` record.
    #[arg(long, value_name = "REASON")]
    pub(crate) allow_failed_security_scan: Option<String>,
}

/// A deployment status that `lcm record status` can record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Status {
    /// Running again after a failure.
    Deployed,
    /// The rollout failed.
    Failed,
    /// Rolled back (final).
    Rollback,
}

#[derive(Debug, Subcommand)]
pub(crate) enum BatchCommand {
    /// Seal every receipt not yet in a batch (up to --until) into a batch and its root.
    Close {
        /// The deployment whose chain is sealed (default: the store's only chain).
        #[arg(long)]
        deployment: Option<String>,
        /// The window id (default: `batch_FIRST_LAST`, with the sequence numbers).
        #[arg(long)]
        window: Option<String>,
        /// Only receipts made at or before this RFC 3339 time (any fraction, `Z` or an
        /// offset).
        #[arg(long)]
        until: Option<String>,
    },
}

#[derive(Debug, Args)]
pub(crate) struct FingerprintArgs {
    /// The hash.
    #[arg(long, value_enum, default_value = "sha256")]
    pub(crate) algorithm: Algorithm,
    /// Files or directories.
    #[arg(required = true)]
    pub(crate) paths: Vec<PathBuf>,
}
