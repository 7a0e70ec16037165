//! The JSON Schemas of the input files (`lcm schema KIND`), generated from the types the files
//! are parsed into, so that a schema cannot drift from what `lcm record` accepts.

use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{Value, json};

use super::input::{
    DatasetInput, DeploymentInput, LifecycleInput, ModelInput, PreDeploymentInput,
    TestEvaluationInput, TrainingInput,
};

/// Every input file kind with a schema, and the command that reads it.
pub const SCHEMA_KINDS: &[(&str, &str)] = &[
    ("lifecycle", "lcm record lifecycle"),
    ("dataset", "lcm record dataset"),
    ("model", "lcm record model"),
    ("training", "lcm record training"),
    ("predeployment", "lcm record predeployment"),
    ("deployment", "lcm record deployment"),
    ("test", "lcm record test"),
];

/// The other inputs with a schema (not listed by `lcm schema`, which lists the files of
/// `lcm record`), and what reads them: a line of `lcm infer`'s standard input (also the
/// body lines of `lcm serve`'s append) and the policy file of `lcm init --policy`.
pub const OTHER_SCHEMA_KINDS: &[(&str, &str)] = &[
    ("infer-line", "a line of lcm infer's standard input"),
    ("policy", "lcm init --policy FILE"),
];

/// The example input files shipped in `examples/cli/`, by name: built into the library, so
/// that an installed `lcm example NAME` prints them too.
pub const EXAMPLE_FILES: &[(&str, &str)] = &[
    ("lifecycle", super::EXAMPLE),
    (
        "dataset",
        include_str!("../../../../examples/cli/stages/dataset.json"),
    ),
    (
        "model",
        include_str!("../../../../examples/cli/stages/model.json"),
    ),
    (
        "training",
        include_str!("../../../../examples/cli/stages/training.json"),
    ),
    (
        "training-complete",
        include_str!("../../../../examples/cli/stages/training-complete.json"),
    ),
    (
        "predeployment",
        include_str!("../../../../examples/cli/stages/predeployment.json"),
    ),
    (
        "deployment",
        include_str!("../../../../examples/cli/stages/deployment.json"),
    ),
    (
        "test",
        include_str!("../../../../examples/cli/stages/test.json"),
    ),
    (
        "inferences",
        include_str!("../../../../examples/cli/inferences.jsonl"),
    ),
];

/// The example file named `name` ([`EXAMPLE_FILES`]), if there is one.
///
/// ```
/// let stage = lcm_store::lifecycle::example("dataset").unwrap();
/// lcm_store::lifecycle::parse_stage::<lcm_store::lifecycle::DatasetInput>("dataset", stage.as_bytes())?;
/// assert!(lcm_store::lifecycle::example("nothing").is_none());
/// # Ok::<(), lcm_store::Error>(())
/// ```
#[must_use]
pub fn example(name: &str) -> Option<&'static str> {
    EXAMPLE_FILES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}

/// A kind [`schema_of`] has no schema for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown input file kind {kind:?}; expected one of {}",
    SCHEMA_KINDS.iter().chain(OTHER_SCHEMA_KINDS).map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
)]
pub struct UnknownSchemaKind {
    /// The kind given.
    pub kind: String,
}

/// [`schema`], or the error naming the kinds there are.
///
/// ```
/// use lcm_store::lifecycle::schema_of;
///
/// assert!(schema_of("model").is_ok());
/// let e = schema_of("modle").unwrap_err();
/// assert!(e.to_string().starts_with(r#"unknown input file kind "modle"; expected one of lifecycle, dataset"#));
/// ```
///
/// # Errors
///
/// [`UnknownSchemaKind`] for a kind that is not one of [`SCHEMA_KINDS`] or
/// [`OTHER_SCHEMA_KINDS`].
pub fn schema_of(kind: &str) -> Result<Value, UnknownSchemaKind> {
    schema(kind).ok_or_else(|| UnknownSchemaKind {
        kind: kind.to_owned(),
    })
}

/// The lines `lcm schema` prints without a kind: each kind and the command that reads it,
/// tab-separated, or with `json` as JSON objects.
///
/// ```
/// let lines = lcm_store::lifecycle::schema_listing(false);
/// assert_eq!(lines[0], "lifecycle\tlcm record lifecycle FILE");
/// let json = lcm_store::lifecycle::schema_listing(true);
/// assert_eq!(json[1], r#"{"command":"lcm record dataset","kind":"dataset"}"#);
/// assert_eq!(lines.len(), lcm_store::lifecycle::SCHEMA_KINDS.len());
/// ```
#[must_use]
pub fn schema_listing(json: bool) -> Vec<String> {
    SCHEMA_KINDS
        .iter()
        .map(|(kind, command)| {
            if json {
                json!({"kind": kind, "command": command}).to_string()
            } else {
                format!("{kind}\t{command} FILE")
            }
        })
        .collect()
}

/// The JSON Schema (draft 2020-12) of the input file `kind` (one of [`SCHEMA_KINDS`] or
/// [`OTHER_SCHEMA_KINDS`]), or `None` for another kind. A stage file's schema allows a `_comment`, as the parser does.
///
/// # Examples
///
/// ```
/// let schema = lcm_store::lifecycle::schema("training").expect("a kind");
/// assert_eq!(schema["properties"]["final_model_digest"]["anyOf"][0]["$ref"], "#/$defs/Digest");
/// assert!(lcm_store::lifecycle::schema("nothing").is_none());
/// ```
pub fn schema(kind: &str) -> Option<Value> {
    let (schema, stage) = match kind {
        "lifecycle" => (of::<LifecycleInput>(), false),
        "dataset" => (of::<DatasetInput>(), true),
        "model" => (of::<ModelInput>(), true),
        "training" => (of::<TrainingInput>(), true),
        "predeployment" => (of::<PreDeploymentInput>(), true),
        "deployment" => (of::<DeploymentInput>(), true),
        "test" => (of::<TestEvaluationInput>(), true),
        "infer-line" => (of::<crate::pipeline::RequestLine>(), false),
        "policy" => (of::<lcm_model::Policy>(), false),
        _ => return None,
    };
    let title = match SCHEMA_KINDS.iter().find(|(k, _)| *k == kind) {
        Some((_, command)) => format!("{command} FILE"),
        None => (OTHER_SCHEMA_KINDS.iter().find(|(k, _)| *k == kind))
            .map_or_else(String::new, |(_, what)| (*what).to_owned()),
    };
    let mut schema = schema;
    if let Some(obj) = schema.as_object_mut() {
        obj.insert("title".into(), title.into());
        if stage && let Some(Value::Object(props)) = obj.get_mut("properties") {
            props.insert(
                "_comment".into(),
                json!({"description": "A free comment, ignored."}),
            );
        }
    }
    Some(schema)
}

fn of<T: JsonSchema>() -> Value {
    let mut v = SchemaGenerator::default()
        .into_root_schema_for::<T>()
        .to_value();
    trim_descriptions(&mut v);
    v
}

/// Descriptions come from the types' doc comments: their examples and sections (`# ...`)
/// are for Rust readers, not for someone writing an input file.
fn trim_descriptions(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if key == "description"
                    && let Value::String(text) = child
                    && let Some(at) = text.find("\n\n#")
                {
                    text.truncate(at);
                } else {
                    trim_descriptions(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(trim_descriptions),
        _ => {}
    }
}
