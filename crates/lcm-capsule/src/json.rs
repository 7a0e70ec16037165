//! Strict JSON parsing that names the JSON pointer of the value a parse error is about, and
//! the plain JSON forms of the documents.
//!
//! serde reports where an error is only as a line and a column. To name the value instead,
//! a document that fails to parse is written again with one scalar per line (each line
//! remembering the JSON pointer it holds) and parsed from that form: the line of the error is
//! then the line of the offending value, or of the object it is missing from.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::Error;

/// Parses `input` into `T`, rejecting unknown fields (the types say `deny_unknown_fields`),
/// duplicate keys and trailing data. On failure the error names the JSON pointer of the
/// offending value.
pub(crate) fn parse_strict<T: DeserializeOwned>(input: &str) -> Result<T, Error> {
    let direct = match serde_json::from_str::<T>(input) {
        Ok(v) => return Ok(v),
        Err(e) => e,
    };
    let Ok(value) = serde_json::from_str::<Value>(input) else {
        return Err(Error::Parse {
            path: String::new(),
            message: direct.to_string(),
        });
    };
    Err(locate::<T>(&value).unwrap_or_else(|| Error::Parse {
        path: String::new(),
        message: direct.to_string(),
    }))
}

/// The located error of parsing `value` as `T`, or `None` when it parses.
fn locate<T: DeserializeOwned>(value: &Value) -> Option<Error> {
    let mut lines = Lines::default();
    lines.value(None, value, "", false);
    match serde_json::from_str::<T>(&lines.text) {
        Ok(_) => None,
        Err(e) => {
            let path = e
                .line()
                .checked_sub(1)
                .and_then(|i| lines.paths.get(i))
                .cloned()
                .unwrap_or_default();
            // The message without serde's " at line L column C" suffix, which refers to the
            // rewritten form, not to the caller's text.
            let text = e.to_string();
            let message = text
                .rfind(" at line ")
                .map_or(text.as_str(), |i| &text[..i])
                .to_owned();
            Some(Error::Parse { path, message })
        }
    }
}

/// A JSON document written with one scalar per line, and the pointer of every line.
#[derive(Default)]
struct Lines {
    text: String,
    paths: Vec<String>,
}

impl Lines {
    fn line(&mut self, path: &str, content: &str) {
        self.text.push_str(content);
        self.text.push('\n');
        self.paths.push(path.to_owned());
    }

    fn value(&mut self, key: Option<&str>, v: &Value, path: &str, comma: bool) {
        let key = key.map(|k| format!("{}:", quote(k))).unwrap_or_default();
        let comma = if comma { "," } else { "" };
        match v {
            Value::Object(map) if !map.is_empty() => {
                self.line(path, &format!("{key}{{"));
                let last = map.len().saturating_sub(1);
                for (i, (k, child)) in map.iter().enumerate() {
                    let child_path = format!("{path}/{}", escape_token(k));
                    self.value(Some(k), child, &child_path, i != last);
                }
                self.line(path, &format!("}}{comma}"));
            }
            Value::Array(items) if !items.is_empty() => {
                self.line(path, &format!("{key}["));
                let last = items.len().saturating_sub(1);
                for (i, child) in items.iter().enumerate() {
                    self.value(None, child, &format!("{path}/{i}"), i != last);
                }
                self.line(path, &format!("]{comma}"));
            }
            scalar => {
                let text = serde_json::to_string(scalar).unwrap_or_else(|_| "null".to_owned());
                self.line(path, &format!("{key}{text}{comma}"));
            }
        }
    }
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}

/// One reference token of a JSON pointer (RFC 6901: `~` as `~0`, `/` as `~1`).
pub(crate) fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// `value` as JSON: compact when `indent` is `None`, otherwise pretty with `indent` spaces.
pub(crate) fn to_json<T: Serialize>(value: &T, indent: Option<usize>) -> Result<String, Error> {
    let json = match indent {
        None => serde_json::to_vec(value),
        Some(n) => {
            let pad = " ".repeat(n);
            let fmt = serde_json::ser::PrettyFormatter::with_indent(pad.as_bytes());
            let mut out = Vec::new();
            let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
            value.serialize(&mut ser).map(|()| out)
        }
    }
    .map_err(lcm_model::Error::Json)?;
    String::from_utf8(json).map_err(|_| lcm_model::Error::Unreachable("json").into())
}

#[cfg(test)]
mod tests;
