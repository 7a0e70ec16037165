//! JSON Schemas (`schemars`) of the values input files hold in a notation of their own: a
//! digest as input files may write it ([`InputDigest`]), a timestamp (any RFC 3339) and a split
//! name. Behind the `schema` feature; `lcm schema` prints the schemas these make.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

use crate::records::DatasetSplit;
use crate::{Finite, Timestamp};

/// The schema of a digest in an input file: 64 lowercase hex characters, alone or after
/// `sha256:` or `blake3:` (`lcm_crypto::Digest::parse_input`). Use it with
/// `#[schemars(with = "InputDigest")]` on a `Digest` field.
#[derive(Debug)]
pub struct InputDigest;

impl JsonSchema for InputDigest {
    fn schema_name() -> Cow<'static, str> {
        "Digest".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": "^((sha256|blake3):)?[0-9a-f]{64}$",
            "description": "A digest: 64 lowercase hex characters, alone or after \"sha256:\" or \"blake3:\"."
        })
    }
}

/// The schema of a digest where only the bare notation is read (an inference line's
/// `explanation_digests`): 64 lowercase hex characters.
#[derive(Debug)]
pub struct HexDigest;

impl JsonSchema for HexDigest {
    fn schema_name() -> Cow<'static, str> {
        "HexDigest".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": "^[0-9a-f]{64}$",
            "description": "A digest: 64 lowercase hex characters."
        })
    }
}

/// The schema of a policy's `hash_algorithm`: the wire names a policy file accepts.
#[derive(Debug)]
pub struct PolicyHash;

impl JsonSchema for PolicyHash {
    fn schema_name() -> Cow<'static, str> {
        "HashAlgorithm".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "enum": ["SHA-256", "BLAKE3"],
            "description": "The hash function of every digest and tree."
        })
    }
}

/// The schema of a policy's `commitments`: the wire names a policy file accepts.
#[derive(Debug)]
pub struct PolicyCommitments;

impl JsonSchema for PolicyCommitments {
    fn schema_name() -> Cow<'static, str> {
        "CommitmentScheme".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "enum": ["salted", "HMAC-SHA256", "plaintext"],
            "description": "How private values (queries, outputs, dataset contents) are committed."
        })
    }
}

impl JsonSchema for Timestamp {
    fn schema_name() -> Cow<'static, str> {
        "Timestamp".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "format": "date-time",
            "description": "An RFC 3339 timestamp: any fraction of 0 to 9 digits, \"Z\" or an offset (kept to the microsecond, in UTC)."
        })
    }
}

impl JsonSchema for DatasetSplit {
    fn schema_name() -> Cow<'static, str> {
        "DatasetSplit".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "enum": ["train", "val", "test"],
            "description": "A dataset split."
        })
    }
}

impl JsonSchema for Finite {
    fn schema_name() -> Cow<'static, str> {
        "Finite".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "number",
            "description": "A finite number, exactly representable as a 64-bit float."
        })
    }
}
