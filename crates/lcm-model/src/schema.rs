//! JSON Schemas (`schemars`) of the values input files hold in a notation of their own: a
//! digest as input files may write it ([`InputDigest`]) or only bare ([`HexDigest`]), a
//! timestamp (any RFC 3339), a split name, and a policy's hash algorithm and commitment scheme
//! names ([`PolicyHash`], [`PolicyCommitments`]). Behind the `schema` feature; `lcm schema`
//! prints the schemas these make.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

use crate::records::DatasetSplit;
use crate::{Finite, Timestamp};

/// `impl JsonSchema for $ty` with a fixed schema named `$name`.
/// With `struct`, also declares `$ty` as a unit type (for `#[schemars(with = "…")]`).
macro_rules! fixed_schema {
    ($(#[$doc:meta])* struct $ty:ident, $name:literal, $schema:tt) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $ty;

        fixed_schema!($ty, $name, $schema);
    };
    ($ty:ty, $name:literal, $schema:tt) => {
        impl JsonSchema for $ty {
            fn schema_name() -> Cow<'static, str> {
                $name.into()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!($schema)
            }
        }
    };
}

fixed_schema!(
    /// The schema of a digest in an input file: 64 lowercase hex characters, alone or after
    /// `sha256:` or `blake3:` (`lcm_crypto::Digest::parse_input`). Use it with
    /// `#[schemars(with = "InputDigest")]` on a `Digest` field.
    struct InputDigest, "Digest", {
        "type": "string",
        "pattern": "^((sha256|blake3):)?[0-9a-f]{64}$",
        "description": "A digest: 64 lowercase hex characters, alone or after \"sha256:\" or \"blake3:\"."
    }
);

fixed_schema!(
    /// The schema of a digest where only the bare notation is read (an inference line's
    /// `explanation_digests`): 64 lowercase hex characters.
    struct HexDigest, "HexDigest", {
        "type": "string",
        "pattern": "^[0-9a-f]{64}$",
        "description": "A digest: 64 lowercase hex characters."
    }
);

fixed_schema!(
    /// The schema of a policy's `hash_algorithm`: the wire names a policy file accepts.
    struct PolicyHash, "HashAlgorithm", {
        "type": "string",
        "enum": ["SHA-256", "BLAKE3"],
        "description": "The hash function of every digest and tree."
    }
);

fixed_schema!(
    /// The schema of a policy's `commitments`: the wire names a policy file accepts.
    struct PolicyCommitments, "CommitmentScheme", {
        "type": "string",
        "enum": ["salted", "HMAC-SHA256", "plaintext"],
        "description": "How private values (queries, outputs, dataset contents) are committed."
    }
);

fixed_schema!(Timestamp, "Timestamp", {
    "type": "string",
    "format": "date-time",
    "description": "An RFC 3339 timestamp: any fraction of 0 to 9 digits, \"Z\" or an offset (kept to the microsecond, in UTC)."
});

fixed_schema!(DatasetSplit, "DatasetSplit", {
    "type": "string",
    "enum": ["train", "val", "test"],
    "description": "A dataset split."
});

fixed_schema!(Finite, "Finite", {
    "type": "number",
    "description": "A finite number, exactly representable as a 64-bit float."
});
