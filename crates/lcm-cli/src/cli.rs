//! The command line, declared with clap's derive API.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod tlog;

pub(crate) use self::tlog::{LogCommand, LogVerifyArgs, VerifyTilesArgs};

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
    /// The file's text, as shipped in `examples/cli/` ([`lcm_store::lifecycle::example`]
    /// of the name the command line gives it).
    pub(crate) fn text(self) -> &'static str {
        self.to_possible_value()
            .and_then(|v| lcm_store::lifecycle::example(v.get_name()))
            .unwrap_or_default()
    }
}

/// The hash of `lcm fingerprint` and `lcm verify --require-hash`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Algorithm {
    /// SHA-256.
    Sha256,
    /// BLAKE3.
    Blake3,
}

impl From<Algorithm> for lcm_crypto::HashAlgorithm {
    fn from(a: Algorithm) -> Self {
        match a {
            Algorithm::Sha256 => Self::Sha256,
            Algorithm::Blake3 => Self::Blake3,
        }
    }
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
    /// at PATH.pub, each as 64 lowercase hex characters and a newline (with --pem: PKCS#8 and
    /// SPKI PEM, as openssl writes them); with --name, also the C2SP verifier key
    /// `NAME+hex(id)+base64(type||key)` at PATH.vkey. Prints the key id.
    Keygen(KeygenArgs),
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
    Infer(InferArgs),
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
    List(ListArgs),
    /// Print one stored record's canonical JSON.
    Show(ShowArgs),
    /// Fingerprint model files and directories.
    Fingerprint(FingerprintArgs),
    /// Run the example lifecycle into the store (dataset family with three splits, model,
    /// training with checkpoints, pre-deployment, deployment, test evaluation, receipts in
    /// batches, all roots) and write a signed header.json and a self-contained bundle.json.
    Demo(DemoArgs),
    /// Sign and write the capsule header of a lifecycle in the store.
    Header(DocumentArgs),
    /// Write the self-contained, signed bundle of a lifecycle in the store.
    Export(DocumentArgs),
    /// Write one receipt's capsule: the receipt, its inclusion proof into the header's
    /// receipts root and its chain neighbours, optionally with the openings of its query
    /// and output.
    Materialize(MaterializeArgs),
    /// Verify a header, capsule or bundle file (detected from its content).
    Verify(VerifyArgs),
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
    /// Serve the store over HTTP (`lcm serve`, see docs/SERVER.md) until SIGTERM or SIGINT,
    /// then drain: stop accepting, finish the appends in flight, exit 0.
    Serve(ServeArgs),
    /// API tokens of `lcm serve`: each scoped to one deployment, stored hashed.
    Token {
        #[command(flatten)]
        store: StoreArg,
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// The store's signing key: its rotations, signed by the old and the new key, and its
    /// keys in order (with --json, a trusted-key set for `lcm verify --trusted-keys`).
    Key {
        #[command(flatten)]
        store: StoreArg,
        #[command(subcommand)]
        command: KeyCommand,
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
    /// Print the JSON Schema of an input file (generated from the types `lcm record` parses
    /// into); without KIND, list the kinds.
    Schema {
        /// The input file kind: lifecycle, dataset, model, training, predeployment,
        /// deployment, test; also infer-line (a line of `lcm infer`) and policy.
        kind: Option<String>,
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
        let arg = match self {
            Self::Init { store, .. }
            | Self::Record { store, .. }
            | Self::Batch { store, .. }
            | Self::Check { store }
            | Self::Log { store, .. }
            | Self::Token { store, .. }
            | Self::Key { store, .. } => store,
            Self::Serve(args) => &args.store,
            Self::Infer(InferArgs { store, .. })
            | Self::List(ListArgs { store, .. })
            | Self::Show(ShowArgs { store, .. })
            | Self::Demo(DemoArgs { store, .. })
            | Self::Header(DocumentArgs { store, .. })
            | Self::Export(DocumentArgs { store, .. })
            | Self::Materialize(MaterializeArgs { store, .. })
            | Self::Verify(VerifyArgs { store, .. }) => store,
            Self::Keygen(_)
            | Self::Fingerprint(_)
            | Self::Inspect { .. }
            | Self::Witness { .. }
            | Self::Example { .. }
            | Self::Schema { .. }
            | Self::Compat { .. } => return None,
        };
        arg.store.as_deref()
    }
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
        /// The final weights: as `record model --weights` for the model and `record training
        /// --weights` for the training session.
        #[arg(long, value_name = "PATH")]
        weights: Option<PathBuf>,
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
        /// The weights (a safetensors file, a sharded model's index or a model directory):
        /// the anchor binds their parameter fingerprint's root (`parameter_fingerprint`, as
        /// `lcm fingerprint WEIGHTS` prints it), and `architecture.total_params` must be
        /// their element count (set when absent).
        #[arg(long, value_name = "PATH")]
        weights: Option<PathBuf>,
    },
    /// Stage C: start a training session, add checkpoints to an open one, complete it.
    Training {
        /// The stage file (print an example: `lcm example training`).
        file: PathBuf,
        /// The final weights (a file or a model directory): their SHA-256 digest, as the first
        /// line of `lcm fingerprint WEIGHTS`, is the session's `final_model_digest` (the file
        /// may leave it out; if it gives one, it must be that digest).
        #[arg(long, value_name = "PATH")]
        weights: Option<PathBuf>,
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
    #[arg(long, value_name = "SCHEME", value_parser = scheme)]
    pub(crate) require_commitments: Option<lcm_crypto::CommitmentScheme>,
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

/// `--require-commitments`' value ([`lcm_capsule::required_scheme`]).
fn scheme(s: &str) -> Result<lcm_crypto::CommitmentScheme, &'static str> {
    lcm_capsule::required_scheme(s).ok_or("expected salted, hmac or plaintext")
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

impl From<Status> for lcm_model::records::deployment::DeploymentStatus {
    fn from(s: Status) -> Self {
        match s {
            Status::Deployed => Self::Deployed,
            Status::Failed => Self::Failed,
            Status::Rollback => Self::RolledBack,
        }
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum BatchCommand {
    /// Seal every receipt not yet in a batch (up to --until) into a batch and its root.
    Close(BatchCloseArgs),
}

#[derive(Debug, Args)]
#[command(subcommand_negates_reqs = true)]
pub(crate) struct FingerprintArgs {
    /// The hash.
    #[arg(long, value_enum, default_value = "sha256", global = true)]
    pub(crate) algorithm: Algorithm,
    /// Also print each file's digest and each safetensors tensor's digest (with --json: the
    /// whole manifest, which `lcm fingerprint diff` reads back).
    #[arg(long)]
    pub(crate) manifest: bool,
    /// Write the JSON manifest of the one PATH to this file.
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
    /// Files or directories (a file named `diff`: `./diff`). Symbolic links are followed
    /// inside a directory, or inside the repository of a Hugging Face cache snapshot; a bad
    /// path is reported and the others are still fingerprinted (exit 2 at the end).
    #[arg(required = true)]
    pub(crate) paths: Vec<PathBuf>,
    #[command(subcommand)]
    pub(crate) command: Option<FingerprintCommand>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum FingerprintCommand {
    /// Name the files and tensors added, removed and changed from A to B (each a file, a
    /// directory or a saved `--manifest --json` file). Exit 0 when equal, 1 when they differ,
    /// 2 on bad input.
    Diff {
        /// The first: a path or a saved manifest.
        a: PathBuf,
        /// The second: a path or a saved manifest.
        b: PathBuf,
    },
}

#[derive(Debug, Args)]
pub(crate) struct KeygenArgs {
    /// Where to write the private key.
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Overwrite existing key files.
    #[arg(long)]
    pub(crate) force: bool,
    /// Write PKCS#8 (private) and SPKI (public) PEM instead of hex: other Ed25519 tools
    /// (openssl) read them; every lcm command reads both forms.
    #[arg(long)]
    pub(crate) pem: bool,
    /// The key's C2SP name (a log's origin, or a witness's name): writes PATH.vkey.
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// With --name: the verifier key is a witness's cosignature key (type 0x04) rather
    /// than a log's note signature key (type 0x01).
    #[arg(long, requires = "name")]
    pub(crate) witness: bool,
}

#[derive(Debug, Args)]
pub(crate) struct InferArgs {
    #[command(flatten)]
    pub(crate) store: StoreArg,
    /// The model anchor, NAME@VERSION (default: the one the deployment releases; if given,
    /// it must be that one). Not with --server: the server knows it.
    #[arg(long, conflicts_with = "server")]
    pub(crate) model: Option<String>,
    /// Send the lines to `lcm serve` at this URL (`http://HOST:PORT`) instead of a store;
    /// the token is read from `LCM_TOKEN`. Each batch is acknowledged only after the server
    /// acknowledged it (durable), and retried with the same batch key.
    #[arg(long, value_name = "URL")]
    pub(crate) server: Option<String>,
    /// With an https:// --server: trust only the CA certificates in this PEM file.
    #[arg(long, value_name = "PEM", requires = "server")]
    pub(crate) ca_file: Option<PathBuf>,
    /// The deployment id as recorded.
    #[arg(long)]
    pub(crate) deployment: String,
    /// The most receipts committed in one transaction.
    #[arg(long, default_value_t = 16384, value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) batch_size: u32,
    /// Accept a request id that the deployment's chain already holds (or that the input
    /// repeats); by default it is refused.
    #[arg(long)]
    pub(crate) allow_repeated_request_id: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    #[command(flatten)]
    pub(crate) store: StoreArg,
    /// Only this record kind, for example `model-anchor`; `receipts` lists receipts.
    pub(crate) kind: Option<String>,
    /// The deployment whose receipts are listed (default: the store's only chain).
    #[arg(long)]
    pub(crate) deployment: Option<String>,
    /// Only receipts made at or after this RFC 3339 time (any fraction, `Z` or an offset).
    #[arg(long, value_name = "RFC3339")]
    pub(crate) since: Option<String>,
    /// Only receipts made at or before this RFC 3339 time.
    #[arg(long, value_name = "RFC3339")]
    pub(crate) until: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct ShowArgs {
    #[command(flatten)]
    pub(crate) store: StoreArg,
    /// The record kind (`inference-receipt` for receipts).
    pub(crate) kind: String,
    /// The record id (for a receipt: its receipt id or its request id).
    pub(crate) id: String,
    /// The deployment whose chain holds the receipt (default: the store's only chain).
    #[arg(long)]
    pub(crate) deployment: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    #[command(flatten)]
    pub(crate) store: StoreArg,
    /// How many inference receipts to append.
    #[arg(long, default_value_t = 1000)]
    pub(crate) receipts: u64,
    /// Where to write the key, header.json and bundle.json.
    #[arg(long, default_value = "lcm-demo")]
    pub(crate) out: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct DocumentArgs {
    #[command(flatten)]
    pub(crate) store: StoreArg,
    /// The private key (from `lcm keygen`).
    #[arg(long)]
    pub(crate) key: PathBuf,
    /// Where to write it (default: standard output).
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
    /// The deployment whose lifecycle is meant (default: the store's only one).
    #[arg(long)]
    pub(crate) deployment: Option<String>,
    /// The origin of the receipt log's checkpoints, signed into the header as `log_origin`
    /// (chosen as `lcm log checkpoint` chooses it: this, else the name in the key's `.vkey`,
    /// else `lcm.local/DEPLOYMENT`).
    #[arg(long, value_name = "ORIGIN")]
    pub(crate) name: Option<String>,
    /// Export only the receipts from this sequence number (from 0) with their proofs into a
    /// new signed checkpoint of the log and the lifecycle records naming the deployment
    /// (`lcm export` only; with --to-seq, inclusive; see docs/CLI.md, range documents).
    #[arg(long, requires = "to_seq", value_name = "A")]
    pub(crate) from_seq: Option<u64>,
    /// The last sequence number of the range (inclusive).
    #[arg(long, requires = "from_seq", value_name = "B")]
    pub(crate) to_seq: Option<u64>,
    /// Export a time range instead (`lcm export` only): the smallest span of the chain holding
    /// every receipt made at or after this RFC 3339 time (and at or before --until); it may
    /// hold receipts made outside the window (`lcm verify` counts those inside).
    #[arg(long, value_name = "RFC3339", conflicts_with_all = ["from_seq", "to_seq"])]
    pub(crate) since: Option<String>,
    /// The end of the time range (inclusive; see --since).
    #[arg(long, value_name = "RFC3339", conflicts_with_all = ["from_seq", "to_seq"])]
    pub(crate) until: Option<String>,
    /// Write the JSON on one line, not indented (a bundle: about 0.6 of the bytes).
    #[arg(long, conflicts_with_all = ["from_seq", "since", "until"])]
    pub(crate) compact: bool,
}

#[derive(Debug, Args)]
pub(crate) struct MaterializeArgs {
    #[command(flatten)]
    pub(crate) store: StoreArg,
    /// The receipt id.
    pub(crate) receipt_id: String,
    /// The header the capsule proves into (from `lcm header`).
    #[arg(long)]
    pub(crate) header: PathBuf,
    /// Disclose the query: it must be the committed one.
    #[arg(long)]
    pub(crate) query: Option<String>,
    /// Disclose the query held in a file (`-`: standard input) as one JSON value, as in a
    /// line of `lcm infer` (a string in quotes, or any value: its canonical JSON).
    #[arg(long, value_name = "PATH", conflicts_with = "query")]
    pub(crate) query_file: Option<PathBuf>,
    /// Disclose the output: it must be the committed one.
    #[arg(long)]
    pub(crate) output: Option<String>,
    /// Disclose the output held in a file, as --query-file.
    #[arg(long, value_name = "PATH", conflicts_with = "output")]
    pub(crate) output_file: Option<PathBuf>,
    /// Where to write it (default: standard output).
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
    /// The deployment whose chain holds the receipt (default: the header's).
    #[arg(long)]
    pub(crate) deployment: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    #[command(flatten)]
    pub(crate) store: StoreArg,
    /// The file.
    pub(crate) file: PathBuf,
    /// A trusted public key file (hex, SPKI PEM or a C2SP verifier key); repeatable: the
    /// document must be signed by one of them (default: the path in `LCM_PUBLIC_KEY`).
    #[arg(long, env = "LCM_PUBLIC_KEY")]
    pub(crate) key: Vec<PathBuf>,
    /// A file of trusted public keys, one a line (hex, PEM blocks or C2SP verifier keys;
    /// `#` comments); repeatable, with --key or without.
    #[arg(long, value_name = "FILE")]
    pub(crate) trusted_keys: Vec<PathBuf>,
    /// For a capsule: the header it proves into. For a header: an older header of the
    /// same receipt chain that it must extend (exit 1 for a fork or a rollback).
    #[arg(long)]
    pub(crate) header: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) requirements: RequirementArgs,
    /// For a header with --header: the consistency proof from the older header's receipt
    /// count (`lcm log prove`; default: computed from the store's log).
    #[arg(long, requires = "header")]
    pub(crate) proof: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct BatchCloseArgs {
    /// The deployment whose chain is sealed (default: the store's only chain).
    #[arg(long)]
    pub(crate) deployment: Option<String>,
    /// The window id (default: `batch_FIRST_LAST`, with the sequence numbers).
    #[arg(long)]
    pub(crate) window: Option<String>,
    /// Only receipts made at or before this RFC 3339 time (any fraction, `Z` or an
    /// offset).
    #[arg(long)]
    pub(crate) until: Option<String>,
}

/// `lcm serve`'s arguments.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    pub(crate) store: StoreArg,
    /// The address to listen on, HOST:PORT (port 0: any free port, printed on stderr).
    #[arg(long, value_name = "HOST:PORT")]
    pub(crate) listen: String,
    /// The log key file (from `lcm keygen --name`) that signs the checkpoints served.
    #[arg(long, value_name = "KEYFILE")]
    pub(crate) log_key: Option<PathBuf>,
    /// The log's origin in its checkpoints (default: the key's name).
    #[arg(long, requires = "log_key")]
    pub(crate) origin: Option<String>,
    /// Serve the log's public data (checkpoint, proofs, tiles, receipts) without a token.
    #[arg(long)]
    pub(crate) public_reads: bool,
    /// The most batches waiting for the writer; past it, 429 with Retry-After.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) queue_depth: u32,
    /// The largest request body, in bytes.
    #[arg(long, default_value_t = 8 << 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) max_body: u32,
    /// The longest a request may take, in seconds; past it, 503 with Retry-After.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) request_timeout: u32,
    /// The most connections held open at once.
    #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) max_connections: u32,
    /// Serve HTTPS with this certificate chain (PEM; rustls).
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    pub(crate) tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub(crate) tls_key: Option<PathBuf>,
}

/// `lcm token`'s subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum TokenCommand {
    /// Create a token for one deployment; prints the token (shown once) on stdout.
    Create {
        /// The deployment whose chain the token may append to.
        #[arg(long)]
        deployment: String,
        /// A name for the client the token is given to.
        #[arg(long, default_value = "")]
        name: String,
    },
    /// Revoke a token by its id (the 16 hex digits after `lcm_`, as `lcm token list` shows).
    Revoke {
        /// The token's id.
        id: String,
    },
    /// List the tokens (id, deployment, name, created, revoked), never their secrets.
    List,
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeyCommand {
    /// Retire the store's current signing key (--key, its private key file) for a new one
    /// (--new-key): a statement signed by both, appended to the store.
    Rotate {
        /// The current key's private key file (for the first rotation: the key that has
        /// signed the store's headers so far).
        #[arg(long)]
        key: PathBuf,
        /// The new key's private key file (`lcm keygen`).
        #[arg(long)]
        new_key: PathBuf,
    },
    /// The store's keys in order, with when each became current and was retired.
    List,
}
