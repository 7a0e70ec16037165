//! The text a receipt commits to for a query or output: a request line's JSON value, or a
//! disclosed value read from a file.

use std::io::Read as _;

use lcm_model::strict;
use serde::Deserialize as _;
use serde_json::Value;

use crate::Error;

/// The text a receipt commits to for a query or output given as a JSON value: a string as it
/// is (so a string query commits exactly as before), any other value (an object, an array, a
/// number, `true`, `false`, `null`) as its canonical JSON ([`lcm_model::canonical`]), so that
/// two spellings of one value (key order, whitespace, `1.0` and `1`) commit alike.
///
/// # Errors
///
/// [`lcm_model::Error`] for a value canonical JSON cannot hold (a non-finite number).
///
/// # Example
///
/// ```
/// use lcm_store::pipeline::committed_text;
/// use serde_json::json;
/// assert_eq!(committed_text(json!("a b"))?, "a b");
/// assert_eq!(committed_text(json!({"b": [1.0, 2], "a": null}))?, r#"{"a":null,"b":[1,2]}"#);
/// # Ok::<(), lcm_model::Error>(())
/// ```
pub fn committed_text(value: Value) -> Result<String, lcm_model::Error> {
    match value {
        Value::String(s) => Ok(s),
        other => lcm_model::canonical::to_string(&other),
    }
}

/// [`committed_text`] of one JSON value held in a file (a disclosed query or output, read
/// with the strict input of `lcm infer`'s lines: no key twice, exact numbers).
///
/// # Errors
///
/// [`Error::Stage`] (stage `disclosure`) saying why `text` is not one JSON value that
/// strict input and canonical JSON accept.
pub fn committed_json(text: &[u8]) -> Result<String, Error> {
    let refused = |message: String| Error::Stage {
        stage: "disclosure",
        message: format!(
            "expected one JSON value (a string in quotes, or any other JSON value, as a \
             query or output in a line of `lcm infer`): {message}"
        ),
    };
    let value: Value = serde_json::from_slice(text).map_err(|e| refused(e.to_string()))?;
    // A value that parsed is UTF-8 text.
    let text = std::str::from_utf8(text).map_err(|e| refused(e.to_string()))?;
    strict::check_json(text).map_err(|e| refused(e.to_string()))?;
    committed_text(value).map_err(|e| refused(e.to_string()))
}

/// A disclosed query or output (`lcm materialize`): `text` as given, else [`committed_json`]
/// of the file at `file` (`-`: standard input); `flag` names the file's option in errors.
///
/// # Errors
///
/// [`Error::Stage`] (stage `flag`) naming the file that cannot be read or holds no JSON value.
pub fn disclosed(
    text: Option<&str>,
    file: Option<&std::path::Path>,
    flag: &'static str,
) -> Result<Option<String>, Error> {
    let Some(path) = file else {
        return Ok(text.map(str::to_owned));
    };
    let failed = |message: String| Error::Stage {
        stage: flag,
        message: format!("{}: {message}", path.display()),
    };
    let bytes = if path == std::path::Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map(|_| bytes)
            .map_err(|e| failed(e.to_string()))?
    } else {
        std::fs::read(path).map_err(|e| failed(e.to_string()))?
    };
    committed_json(&bytes)
        .map(Some)
        .map_err(|e| failed(e.to_string()))
}

/// [`committed_text`] of a request line's field.
pub(super) fn committed_value<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    committed_text(Value::deserialize(d)?).map_err(serde::de::Error::custom)
}
