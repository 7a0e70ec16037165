//! Conversions between Python values and JSON values, and the reading of documents given as
//! a dict or a path.

use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::{Map, Number, Value};

use crate::errors::input;

/// How deep a Python value may nest before it is refused (cycles end here too).
const MAX_DEPTH: usize = 128;

/// The JSON value of a Python value: `None`, `bool`, `int`, `float`, `str`, `list`/`tuple`
/// and `dict` with `str` keys.
pub(crate) fn to_json(obj: &Bound<'_, PyAny>, at: &str) -> PyResult<Value> {
    to_json_at(obj, at, 0)
}

/// A list's or a tuple's items as a JSON array, each named `at[i]` in errors.
fn array_at<'py>(
    items: impl Iterator<Item = Bound<'py, PyAny>>,
    at: &str,
    depth: usize,
) -> PyResult<Value> {
    items
        .enumerate()
        .map(|(i, v)| to_json_at(&v, &format!("{at}[{i}]"), depth + 1))
        .collect::<PyResult<Vec<_>>>()
        .map(Value::Array)
}

fn to_json_at(obj: &Bound<'_, PyAny>, at: &str, depth: usize) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(input(format!("{at}: nested more than {MAX_DEPTH} levels")));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::String(s.to_str()?.to_owned()));
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.cast::<PyInt>().is_ok() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Value::Number(i.into()));
        }
        if let Ok(u) = obj.extract::<u64>() {
            return Ok(Value::Number(u.into()));
        }
        return Err(input(format!("{at}: integer out of the 64-bit range")));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return Number::from_f64(f.value())
            .map(Value::Number)
            .ok_or_else(|| input(format!("{at}: {} is not a JSON number", f.value())));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = Map::new();
        for (k, v) in d.iter() {
            let key = k
                .cast::<PyString>()
                .map_err(|_| input(format!("{at}: a key that is not a str")))?
                .to_str()?
                .to_owned();
            let value = to_json_at(&v, &format!("{at}.{key}"), depth + 1)?;
            map.insert(key, value);
        }
        return Ok(Value::Object(map));
    }
    if let Ok(l) = obj.cast::<PyList>() {
        return array_at(l.iter(), at, depth);
    }
    if let Ok(t) = obj.cast::<PyTuple>() {
        return array_at(t.iter(), at, depth);
    }
    Err(input(format!(
        "{at}: a {} is not a JSON value",
        obj.get_type().name()?
    )))
}

/// The Python value of a JSON text (through the standard library's `json`).
pub(crate) fn from_json_text<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    py.import("json")?.call_method1("loads", (text,))
}

/// The text a receipt commits to for a query or output: a `str` as it is, any other JSON
/// value as its canonical JSON. `at` names the value in errors; it is formatted only when
/// the value is not a `str` (request conversion calls this for every request).
pub(crate) fn committed_text(
    obj: &Bound<'_, PyAny>,
    at: &dyn std::fmt::Display,
) -> PyResult<String> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(s.to_str()?.to_owned());
    }
    let at = at.to_string();
    lcm_store::pipeline::committed_text(to_json(obj, &at)?).map_err(|e| input(format!("{at}: {e}")))
}

/// Reads a file, naming it in the error.
pub(crate) fn read_file(path: &std::path::Path) -> PyResult<Vec<u8>> {
    std::fs::read(path).map_err(|e| input(format!("{}: {e}", path.display())))
}

/// A document given as a dict (or list) or as a path to a JSON file, parsed as `T`.
pub(crate) fn document<T: serde::de::DeserializeOwned>(
    doc: &Bound<'_, PyAny>,
    what: &str,
) -> PyResult<T> {
    if doc.cast::<PyDict>().is_ok() {
        let value = to_json(doc, what)?;
        return serde_json::from_value(value).map_err(|e| input(format!("{what}: {e}")));
    }
    let path: PathBuf = doc
        .extract()
        .map_err(|_| input(format!("{what}: expected a dict or a path")))?;
    let bytes = read_file(&path)?;
    serde_json::from_slice(&bytes).map_err(|e| input(format!("{}: {e}", path.display())))
}

/// A stage document (`lcm record STAGE`'s file format: the fields of its section of a
/// lifecycle file and an optional `_comment`), given as a dict or as a path.
pub(crate) fn stage_document<T: serde::de::DeserializeOwned>(
    doc: &Bound<'_, PyAny>,
    stage: &'static str,
) -> PyResult<T> {
    let (bytes, name) = if doc.cast::<PyDict>().is_ok() {
        let value = to_json(doc, stage)?;
        let bytes = serde_json::to_vec(&value).map_err(|e| input(format!("{stage}: {e}")))?;
        (bytes, stage.to_owned())
    } else {
        let path: PathBuf = doc
            .extract()
            .map_err(|_| input(format!("{stage}: expected a dict or a path")))?;
        (read_file(&path)?, path.display().to_string())
    };
    lcm_store::lifecycle::parse_stage(stage, &bytes).map_err(|e| input(format!("{name}: {e}")))
}

/// The bytes of a document given as `bytes` or `str`.
pub(crate) fn text_of(data: &Bound<'_, PyAny>, what: &str) -> PyResult<String> {
    if let Ok(s) = data.cast::<PyString>() {
        return Ok(s.to_str()?.to_owned());
    }
    let bytes: Vec<u8> = data
        .extract()
        .map_err(|_| input(format!("{what}: expected bytes or str")))?;
    String::from_utf8(bytes).map_err(|_| input(format!("{what}: not UTF-8 text")))
}
