//! Reading the input files of `lcm record`: a lifecycle file or one stage's file, parsed
//! strictly ([`parse_lifecycle`], [`parse_stage`]) and, with `--weights`, bound to the
//! fingerprint of the weights ([`model_weights`], [`final_weights`]).

use std::path::{Path, PathBuf};

use super::{LifecycleInput, Stage, final_weights, model_weights, parse_lifecycle, parse_stage};
use crate::files::{FileError, io_err};
use crate::fingerprint::Manifest;

/// Why an input file could not be read into a stage.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The file could not be read.
    #[error(transparent)]
    File(#[from] FileError),
    /// The weights could not be fingerprinted.
    #[error(transparent)]
    Weights(#[from] crate::fingerprint::Error),
    /// The file is not a valid input, or contradicts its weights: the error names the file.
    #[error("{}: {source}", .path.display())]
    Input {
        /// The file.
        path: PathBuf,
        /// What is wrong ([`crate::Error::Stage`]).
        source: crate::Error,
    },
}

/// The stages `lcm record STAGE FILE` reads from a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StageKind {
    /// Stage A ([`Stage::Dataset`]): needs the dataset family's master password.
    Dataset,
    /// Stage B ([`Stage::Model`]): needs the model's master password; takes weights.
    Model,
    /// Stage C ([`Stage::Training`]): takes the final weights.
    Training,
    /// Stage D ([`Stage::Predeployment`]).
    Predeployment,
    /// Stage E ([`Stage::Deployment`]).
    Deployment,
    /// Stage F ([`Stage::Test`]).
    Test,
}

/// The error `e` of the input file `path`.
fn at(path: &Path) -> impl Fn(crate::Error) -> ReadError + '_ {
    move |source| ReadError::Input {
        path: path.to_path_buf(),
        source,
    }
}

/// Reads a lifecycle file; with `weights`, binds their fingerprint into its model
/// ([`model_weights`]) and training session ([`final_weights`]).
///
/// # Errors
///
/// [`ReadError::File`] when the file cannot be read, [`ReadError::Weights`] when the weights
/// cannot be fingerprinted, [`ReadError::Input`] when the file is not a lifecycle or
/// contradicts the weights.
pub fn read_lifecycle(file: &Path, weights: Option<&Path>) -> Result<LifecycleInput, ReadError> {
    let text = std::fs::read(file).map_err(io_err(file))?;
    let mut input = parse_lifecycle(&text).map_err(at(file))?;
    if let Some(weights) = weights {
        let manifest = Manifest::of_weights(weights)?;
        model_weights(&mut input.model, &manifest).map_err(at(file))?;
        final_weights(&mut input.training, &manifest).map_err(at(file))?;
    }
    Ok(input)
}

/// Reads the file of one stage of kind `kind`. `weights` (for [`StageKind::Model`] and
/// [`StageKind::Training`], ignored otherwise) are fingerprinted and bound into the stage as
/// [`read_lifecycle`] binds them. A dataset or model stage then asks `password` for its master
/// password, after the file is read and checked.
///
/// # Errors
///
/// As [`read_lifecycle`] (converted into `E`), and `password`'s error.
///
/// # Example
///
/// ```
/// use lcm_store::lifecycle::{Stage, StageKind, read_stage};
///
/// let path = std::env::temp_dir().join(format!("lcm-read-doc-{}.json", std::process::id()));
/// std::fs::write(&path, r#"{"deployment_id": "d"}"#).unwrap();
/// let read = read_stage(StageKind::Deployment, &path, None, |_| {
///     Ok::<_, lcm_store::lifecycle::ReadError>(String::new())
/// });
/// // Not a complete deployment: the error names the file.
/// let error = read.unwrap_err().to_string();
/// assert!(error.starts_with(&format!("{}: deployment: ", path.display())), "{error}");
/// std::fs::remove_file(&path).unwrap();
/// ```
pub fn read_stage<E: From<ReadError>>(
    kind: StageKind,
    file: &Path,
    weights: Option<&Path>,
    password: impl FnOnce(StageKind) -> Result<String, E>,
) -> Result<Stage, E> {
    fn parse<T: serde::de::DeserializeOwned>(
        stage: &'static str,
        file: &Path,
    ) -> Result<T, ReadError> {
        let text = std::fs::read(file).map_err(io_err(file))?;
        parse_stage(stage, &text).map_err(at(file))
    }
    let manifest = |weights: Option<&Path>| weights.map(Manifest::of_weights).transpose();
    Ok(match kind {
        StageKind::Dataset => Stage::Dataset(parse("dataset", file)?, password(kind)?),
        StageKind::Model => {
            let mut model = parse("model", file)?;
            if let Some(m) = manifest(weights).map_err(ReadError::from)? {
                model_weights(&mut model, &m).map_err(at(file))?;
            }
            Stage::Model(model, password(kind)?)
        }
        StageKind::Training => {
            let mut training = parse("training", file)?;
            if let Some(m) = manifest(weights).map_err(ReadError::from)? {
                final_weights(&mut training, &m).map_err(at(file))?;
            }
            Stage::Training(training)
        }
        StageKind::Predeployment => Stage::Predeployment(parse("predeployment", file)?),
        StageKind::Deployment => Stage::Deployment(parse("deployment", file)?),
        StageKind::Test => Stage::Test(parse("test evaluation", file)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch file holding `text`.
    fn file(name: &str, text: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!("lcm-read-{name}-{}", std::process::id()));
        std::fs::write(&path, text).unwrap();
        path
    }

    fn section(name: &str) -> String {
        let all: serde_json::Value = serde_json::from_str(super::super::EXAMPLE).unwrap();
        all[name].to_string()
    }

    #[test]
    fn reads_the_example_lifecycle_and_its_stages() {
        let path = file("lifecycle.json", super::super::EXAMPLE);
        let input = read_lifecycle(&path, None).unwrap();
        assert!(!input.dataset.family_id.is_empty());
        let dataset = file("dataset.json", &section("dataset"));
        let stage = read_stage(StageKind::Dataset, &dataset, None, |k| {
            assert_eq!(k, StageKind::Dataset);
            Ok::<_, ReadError>("pw".to_owned())
        })
        .unwrap();
        assert!(
            matches!(&stage, Stage::Dataset(d, p) if d.family_id == input.dataset.family_id && p == "pw")
        );
        let test = file("test.json", &section("test_evaluation"));
        let stage = read_stage(StageKind::Test, &test, None, |_| -> Result<_, ReadError> {
            panic!("no password for a test evaluation")
        });
        assert!(matches!(stage, Ok(Stage::Test(_))));
        for p in [path, dataset, test] {
            std::fs::remove_file(p).unwrap();
        }
    }

    #[test]
    fn a_bad_file_is_refused_naming_it_before_the_password_is_asked() {
        let mut text = section("dataset");
        // One byte changed: the JSON no longer parses.
        text.replace_range(0..1, "[");
        let path = file("bad-dataset.json", &text);
        let read = read_stage(
            StageKind::Dataset,
            &path,
            None,
            |_| -> Result<_, ReadError> { panic!("the password is asked after the file is read") },
        );
        let error = read.unwrap_err();
        assert!(matches!(error, ReadError::Input { .. }), "{error:?}");
        let message = error.to_string();
        assert!(message.starts_with(&format!("{}: dataset: malformed JSON", path.display())));
        // A lifecycle file is not a stage file, and a stage file not a lifecycle.
        let model = read_stage(StageKind::Model, &path, None, |_| {
            Ok::<_, ReadError>(String::new())
        });
        assert!(matches!(model, Err(ReadError::Input { .. })));
        assert!(matches!(
            read_lifecycle(&path, None),
            Err(ReadError::Input { .. })
        ));
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_missing_file_or_weights_is_a_file_error() {
        let missing = std::env::temp_dir().join(format!("lcm-read-none-{}", std::process::id()));
        let read = read_stage(StageKind::Test, &missing, None, |_| {
            Ok::<_, ReadError>(String::new())
        });
        assert!(matches!(read, Err(ReadError::File(_))));
        assert!(matches!(
            read_lifecycle(&missing, None),
            Err(ReadError::File(_))
        ));
        let path = file("weights-lifecycle.json", super::super::EXAMPLE);
        let read = read_lifecycle(&path, Some(&missing));
        assert!(matches!(read, Err(ReadError::Weights(_))), "{read:?}");
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn the_password_error_is_the_callers() {
        let path = file("pw-dataset.json", &section("dataset"));
        let read = read_stage(StageKind::Dataset, &path, None, |_| {
            Err(ReadError::Input {
                path: PathBuf::from("env"),
                source: crate::Error::NoLifecycle,
            })
        });
        assert!(matches!(read, Err(ReadError::Input { path, .. }) if path == Path::new("env")));
        std::fs::remove_file(&path).unwrap();
    }
}
