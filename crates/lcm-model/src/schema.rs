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

/// Implements [`JsonSchema`] for `$ty` as the fixed schema `$schema`, named `$name`: these
/// types have no structure for `schemars` to derive, only a notation.
macro_rules! fixed_schema {
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

fixed_schema!(InputDigest, "Digest", {
    "type": "string",
    "pattern": "^((sha256|blake3):)?[0-9a-f]{64}$",
    "description": "A digest: 64 lowercase hex characters, alone or after \"sha256:\" or \"blake3:\"."
});

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
