//! The reference's model manager (`LCMModelManager`, `LCMModelAnchor`).

use crate::{self as rules, ModelInputs};
use lcm_crypto::{Seed, hex};

use super::{Error, PyciafContext, jobj, jstr, jstr_list, short, upsert};

/// An `LCMModelAnchor`.
///
/// It holds the reference's model anchor, `HMAC-SHA256(master_anchor, utf8(model_hash))`, as a
/// secret (zeroized on drop, redacted in `Debug`): the reference keys its HMAC commitments
/// with it. The master anchor is not kept.
#[derive(Debug)]
#[non_exhaustive]
pub struct ModelAnchor {
    /// `model_name`.
    pub model_name: String,
    /// `version`.
    pub version: String,
    /// `trainer_commit`.
    pub trainer_commit: String,
    /// `authorized_datasets`, as given (sorted only inside `model_hash`).
    pub authorized_datasets: Vec<String>,
    /// `params_root`, `arch_root`, `hp_digest`, `env_digest` and `model_hash`.
    pub digests: rules::ModelDigests,
    /// `anchor_id`: `m_` + 8 hex of the model anchor + `...`.
    pub anchor_id: String,
    /// `master_salt` (kept here; the reference never stores it).
    pub master_salt: Vec<u8>,
    commitment_kind: &'static str,
    anchor: Seed,
}

impl ModelAnchor {
    /// `model_hash`.
    pub fn model_hash(&self) -> &str {
        &self.digests.model_hash
    }

    /// The model anchor as hex, **a secret of the reference's scheme** (the key of its HMAC
    /// commitments), exposed because the reference's vectors record it and its display id is
    /// its first 8 hex characters.
    pub fn expose_model_anchor_hex(&self) -> String {
        hex::encode(self.anchor.expose_secret())
    }

    /// `authorized_dataset_refs`: `"ref_" + dataset` for each authorized dataset.
    pub fn authorized_dataset_refs(&self) -> Vec<String> {
        self.authorized_datasets
            .iter()
            .map(|d| format!("ref_{d}"))
            .collect()
    }

    /// `to_dict()` as canonical JSON: the digests cut to 8 hex + `...` except `model_hash`,
    /// `authorized_dataset_refs`, `anchor` and the policy's `commitment` kind.
    ///
    /// # Errors
    ///
    /// A rule's error, which a stored anchor never causes.
    pub fn to_dict(&self) -> Result<String, Error> {
        let d = &self.digests;
        Ok(rules::canonical_json(&jobj(&[
            ("name", jstr(&self.model_name)),
            ("version", jstr(&self.version)),
            ("params_root", jstr(&short(&d.params_root))),
            ("arch_root", jstr(&short(&d.arch_root))),
            ("hp_digest", jstr(&short(&d.hp_digest))),
            ("env_digest", jstr(&short(&d.env_digest))),
            ("trainer_commit", jstr(&self.trainer_commit)),
            (
                "authorized_dataset_refs",
                jstr_list(&self.authorized_dataset_refs()),
            ),
            ("anchor", jstr(&self.anchor_id)),
            ("commitment", jstr(self.commitment_kind)),
            ("model_hash", jstr(&d.model_hash)),
        ]))?)
    }
}

/// The reference's `LCMModelManager`: model anchors by `f"{name}_{version}"`.
#[derive(Debug)]
pub struct ModelManager {
    ctx: PyciafContext,
    anchors: Vec<(String, ModelAnchor)>,
}

impl ModelManager {
    /// A manager with no anchors.
    pub fn new(ctx: PyciafContext) -> Self {
        Self {
            ctx,
            anchors: Vec::new(),
        }
    }

    /// `LCMModelAnchor(model_name, version, architecture, hyperparameters, environment,
    /// authorized_datasets, trainer_commit, master_password, salt=salt)`, stored under
    /// `f"{name}_{version}"`. The password defaults to the model's name (the reference's weak
    /// default: `master_password or model_name`); without a salt, 16 bytes come from the
    /// context's randomness.
    ///
    /// The authorized datasets are the ids the reference records (its `authorized_dataset_refs`
    /// are `"ref_" + id`); they enter `model_hash` sorted.
    ///
    /// # Errors
    ///
    /// [`Error::Rule`] for inputs the reference's models refuse, [`Error::Crypto`] when
    /// randomness fails.
    pub fn create_model_anchor(
        &mut self,
        inputs: &ModelInputs<'_>,
        master_password: Option<&str>,
        salt: Option<&[u8]>,
    ) -> Result<&ModelAnchor, Error> {
        let digests = rules::model_digests(inputs)?;
        let password = match master_password {
            Some(p) if !p.is_empty() => p,
            _ => inputs.model_name,
        };
        let master_salt = match salt {
            Some(s) if !s.is_empty() => s.to_vec(),
            _ => self.ctx.random_bytes(16)?,
        };
        let master = Seed::from_bytes(rules::master_anchor(password, &master_salt));
        let anchor = Seed::from_bytes(rules::hmac_anchor(
            master.expose_secret(),
            &digests.model_hash,
        ));
        let key = format!("{}_{}", inputs.model_name, inputs.version);
        let record = ModelAnchor {
            model_name: inputs.model_name.to_owned(),
            version: inputs.version.to_owned(),
            trainer_commit: inputs.trainer_commit.to_owned(),
            authorized_datasets: inputs
                .authorized_datasets
                .iter()
                .map(|d| (*d).to_owned())
                .collect(),
            digests,
            anchor_id: rules::display_id("m_", &hex::encode(anchor.expose_secret())),
            master_salt,
            commitment_kind: self.ctx.commitment_kind(),
            anchor,
        };
        let stored = upsert(&mut self.anchors, |(k, _)| *k == key, (key.clone(), record));
        Ok(&stored.1)
    }

    /// `get_model_anchor(name, version)`: with a version, that anchor; without, the one whose
    /// key `f"{name}_{version}"` sorts last, as the reference picks it.
    pub fn get_model_anchor(
        &self,
        model_name: &str,
        version: Option<&str>,
    ) -> Option<&ModelAnchor> {
        match version {
            Some(v) => {
                let key = format!("{model_name}_{v}");
                self.anchors.iter().find(|(k, _)| *k == key).map(|(_, a)| a)
            }
            None => self
                .anchors
                .iter()
                .filter(|(_, a)| a.model_name == model_name)
                .max_by(|x, y| x.0.cmp(&y.0))
                .map(|(_, a)| a),
        }
    }

    /// `list_models()`: the stored keys, in creation order.
    pub fn list_models(&self) -> impl Iterator<Item = &str> {
        self.anchors.iter().map(|(k, _)| k.as_str())
    }

    /// `anchor.create_commitment(data)` with the policy's kind; the HMAC key is the model
    /// anchor.
    ///
    /// # Errors
    ///
    /// [`Error::Unknown`] for an unknown model, [`Error::Rule`] for data that is not JSON.
    pub fn create_commitment(
        &self,
        model_name: &str,
        version: &str,
        data_json: &str,
    ) -> Result<String, Error> {
        let anchor = self
            .get_model_anchor(model_name, Some(version))
            .ok_or_else(|| Error::Unknown {
                kind: "model",
                id: format!("{model_name}_{version}"),
            })?;
        self.ctx
            .commitment(data_json, anchor.anchor.expose_secret())
    }
}
