//! Rebuilding a [`Project`] from a store: every record recomputed, every reference resolved.

use std::collections::BTreeMap;

use lcm_managers::{Context, Project, RestoredSplit};
use lcm_model::records::{
    DatasetFamilyAnchor, DatasetSplitAnchor, DeploymentAnchor, DeploymentStatusEvent, ModelAnchor,
    PreDeploymentAnchor, ReleaseRoot, Sbom, TestEvaluationAnchor, TrainingCheckpoint,
    TrainingMetrics, TrainingSession, TrainingSnapshot,
};
use lcm_model::{Claimed, Record};

use super::{SBOM, SPLIT_RECORDS, SplitRecords, TRAINING_METRICS, dangling, model_id};
use crate::{Store, export};

/// A project holding everything `store` holds (except receipts and batches), each record
/// recomputed by the managers' `restore_*` methods, and every reference between records
/// resolved (a model's authorized families, a session's model and splits, a
/// pre-deployment's model and training snapshot, a test's split): a record whose seal is
/// right but that names something the store does not hold is refused.
///
/// # Errors
///
/// A stored record that does not parse or does not recompute, missing evidence, an
/// unresolved reference ([`lcm_managers::Error::UnknownReference`]), and the managers'
/// refusals.
pub fn restore(ctx: &Context, store: &dyn Store) -> Result<Project, crate::Error> {
    let mut m = Project::new(ctx.clone())?;
    let splits: Vec<Claimed<DatasetSplitAnchor>> = export::all(store)?;
    for family in export::all::<DatasetFamilyAnchor>(store)? {
        let mut restored = Vec::new();
        for anchor in splits
            .iter()
            .filter(|s| s.record.family_anchor == family.digest)
        {
            let ev: SplitRecords = export::evidence(
                store,
                SPLIT_RECORDS,
                &format!("{}/{}", anchor.record.family_id, anchor.record.split),
            )?;
            restored.push(RestoredSplit {
                anchor: anchor.clone(),
                record_ids: ev.record_ids,
                content_digests: ev.content_digests,
            });
        }
        m.datasets.restore_family(family, restored)?;
    }
    for model in export::all::<ModelAnchor>(store)? {
        for (family, digest) in &model.record.description.authorized_datasets {
            if m.datasets
                .dataset_family(family)
                .map(lcm_model::Sealed::digest)
                != Some(*digest)
            {
                return Err(dangling(
                    "model anchor",
                    &model_id(&model.record),
                    "authorized_datasets",
                    family,
                )
                .into());
            }
        }
        m.models.restore_model(model)?;
    }
    let checkpoints: Vec<Claimed<TrainingCheckpoint>> = export::all(store)?;
    for session in export::all::<TrainingSession>(store)? {
        let id = session.record.session_id.clone();
        let mut own: Vec<_> = checkpoints
            .iter()
            .filter(|c| c.record.session == session.digest)
            .cloned()
            .collect();
        own.sort_by_key(|c| c.record.index);
        let completion = match store.record(TrainingSnapshot::KIND, &id)? {
            Some(r) => Some((
                export::evidence::<TrainingMetrics>(store, TRAINING_METRICS, &id)?,
                export::sealed(&r)?,
            )),
            None => None,
        };
        m.training
            .restore_session(&m.datasets, &m.models, session, own, completion)?;
    }
    for pre in export::all::<PreDeploymentAnchor>(store)? {
        let r = &pre.record;
        // The snapshot of a stored session, and the model that session trained (the
        // stage that makes a pre-deployment takes both from the session).
        let Some(snapshot) = m.snapshot(&r.training_snapshot) else {
            let d = r.training_snapshot.to_string();
            return Err(dangling(
                "pre-deployment",
                &r.predeployment_id,
                "training_snapshot",
                &d,
            )
            .into());
        };
        if snapshot.record().model_anchor != r.model_anchor {
            let d = r.model_anchor.to_string();
            return Err(dangling("pre-deployment", &r.predeployment_id, "model_anchor", &d).into());
        }
        let sbom: Sbom = export::evidence(store, SBOM, &pre.record.predeployment_id)?;
        m.deployments.restore_predeployment(pre, sbom)?;
    }
    let events: Vec<Claimed<DeploymentStatusEvent>> = export::all(store)?;
    let mut deployments = BTreeMap::new();
    for dep in export::all::<DeploymentAnchor>(store)? {
        let mut history: Vec<_> = events
            .iter()
            .filter(|e| e.record.deployment_id == dep.record.deployment_id)
            .cloned()
            .collect();
        history.sort_by_key(|e| e.record.sequence);
        deployments.insert(dep.record.deployment_id.clone(), dep.clone());
        m.deployments.restore_deployment(dep, history)?;
    }
    for test in export::all::<TestEvaluationAnchor>(store)? {
        if m.datasets
            .find_split_anchor(&test.record.test_dataset)
            .is_none()
        {
            let d = test.record.test_dataset.to_string();
            return Err(
                dangling("test evaluation", &test.record.test_id, "test_dataset", &d).into(),
            );
        }
        m.roots.restore_test_evaluation(test)?;
    }
    for r in store.records(Some(ReleaseRoot::KIND))? {
        let dep = deployments
            .get(&r.id)
            .ok_or_else(|| crate::Error::missing(DeploymentAnchor::KIND, &r.id))?;
        let release: Claimed<ReleaseRoot> = export::sealed(&r)?;
        // The managers cannot resolve the training session root leaf (the root manager
        // holds no sessions): it must be the root of the session the release's
        // pre-deployment was built from.
        let snapshot = m
            .deployments
            .predeployment(&dep.record.predeployment_id)
            .and_then(|pre| m.snapshot(&pre.record().training_snapshot));
        let session_root = match snapshot {
            Some(snapshot) => Some(m.roots.compute_training_session_root(snapshot)?),
            None => None,
        };
        if session_root != Some(release.record.training_session_root) {
            let d = release.record.training_session_root.to_string();
            return Err(dangling("release root", &r.id, "training_session_root", &d).into());
        }
        m.roots.restore_release_root(dep, release)?;
    }
    Ok(m)
}
