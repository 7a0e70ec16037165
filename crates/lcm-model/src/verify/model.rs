//! Model: what a model anchor allows the records that reference it.

use lcm_crypto::Digest;

use crate::records::ModelAnchor;

/// Whether `model` authorizes the dataset family whose anchor digest is `family_anchor`: one
/// of its authorized datasets is that digest. The one rule the training manager applies when
/// it starts or restores a session over a family's splits, and a bundle verifier applies to
/// the bundle's family.
///
/// This does not panic.
pub fn model_authorizes_family(model: &ModelAnchor, family_anchor: &Digest) -> bool {
    model
        .description
        .authorized_datasets
        .values()
        .any(|d| d == family_anchor)
}
