//! Binding fingerprinted weights (`--weights`, [`crate::fingerprint::Manifest`]) into a stage
//! file before it is recorded: a model file's parameter fingerprint and a training file's
//! final model digest.

use super::{ModelInput, TrainingInput, stage_error};

/// Gives a model file the parameter fingerprint of its weights (`--weights`): the model
/// anchor then binds its root (`parameter_fingerprint`; not the file digest, which a training
/// file's `final_model_digest` holds). The file's `architecture.total_params`, when given,
/// must be the weights' element count, and is set to it when absent.
///
/// # Errors
///
/// [`crate::Error::Stage`] naming `architecture.total_params` when it is another count, or
/// saying why the weights have no parameter fingerprint.
pub fn model_weights(
    input: &mut ModelInput,
    weights: &crate::fingerprint::Manifest,
) -> Result<(), crate::Error> {
    let parameters = weights
        .parameter_fingerprint()
        .map_err(|e| stage_error("model", format!("--weights: {e}")))?;
    let count = parameters.element_count();
    match input.architecture.total_params {
        Some(given) if given != count => {
            return Err(stage_error(
                "model",
                format!(
                    "architecture.total_params {given} is not the element count of the \
                     weights {} ({count})",
                    weights.path
                ),
            ));
        }
        _ => input.architecture.total_params = Some(count),
    }
    input.parameters = Some(parameters);
    Ok(())
}

/// Sets a training file's `final_model_digest` to the digest of the final weights (the
/// manifest's `digest`: the file digest of a weights file, or the directory digest of a model
/// directory, as `lcm fingerprint` prints first). A file that already gives one must give that
/// digest. (The parameter fingerprint's root is not what this field holds.)
///
/// # Errors
///
/// [`crate::Error::Stage`] when the file's `final_model_digest` is another digest, or the
/// manifest is not SHA-256.
pub fn final_weights(
    input: &mut TrainingInput,
    weights: &crate::fingerprint::Manifest,
) -> Result<(), crate::Error> {
    if weights.algorithm != lcm_crypto::HashAlgorithm::Sha256 {
        return Err(stage_error(
            "training",
            format!(
                "the weights were fingerprinted with {}, expected SHA-256",
                weights.algorithm
            ),
        ));
    }
    match input.final_model_digest {
        Some(given) if !bool::from(given.ct_eq(&weights.digest)) => Err(stage_error(
            "training",
            format!(
                "final_model_digest {given} is not the digest of the weights {} ({})",
                weights.path, weights.digest
            ),
        )),
        _ => {
            input.final_model_digest = Some(weights.digest);
            Ok(())
        }
    }
}
