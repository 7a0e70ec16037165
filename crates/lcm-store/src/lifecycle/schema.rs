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

/// The JSON Schema (draft 2020-12) of the input file `kind` (one of [`SCHEMA_KINDS`]), or
/// `None` for another kind. A stage file's schema allows a `_comment`, as the parser does.
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
        _ => return None,
    };
    let command = SCHEMA_KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or("lcm record", |(_, c)| *c);
    let mut schema = schema;
    if let Some(obj) = schema.as_object_mut() {
        obj.insert("title".into(), format!("{command} FILE").into());
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
