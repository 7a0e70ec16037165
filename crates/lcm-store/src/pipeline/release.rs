//! The release receipts are made for: the model and deployment anchors they name, checked
//! (the deployment releases the model and is not stopped), and the model derived from the
//! deployment.

use lcm_crypto::Digest;
use lcm_model::Record;
use lcm_model::records::{
    DeploymentAnchor, DeploymentStatus, DeploymentStatusEvent, ModelAnchor, PreDeploymentAnchor,
};

use crate::export::sealed;
use crate::{Error, Store, StoredRecord};

/// The anchors every receipt of a release names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Release {
    /// The model anchor's digest.
    pub model_anchor: Digest,
    /// The deployment anchor's digest.
    pub deployment_anchor: Digest,
}

/// The release of `model` (`NAME@VERSION`) on `deployment`, after checking that the
/// deployment releases that model and is not stopped.
///
/// # Errors
///
/// [`Error::NotStored`], [`Error::NoPredeployment`], [`Error::BrokenLink`] (a verification
/// failure), [`Error::WrongModel`], [`Error::NotDeployed`]; read and parse failures.
pub fn resolve_release(store: &dyn Store, model: &str, deployment: &str) -> Result<Release, Error> {
    let not_stored = |kind, id: &str| Error::NotStored {
        kind,
        id: id.to_owned(),
    };
    let model_rec = store
        .record(ModelAnchor::KIND, model)?
        .ok_or_else(|| not_stored("model anchor", model))?;
    let (dep_rec, dep, pre_rec) = deployment_and_predeployment(store, deployment)?;
    if pre_rec.digest != dep.predeployment {
        return Err(Error::BrokenLink {
            deployment: deployment.to_owned(),
            expected: dep.predeployment,
            stored: pre_rec.digest,
        });
    }
    let pre = sealed::<PreDeploymentAnchor>(&pre_rec)?.record;
    if pre.model_anchor != model_rec.digest {
        return Err(Error::WrongModel {
            deployment: deployment.to_owned(),
            model: model.to_owned(),
            releases: store
                .record_by_digest(ModelAnchor::KIND, &pre.model_anchor)?
                .map_or_else(|| pre.model_anchor.to_string(), |m| m.id),
        });
    }
    let mut latest: Option<DeploymentStatusEvent> = None;
    for r in &store.records(Some(DeploymentStatusEvent::KIND))? {
        let e = sealed::<DeploymentStatusEvent>(r)?.record;
        if e.deployment_id == deployment && latest.as_ref().is_none_or(|l| e.sequence > l.sequence)
        {
            latest = Some(e.clone());
        }
    }
    if let Some(e) = latest
        && e.status != DeploymentStatus::Deployed
    {
        return Err(Error::NotDeployed {
            deployment: deployment.to_owned(),
            status: e.status.name(),
        });
    }
    Ok(Release {
        model_anchor: model_rec.digest,
        deployment_anchor: dep_rec.digest,
    })
}

/// `deployment`'s stored anchor (record and parsed) and the stored pre-deployment anchor it
/// names by id: [`Error::NotStored`] for an unknown deployment, [`Error::NoPredeployment`].
fn deployment_and_predeployment(
    store: &dyn Store,
    deployment: &str,
) -> Result<(StoredRecord, DeploymentAnchor, StoredRecord), Error> {
    let dep_rec = store
        .record(DeploymentAnchor::KIND, deployment)?
        .ok_or_else(|| Error::NotStored {
            kind: "deployment anchor",
            id: deployment.to_owned(),
        })?;
    let dep = sealed::<DeploymentAnchor>(&dep_rec)?.record;
    let pre_rec = store
        .record(PreDeploymentAnchor::KIND, &dep.predeployment_id)?
        .ok_or_else(|| Error::NoPredeployment {
            id: dep.predeployment_id.clone(),
        })?;
    Ok((dep_rec, dep, pre_rec))
}

/// The model anchor id (`NAME@VERSION`) that `deployment` releases: the model anchor its
/// pre-deployment names, found by digest. [`resolve_release`] then checks the whole release.
///
/// # Errors
///
/// [`Error::NotStored`] for an unknown deployment, [`Error::NoPredeployment`],
/// [`Error::Missing`] when the model anchor is not stored; read and parse failures.
pub fn model_of(store: &dyn Store, deployment: &str) -> Result<String, Error> {
    let (_, _, pre_rec) = deployment_and_predeployment(store, deployment)?;
    let pre = sealed::<PreDeploymentAnchor>(&pre_rec)?.record;
    let model = store
        .record_by_digest(ModelAnchor::KIND, &pre.model_anchor)?
        .ok_or_else(|| Error::missing(ModelAnchor::KIND, pre.model_anchor.to_string()))?;
    Ok(model.id)
}

/// The model anchor id that receipts on `deployment` release: the one [`model_of`] derives
/// from the deployment, after checking that `given` (a `--model` the caller named, if any)
/// is that one.
///
/// # Errors
///
/// [`Error::WrongModel`] when `given` names another model; as [`model_of`].
pub fn release_model(
    store: &dyn Store,
    deployment: &str,
    given: Option<&str>,
) -> Result<String, Error> {
    let derived = model_of(store, deployment)?;
    match given {
        Some(model) if model != derived => Err(Error::WrongModel {
            deployment: deployment.to_owned(),
            model: model.to_owned(),
            releases: derived,
        }),
        _ => Ok(derived),
    }
}
