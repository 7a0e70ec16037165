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
