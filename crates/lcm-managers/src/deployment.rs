//! [`DeploymentManager`]: pre-deployment and deployment anchors, and the hash-chained rollout
//! history of every deployment (the seed's `LCMDeploymentManager`).
//!
//! # Examples
//!
//! ```
//! use std::collections::BTreeMap;
//!
//! use lcm_crypto::Digest;
//! use lcm_managers::{Context, DeploymentManager, PreDeploymentRequest};
//! use lcm_model::records::deployment::{BuildArtifact, ComplianceStatus, DeploymentStatus, Sbom};
//! use serde_json::json;
//!
//! let ctx = Context::default();
//! let mut deployments = DeploymentManager::new(ctx.clone());
//! # let (model_anchor, snapshot) = (Digest::from_bytes([1; 32]), Digest::from_bytes([2; 32]));
//! let predeploy = deployments.create_predeployment_anchor(PreDeploymentRequest {
//!     predeployment_id: "predeploy_001".into(),
//!     model_anchor,            // model_anchor.digest(), from the model manager
//!     training_snapshot: snapshot, // snapshot.digest(), from the training manager
//!     build_artifact: BuildArtifact {
//!         artifact_type: "docker".into(),
//!         artifact_digest: format!("sha256:{}", "ab".repeat(32)),
//!         build_timestamp: ctx.now(),
//!         builder_info: "jenkins-v2.401".into(),
//!         size_bytes: 500 << 20,
//!     },
//!     sbom: Sbom {
//!         dependencies: BTreeMap::from([("tensorflow".into(), "2.13.0".into())]),
//!         security_scan_digest: Digest::from_bytes([3; 32]),
//!         vulnerability_count: 0,
//!         compliance_status: ComplianceStatus::Passed,
//!     },
//!     approval_ticket_id: "TICKET-12345".into(),
//!     intended_env: "production".into(),
//!     intended_region: "us-east-1".into(),
//!     rollout_plan_digest: None,
//! })?;
//! let deploy = deployments.create_deployment_anchor(
//!     "deploy_001",
//!     "predeploy_001",
//!     json!({"cluster": "prod-k8s", "replicas": 3}),
//!     json!({"load_balancer": "internal"}),
//!     "devops_alice",
//! )?;
//! assert_eq!(deploy.record().predeployment, predeploy.digest());
//!
//! deployments.record_status("deploy_001", DeploymentStatus::RolledBack, "latency regression")?;
//! assert_eq!(deployments.current_status("deploy_001"), Some(DeploymentStatus::RolledBack));
//! assert_eq!(deployments.status_history("deploy_001").map(<[_]>::len), Some(2));
//! deployments.verify_status_history("deploy_001")?;
//! # Ok::<(), lcm_managers::Error>(())
//! ```

use std::collections::BTreeMap;

use lcm_crypto::Digest;
use lcm_model::records::deployment::{
    BuildArtifact, DeploymentAnchor, DeploymentStatus, DeploymentStatusEvent, PreDeploymentAnchor,
    Sbom,
};
use lcm_model::verify::verify_status_history;
use lcm_model::{Claimed, DomainType, Policy, Seal, Sealed};
use serde_json::{Map, Value};

use crate::restore::check_seal;
use crate::{Context, Error};

const PREDEPLOYMENT: &str = "predeployment anchor";
const DEPLOYMENT: &str = "deployment anchor";
const STATUS_EVENT: &str = "deployment status event";

/// The inputs of a pre-deployment anchor (the seed's `create_predeployment_anchor` arguments,
/// plus what the release deploys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreDeploymentRequest {
    /// The user-facing id, for example `"predeploy_001"`.
    pub predeployment_id: String,
    /// The full digest of the model anchor being released (`Sealed<ModelAnchor>::digest`).
    pub model_anchor: Digest,
    /// The full digest of the training snapshot that produced the weights
    /// (`Sealed<TrainingSnapshot>::digest`).
    pub training_snapshot: Digest,
    /// The artifact.
    pub build_artifact: BuildArtifact,
    /// The artifact's SBOM; the anchor binds its digest.
    pub sbom: Sbom,
    /// The change-approval ticket.
    pub approval_ticket_id: String,
    /// The target environment.
    pub intended_env: String,
    /// The target region.
    pub intended_region: String,
    /// The rollout plan's digest, if there is one.
    pub rollout_plan_digest: Option<Digest>,
}

/// What a deployment serves, resolved through its pre-deployment anchor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeploymentRelease {
    /// The deployment anchor's digest.
    pub deployment: Digest,
    /// The pre-deployment anchor's digest.
    pub predeployment: Digest,
    /// The model anchor the deployment releases.
    pub model_anchor: Digest,
    /// The training snapshot the deployment releases.
    pub training_snapshot: Digest,
    /// The current rollout status.
    pub status: DeploymentStatus,
}

#[derive(Debug, Clone)]
struct Deployment {
    anchor: Sealed<DeploymentAnchor>,
    history: Vec<Sealed<DeploymentStatusEvent>>,
}

/// Creates and keeps pre-deployment and deployment anchors and their rollout history.
#[derive(Debug, Clone, Default)]
pub struct DeploymentManager {
    ctx: Context,
    predeployments: BTreeMap<String, (Sealed<PreDeploymentAnchor>, Sbom)>,
    deployments: BTreeMap<String, Deployment>,
}

impl DeploymentManager {
    /// A manager working under `ctx`.
    pub fn new(ctx: Context) -> Self {
        Self {
            ctx,
            predeployments: BTreeMap::new(),
            deployments: BTreeMap::new(),
        }
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        self.ctx.policy()
    }

    fn check_domain(&self) -> Result<(), Error> {
        if self.ctx.policy().allows(DomainType::Deployment) {
            Ok(())
        } else {
            Err(Error::DomainNotAllowed {
                domain: "deployment",
            })
        }
    }

    /// Records what is about to be deployed (the seed's `create_predeployment_anchor`).
    ///
    /// The anchor binds the model anchor and training snapshot it releases, the artifact
    /// (type, digest, build time, builder, size), the SBOM's digest, the approval ticket, the
    /// intended environment and region, the rollout plan's digest and the time.
    ///
    /// # Errors
    ///
    /// [`Error::DomainNotAllowed`] if the policy forbids deployment records;
    /// [`Error::Empty`] for an empty id, ticket, environment, region, artifact type, builder or
    /// dependency; [`lcm_model::Error::UnexpectedValue`] for a malformed artifact digest; [`lcm_model::Error::DuplicateId`]
    /// for an id already used.
    pub fn create_predeployment_anchor(
        &mut self,
        request: PreDeploymentRequest,
    ) -> Result<Sealed<PreDeploymentAnchor>, Error> {
        self.check_domain()?;
        let id = request.predeployment_id;
        non_empty(PREDEPLOYMENT, &id, "predeployment_id", &id)?;
        if self.predeployments.contains_key(&id) {
            return Err(Error::Model(lcm_model::Error::DuplicateId {
                kind: PREDEPLOYMENT,
                id,
            }));
        }
        request
            .build_artifact
            .validate()
            .map_err(|e| with_id(PREDEPLOYMENT, &id, e))?;
        request
            .sbom
            .validate()
            .map_err(|e| with_id(PREDEPLOYMENT, &id, e))?;
        non_empty(
            PREDEPLOYMENT,
            &id,
            "approval_ticket_id",
            &request.approval_ticket_id,
        )?;
        non_empty(PREDEPLOYMENT, &id, "intended_env", &request.intended_env)?;
        non_empty(
            PREDEPLOYMENT,
            &id,
            "intended_region",
            &request.intended_region,
        )?;
        let policy = self.ctx.policy();
        let anchor = PreDeploymentAnchor {
            predeployment_id: id.clone(),
            model_anchor: request.model_anchor,
            training_snapshot: request.training_snapshot,
            build_artifact: request.build_artifact,
            sbom_digest: request.sbom.compute_sbom_digest(policy)?,
            approval_ticket_id: request.approval_ticket_id,
            intended_env: request.intended_env,
            intended_region: request.intended_region,
            rollout_plan_digest: request.rollout_plan_digest,
            created_at: self.ctx.now(),
        };
        let sealed = Sealed::seal(anchor, policy)?;
        self.predeployments
            .insert(id, (sealed.clone(), request.sbom));
        Ok(sealed)
    }

    /// Records an actual deployment of a known pre-deployment anchor (the seed's
    /// `create_deployment_anchor`; `predeployment_id` is its `predeployment_anchor_ref`).
    ///
    /// The anchor binds the pre-deployment anchor's full digest, the infrastructure and
    /// network configuration, the deployer and the time. The deployment's rollout history
    /// starts with a [`DeploymentStatus::Deployed`] event.
    ///
    /// # Errors
    ///
    /// [`Error::DomainNotAllowed`]; [`Error::Empty`] for an empty id or deployer;
    /// [`lcm_model::Error::DuplicateId`]; [`Error::UnknownReference`] for an unknown pre-deployment id;
    /// [`lcm_model::Error::UnexpectedValue`] when `infrastructure` or `network_config` is not a JSON object.
    pub fn create_deployment_anchor(
        &mut self,
        deployment_id: &str,
        predeployment_id: &str,
        infrastructure: Value,
        network_config: Value,
        deployed_by: &str,
    ) -> Result<Sealed<DeploymentAnchor>, Error> {
        self.check_domain()?;
        non_empty(DEPLOYMENT, deployment_id, "deployment_id", deployment_id)?;
        if self.deployments.contains_key(deployment_id) {
            return Err(Error::Model(lcm_model::Error::DuplicateId {
                kind: DEPLOYMENT,
                id: deployment_id.to_owned(),
            }));
        }
        let (pre, _) =
            self.predeployments
                .get(predeployment_id)
                .ok_or_else(|| Error::UnknownReference {
                    kind: DEPLOYMENT,
                    id: deployment_id.to_owned(),
                    field: "predeployment_anchor_ref",
                    reference: predeployment_id.to_owned(),
                })?;
        let infrastructure = object(deployment_id, "infrastructure", infrastructure)?;
        let network_config = object(deployment_id, "network_config", network_config)?;
        non_empty(DEPLOYMENT, deployment_id, "deployed_by", deployed_by)?;
        let policy = self.ctx.policy();
        let anchor = DeploymentAnchor {
            deployment_id: deployment_id.to_owned(),
            predeployment_id: predeployment_id.to_owned(),
            predeployment: pre.digest(),
            infrastructure,
            network_config,
            deployed_by: deployed_by.to_owned(),
            deployed_at: self.ctx.now(),
        };
        let sealed = Sealed::seal(anchor, policy)?;
        let first = DeploymentStatusEvent {
            deployment_id: deployment_id.to_owned(),
            deployment: sealed.digest(),
            sequence: 0,
            status: DeploymentStatus::Deployed,
            reason: "deployed".to_owned(),
            at: sealed.record().deployed_at,
            prev_event: None,
        };
        let history = vec![Sealed::seal(first, policy)?];
        self.deployments.insert(
            deployment_id.to_owned(),
            Deployment {
                anchor: sealed.clone(),
                history,
            },
        );
        Ok(sealed)
    }

    /// Appends a rollout status change to a deployment's history; nothing is overwritten.
    ///
    /// Allowed changes: from `Deployed` to `Failed` or `RolledBack`, from `Failed` to
    /// `Deployed` (a retry) or `RolledBack`. `RolledBack` is final, and `Prepared` belongs to
    /// pre-deployment anchors only.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownReference`] for an unknown deployment; [`lcm_model::Error::UnexpectedValue`] for a change
    /// that is not allowed.
    pub fn record_status(
        &mut self,
        deployment_id: &str,
        status: DeploymentStatus,
        reason: &str,
    ) -> Result<Sealed<DeploymentStatusEvent>, Error> {
        let now = self.ctx.now();
        let policy = self.ctx.policy().clone();
        let deployment =
            self.deployments
                .get_mut(deployment_id)
                .ok_or_else(|| Error::UnknownReference {
                    kind: STATUS_EVENT,
                    id: deployment_id.to_owned(),
                    field: "deployment_id",
                    reference: deployment_id.to_owned(),
                })?;
        let last =
            deployment
                .history
                .last()
                .ok_or(Error::Model(lcm_model::Error::EmptyCollection {
                    kind: DEPLOYMENT,
                    id: deployment_id.to_owned(),
                    field: "history",
                }))?;
        let current = last.record().status;
        if !transition_allowed(current, status) {
            return Err(Error::Model(lcm_model::Error::UnexpectedValue {
                kind: STATUS_EVENT,
                id: deployment_id.to_owned(),
                field: "status",
                expected: format!("a change allowed from {}", current.name()),
                actual: status.name().to_owned(),
            }));
        }
        let sequence = last.record().sequence.checked_add(1).ok_or(Error::Model(
            lcm_model::Error::UnexpectedValue {
                kind: STATUS_EVENT,
                id: deployment_id.to_owned(),
                field: "sequence",
                expected: "fewer than 2^64 status changes".to_owned(),
                actual: "2^64".to_owned(),
            },
        ))?;
        let event = DeploymentStatusEvent {
            deployment_id: deployment_id.to_owned(),
            deployment: deployment.anchor.digest(),
            sequence,
            status,
            reason: reason.to_owned(),
            at: now,
            prev_event: Some(last.digest()),
        };
        let sealed = Sealed::seal(event, &policy)?;
        deployment.history.push(sealed.clone());
        Ok(sealed)
    }

    /// Adopts a pre-deployment anchor made earlier (for example by another process and read
    /// back from storage) with its SBOM, so that [`Self::restore_deployment`] and
    /// [`Self::create_deployment_anchor`] can name it and [`Self::predeployment`],
    /// [`Self::sbom`] and [`Self::release`] return it.
    ///
    /// Nothing given is trusted. Recomputed: the seal under this manager's policy, the SBOM
    /// digest from `sbom` (it must be the anchored `sbom_digest`), and the create path's checks
    /// of the fields (non-empty id, ticket, environment and region; a valid build artifact and
    /// SBOM). This does not panic.
    ///
    /// # Errors
    ///
    /// [`Error::DomainNotAllowed`] when the policy excludes deployments; [`Error::Empty`] or
    /// [`lcm_model::Error::UnexpectedValue`] for a field the create path refuses; [`lcm_model::Error::DuplicateId`] for an id
    /// already held; [`lcm_model::Error::SealMismatch`] for a seal that does not match the record, or
    /// an SBOM that does not match `sbom_digest`.
    pub fn restore_predeployment(
        &mut self,
        anchor: Claimed<PreDeploymentAnchor>,
        sbom: Sbom,
    ) -> Result<(), Error> {
        self.check_domain()?;
        let a = &anchor.record();
        let id = a.predeployment_id.as_str();
        non_empty(PREDEPLOYMENT, id, "predeployment_id", id)?;
        if self.predeployments.contains_key(id) {
            return Err(Error::Model(lcm_model::Error::DuplicateId {
                kind: PREDEPLOYMENT,
                id: id.to_owned(),
            }));
        }
        let anchor = check_seal(&self.ctx, PREDEPLOYMENT, id, &anchor)?;
        a.build_artifact
            .validate()
            .map_err(|e| with_id(PREDEPLOYMENT, id, e))?;
        sbom.validate().map_err(|e| with_id(PREDEPLOYMENT, id, e))?;
        non_empty(
            PREDEPLOYMENT,
            id,
            "approval_ticket_id",
            &a.approval_ticket_id,
        )?;
        non_empty(PREDEPLOYMENT, id, "intended_env", &a.intended_env)?;
        non_empty(PREDEPLOYMENT, id, "intended_region", &a.intended_region)?;
        let sbom_digest = sbom.compute_sbom_digest(self.ctx.policy())?;
        if sbom_digest != a.sbom_digest {
            return Err(Error::Model(lcm_model::Error::SealMismatch {
                kind: "predeployment anchor sbom_digest",
                id: id.to_owned(),
                stored: a.sbom_digest,
                recomputed: sbom_digest,
            }));
        }
        self.predeployments.insert(id.to_owned(), (anchor, sbom));
        Ok(())
    }

    /// Adopts a deployment anchor made earlier with its whole status history (the first event
    /// `deployed`, then every status change in order), so that [`Self::record_status`] (a
    /// rollback, ...), [`Self::current_status`], [`Self::status_history`], [`Self::release`]
    /// and [`Self::verify_status_history`] continue from it. Its pre-deployment must have been
    /// made here or restored first ([`Self::restore_predeployment`]).
    ///
    /// Nothing given is trusted. Recomputed: the seal under this manager's policy; that the
    /// named pre-deployment is held and its digest is the anchored `predeployment`; a
    /// non-empty `deployed_by`; the history exactly as [`verify_status_history`] checks it
    /// (every seal, every event naming this deployment, sequence numbers from 0 without gaps
    /// or repeats, each event linked to the previous one, the first `deployed`); that every
    /// event names this deployment's id; and that every status change is one
    /// [`Self::record_status`] allows. This does not panic.
    ///
    /// # Errors
    ///
    /// [`Error::DomainNotAllowed`] when the policy excludes deployments; [`Error::Empty`] for
    /// an empty id or `deployed_by`; [`lcm_model::Error::DuplicateId`] for an id already held;
    /// [`lcm_model::Error::SealMismatch`] for a seal that does not match the record;
    /// [`Error::UnknownReference`] naming `predeployment_anchor_ref` for a pre-deployment not
    /// held; [`lcm_model::Error::UnexpectedValue`] naming `predeployment` for a digest that is not the held
    /// pre-deployment's, `deployment_id` for an event of another deployment id, or `status`
    /// for a change [`Self::record_status`] refuses; [`Error::Model`] as
    /// [`verify_status_history`] (an empty history, a gap, a reordered, repeated or foreign
    /// event, a broken link, a first event that is not `deployed`).
    pub fn restore_deployment(
        &mut self,
        anchor: Claimed<DeploymentAnchor>,
        history: Vec<Claimed<DeploymentStatusEvent>>,
    ) -> Result<(), Error> {
        self.check_domain()?;
        let a = &anchor.record();
        let id = a.deployment_id.as_str();
        non_empty(DEPLOYMENT, id, "deployment_id", id)?;
        if self.deployments.contains_key(id) {
            return Err(Error::Model(lcm_model::Error::DuplicateId {
                kind: DEPLOYMENT,
                id: id.to_owned(),
            }));
        }
        let anchor = check_seal(&self.ctx, DEPLOYMENT, id, &anchor)?;
        let (pre, _) = self
            .predeployments
            .get(&a.predeployment_id)
            .ok_or_else(|| Error::UnknownReference {
                kind: DEPLOYMENT,
                id: id.to_owned(),
                field: "predeployment_anchor_ref",
                reference: a.predeployment_id.clone(),
            })?;
        if a.predeployment != pre.digest() {
            return Err(Error::Model(lcm_model::Error::UnexpectedValue {
                kind: DEPLOYMENT,
                id: id.to_owned(),
                field: "predeployment",
                expected: format!(
                    "the digest of predeployment {:?}, {}",
                    a.predeployment_id,
                    pre.digest()
                ),
                actual: a.predeployment.to_string(),
            }));
        }
        non_empty(DEPLOYMENT, id, "deployed_by", &a.deployed_by)?;
        let history = history
            .iter()
            .map(|event| check_seal(&self.ctx, STATUS_EVENT, id, event))
            .collect::<Result<Vec<_>, Error>>()?;
        verify_status_history(self.ctx.policy(), &anchor, &history)?;
        let mut previous: Option<DeploymentStatus> = None;
        for event in &history {
            let e = &event.record();
            if e.deployment_id != id {
                return Err(Error::Model(lcm_model::Error::UnexpectedValue {
                    kind: STATUS_EVENT,
                    id: format!("{id}/{}", e.sequence),
                    field: "deployment_id",
                    expected: format!("{id:?}"),
                    actual: format!("{:?}", e.deployment_id),
                }));
            }
            if let Some(from) = previous
                && !transition_allowed(from, e.status)
            {
                return Err(Error::Model(lcm_model::Error::UnexpectedValue {
                    kind: STATUS_EVENT,
                    id: format!("{id}/{}", e.sequence),
                    field: "status",
                    expected: format!("a change allowed from {}", from.name()),
                    actual: e.status.name().to_owned(),
                }));
            }
            previous = Some(e.status);
        }
        self.deployments
            .insert(id.to_owned(), Deployment { anchor, history });
        Ok(())
    }

    /// The pre-deployment anchor with this id.
    pub fn predeployment(&self, predeployment_id: &str) -> Option<&Sealed<PreDeploymentAnchor>> {
        self.predeployments.get(predeployment_id).map(|(a, _)| a)
    }

    /// The SBOM recorded with a pre-deployment anchor.
    pub fn sbom(&self, predeployment_id: &str) -> Option<&Sbom> {
        self.predeployments.get(predeployment_id).map(|(_, s)| s)
    }

    /// The deployment anchor with this id.
    pub fn deployment(&self, deployment_id: &str) -> Option<&Sealed<DeploymentAnchor>> {
        self.deployments.get(deployment_id).map(|d| &d.anchor)
    }

    /// The rollout history of a deployment, oldest first.
    pub fn status_history(&self, deployment_id: &str) -> Option<&[Sealed<DeploymentStatusEvent>]> {
        self.deployments
            .get(deployment_id)
            .map(|d| d.history.as_slice())
    }

    /// The latest status of a deployment.
    pub fn current_status(&self, deployment_id: &str) -> Option<DeploymentStatus> {
        self.deployments
            .get(deployment_id)?
            .history
            .last()
            .map(|e| e.record().status)
    }

    /// What a deployment serves: its digest, its pre-deployment's digest, the model anchor and
    /// training snapshot it releases, and its current status.
    pub fn release(&self, deployment_id: &str) -> Option<DeploymentRelease> {
        let d = self.deployments.get(deployment_id)?;
        let (pre, _) = self
            .predeployments
            .get(&d.anchor.record().predeployment_id)?;
        Some(DeploymentRelease {
            deployment: d.anchor.digest(),
            predeployment: pre.digest(),
            model_anchor: pre.record().model_anchor,
            training_snapshot: pre.record().training_snapshot,
            status: d
                .history
                .last()
                .map_or(DeploymentStatus::Deployed, |e| e.record().status),
        })
    }

    /// Recomputes every digest and link of a deployment's rollout history.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownReference`] for an unknown deployment; otherwise [`Error::Model`] as
    /// [`lcm_model::verify::verify_status_history`].
    pub fn verify_status_history(&self, deployment_id: &str) -> Result<(), Error> {
        let d = self
            .deployments
            .get(deployment_id)
            .ok_or_else(|| Error::UnknownReference {
                kind: STATUS_EVENT,
                id: deployment_id.to_owned(),
                field: "deployment_id",
                reference: deployment_id.to_owned(),
            })?;
        Ok(verify_status_history(
            self.ctx.policy(),
            &d.anchor,
            &d.history,
        )?)
    }
}

/// The status changes [`DeploymentManager::record_status`] allows: a deployed release may fail
/// or be rolled back, a failed one may be redeployed or rolled back, and a rollback is final.
fn transition_allowed(from: DeploymentStatus, to: DeploymentStatus) -> bool {
    matches!(
        (from, to),
        (
            DeploymentStatus::Deployed,
            DeploymentStatus::Failed | DeploymentStatus::RolledBack
        ) | (
            DeploymentStatus::Failed,
            DeploymentStatus::Deployed | DeploymentStatus::RolledBack
        )
    )
}

pub(crate) fn non_empty(
    kind: &'static str,
    id: &str,
    field: &'static str,
    value: &str,
) -> Result<(), Error> {
    if value.is_empty() {
        Err(Error::Empty {
            kind,
            id: id.to_owned(),
            field,
        })
    } else {
        Ok(())
    }
}

/// Adds the record id to a record-level validation error.
pub(crate) fn with_id(kind: &'static str, id: &str, e: lcm_model::Error) -> Error {
    match e {
        lcm_model::Error::EmptyField { field, .. } => Error::Empty {
            kind,
            id: id.to_owned(),
            field,
        },
        lcm_model::Error::InvalidField {
            field,
            expected,
            actual,
            ..
        } => Error::Model(lcm_model::Error::UnexpectedValue {
            kind,
            id: id.to_owned(),
            field,
            expected: expected.to_owned(),
            actual,
        }),
        other => Error::Model(other),
    }
}

fn object(id: &str, field: &'static str, value: Value) -> Result<Map<String, Value>, Error> {
    match value {
        Value::Object(map) => Ok(map),
        other => Err(Error::Model(lcm_model::Error::UnexpectedValue {
            kind: DEPLOYMENT,
            id: id.to_owned(),
            field,
            expected: "a JSON object".to_owned(),
            actual: json_type(&other).to_owned(),
        })),
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use lcm_model::Error as ModelError;
    use std::sync::Arc;

    use lcm_crypto::{Seed, SeededRandom};
    use lcm_model::records::deployment::ComplianceStatus;
    use lcm_model::{FixedClock, Timestamp};
    use serde_json::json;

    use super::*;
    use lcm_model::verify::verify_claimed_status_history;

    pub(crate) fn ctx() -> Context {
        let policy = Policy {
            kdf_iterations: 100_000,
            ..Policy::default()
        };
        Context::new(
            policy,
            Arc::new(FixedClock::new(
                Timestamp::from_unix_micros(1_767_323_045_678_901),
                1_000,
            )),
            SeededRandom::new(&Seed::from_bytes([7; 32])),
        )
        .unwrap()
    }

    pub(crate) fn request(id: &str) -> PreDeploymentRequest {
        PreDeploymentRequest {
            predeployment_id: id.into(),
            model_anchor: Digest::from_bytes([1; 32]),
            training_snapshot: Digest::from_bytes([2; 32]),
            build_artifact: BuildArtifact {
                artifact_type: "docker".into(),
                artifact_digest: format!("sha256:{}", "ab".repeat(32)),
                build_timestamp: Timestamp::from_unix_micros(1_767_300_000_000_000),
                builder_info: "jenkins-v2.401".into(),
                size_bytes: 500 << 20,
            },
            sbom: Sbom {
                dependencies: BTreeMap::from([
                    ("tensorflow".into(), "2.13.0".into()),
                    ("numpy".into(), "1.24.0".into()),
                ]),
                security_scan_digest: Digest::from_bytes([3; 32]),
                vulnerability_count: 0,
                compliance_status: ComplianceStatus::Passed,
            },
            approval_ticket_id: "TICKET-12345".into(),
            intended_env: "production".into(),
            intended_region: "us-east-1".into(),
            rollout_plan_digest: None,
        }
    }

    /// A manager with `predeploy_001` and `deploy_001`.
    pub(crate) fn deployed() -> DeploymentManager {
        let mut m = DeploymentManager::new(ctx());
        m.create_predeployment_anchor(request("predeploy_001"))
            .unwrap();
        m.create_deployment_anchor(
            "deploy_001",
            "predeploy_001",
            json!({"cluster": "prod-k8s", "namespace": "ai-models", "replicas": 3}),
            json!({"load_balancer": "internal", "security_groups": ["sg-123", "sg-456"]}),
            "devops_alice",
        )
        .unwrap();
        m
    }

    #[test]
    fn predeployment_binds_every_input() {
        let p = ctx().policy().clone();
        let base = DeploymentManager::new(ctx())
            .create_predeployment_anchor(request("pd"))
            .unwrap()
            .digest();
        let mut variants: Vec<PreDeploymentRequest> = Vec::new();
        let mut r = request("pd");
        r.model_anchor = Digest::from_bytes([9; 32]);
        variants.push(r);
        let mut r = request("pd");
        r.training_snapshot = Digest::from_bytes([9; 32]);
        variants.push(r);
        let mut r = request("pd");
        r.build_artifact.size_bytes += 1;
        variants.push(r);
        let mut r = request("pd");
        r.sbom.vulnerability_count = 1;
        variants.push(r);
        let mut r = request("pd");
        r.approval_ticket_id = "TICKET-12346".into();
        variants.push(r);
        let mut r = request("pd");
        r.intended_env = "staging".into();
        variants.push(r);
        let mut r = request("pd");
        r.intended_region = "eu-west-1".into();
        variants.push(r);
        let mut r = request("pd");
        r.rollout_plan_digest = Some(Digest::from_bytes([4; 32]));
        variants.push(r);
        for v in variants {
            let d = DeploymentManager::new(ctx())
                .create_predeployment_anchor(v.clone())
                .unwrap();
            assert_ne!(d.digest(), base, "{v:?}");
            d.to_claimed().verify(&p).unwrap();
        }
    }

    #[test]
    fn predeployment_rejects_bad_input() {
        let mut m = DeploymentManager::new(ctx());
        m.create_predeployment_anchor(request("pd")).unwrap();
        assert!(matches!(
            m.create_predeployment_anchor(request("pd")),
            Err(Error::Model(lcm_model::Error::DuplicateId {
                kind: PREDEPLOYMENT,
                ..
            }))
        ));
        assert!(matches!(
            m.create_predeployment_anchor(request("")),
            Err(Error::Empty {
                field: "predeployment_id",
                ..
            })
        ));
        let mut r = request("a");
        r.build_artifact.artifact_digest = "sha256:abc".into();
        match m.create_predeployment_anchor(r) {
            Err(Error::Model(lcm_model::Error::UnexpectedValue {
                id,
                field: "artifact_digest",
                ..
            })) => assert_eq!(id, "a"),
            other => panic!("{other:?}"),
        }
        let mut r = request("b");
        r.build_artifact.builder_info.clear();
        assert!(matches!(
            m.create_predeployment_anchor(r),
            Err(Error::Empty {
                field: "builder_info",
                ..
            })
        ));
        for field in ["approval_ticket_id", "intended_env", "intended_region"] {
            let mut r = request("c");
            match field {
                "approval_ticket_id" => r.approval_ticket_id.clear(),
                "intended_env" => r.intended_env.clear(),
                _ => r.intended_region.clear(),
            }
            match m.create_predeployment_anchor(r) {
                Err(Error::Empty { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
        let mut r = request("d");
        r.sbom.dependencies.insert(String::new(), "1".into());
        assert!(matches!(
            m.create_predeployment_anchor(r),
            Err(Error::Empty {
                field: "dependencies",
                ..
            })
        ));
        // Nothing failed half-way into the store.
        assert!(m.predeployment("a").is_none() && m.predeployment("c").is_none());
    }

    #[test]
    fn deployment_binds_the_predeployment_digest() {
        let m = deployed();
        let pre = m.predeployment("predeploy_001").unwrap();
        let dep = m.deployment("deploy_001").unwrap();
        assert_eq!(dep.record().predeployment, pre.digest());
        let release = m.release("deploy_001").unwrap();
        assert_eq!(release.model_anchor, Digest::from_bytes([1; 32]));
        assert_eq!(release.deployment, dep.digest());
        assert_eq!(release.status, DeploymentStatus::Deployed);

        // Another pre-deployment gives another deployment digest, all else equal.
        let mut other = DeploymentManager::new(ctx());
        let mut r = request("predeploy_001");
        r.approval_ticket_id = "TICKET-99999".into();
        other.create_predeployment_anchor(r).unwrap();
        let d2 = other
            .create_deployment_anchor(
                "deploy_001",
                "predeploy_001",
                json!({"cluster": "prod-k8s", "namespace": "ai-models", "replicas": 3}),
                json!({"load_balancer": "internal", "security_groups": ["sg-123", "sg-456"]}),
                "devops_alice",
            )
            .unwrap();
        assert_ne!(d2.digest(), dep.digest());
    }

    #[test]
    fn deployment_rejects_bad_input() {
        let mut m = deployed();
        let create = |m: &mut DeploymentManager, id: &str, pre: &str, infra: Value, by: &str| {
            m.create_deployment_anchor(id, pre, infra, json!({}), by)
        };
        assert!(matches!(
            create(&mut m, "deploy_001", "predeploy_001", json!({}), "x"),
            Err(Error::Model(lcm_model::Error::DuplicateId { .. }))
        ));
        match create(&mut m, "d2", "predeploy_404", json!({}), "x") {
            Err(Error::UnknownReference {
                reference,
                field: "predeployment_anchor_ref",
                ..
            }) => {
                assert_eq!(reference, "predeploy_404");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            create(&mut m, "d2", "predeploy_001", json!([1]), "x"),
            Err(Error::Model(lcm_model::Error::UnexpectedValue {
                field: "infrastructure",
                ..
            }))
        ));
        assert!(matches!(
            m.create_deployment_anchor("d2", "predeploy_001", json!({}), json!("x"), "x"),
            Err(Error::Model(lcm_model::Error::UnexpectedValue {
                field: "network_config",
                ..
            }))
        ));
        assert!(matches!(
            create(&mut m, "d2", "predeploy_001", json!({}), ""),
            Err(Error::Empty {
                field: "deployed_by",
                ..
            })
        ));
        assert!(matches!(
            create(&mut m, "", "predeploy_001", json!({}), "x"),
            Err(Error::Empty {
                field: "deployment_id",
                ..
            })
        ));
        assert!(m.deployment("d2").is_none());
    }

    #[test]
    fn status_changes_are_appended_and_checked() {
        let mut m = deployed();
        assert!(matches!(
            m.record_status("deploy_001", DeploymentStatus::Deployed, "again"),
            Err(Error::Model(lcm_model::Error::UnexpectedValue {
                field: "status",
                ..
            }))
        ));
        assert!(matches!(
            m.record_status("deploy_001", DeploymentStatus::Prepared, "back"),
            Err(Error::Model(lcm_model::Error::UnexpectedValue {
                field: "status",
                ..
            }))
        ));
        m.record_status("deploy_001", DeploymentStatus::Failed, "health checks")
            .unwrap();
        m.record_status("deploy_001", DeploymentStatus::Deployed, "retry")
            .unwrap();
        m.record_status("deploy_001", DeploymentStatus::RolledBack, "latency")
            .unwrap();
        assert!(matches!(
            m.record_status("deploy_001", DeploymentStatus::Deployed, "zombie"),
            Err(Error::Model(lcm_model::Error::UnexpectedValue {
                field: "status",
                ..
            }))
        ));
        assert!(matches!(
            m.record_status("nope", DeploymentStatus::Failed, ""),
            Err(Error::UnknownReference { .. })
        ));
        let h = m.status_history("deploy_001").unwrap();
        let statuses: Vec<_> = h.iter().map(|e| e.record().status).collect();
        assert_eq!(
            statuses,
            [
                DeploymentStatus::Deployed,
                DeploymentStatus::Failed,
                DeploymentStatus::Deployed,
                DeploymentStatus::RolledBack
            ]
        );
        assert_eq!(
            m.current_status("deploy_001"),
            Some(DeploymentStatus::RolledBack)
        );
        m.verify_status_history("deploy_001").unwrap();
    }

    fn history() -> (
        Policy,
        Sealed<DeploymentAnchor>,
        Vec<Sealed<DeploymentStatusEvent>>,
    ) {
        let mut m = deployed();
        m.record_status("deploy_001", DeploymentStatus::Failed, "a")
            .unwrap();
        m.record_status("deploy_001", DeploymentStatus::Deployed, "b")
            .unwrap();
        m.record_status("deploy_001", DeploymentStatus::Failed, "c")
            .unwrap();
        let anchor = m.deployment("deploy_001").unwrap().clone();
        let h = m.status_history("deploy_001").unwrap().to_vec();
        (m.policy().clone(), anchor, h)
    }

    #[test]
    fn history_tampering_is_detected() {
        let (p, anchor, h) = history();
        verify_status_history(&p, &anchor, &h).unwrap();
        let anchor = anchor.to_claimed();
        let h: Vec<Claimed<DeploymentStatusEvent>> = h.iter().map(Sealed::to_claimed).collect();
        verify_claimed_status_history(&p, &anchor, &h).unwrap();

        let mut t = h.clone();
        t[2].record.reason = "edited".into();
        assert!(matches!(
            verify_claimed_status_history(&p, &anchor, &t),
            Err(ModelError::SealMismatch {
                kind: STATUS_EVENT,
                ..
            })
        ));
        let mut t = h.clone();
        t.swap(1, 2);
        assert!(matches!(
            verify_claimed_status_history(&p, &anchor, &t),
            Err(ModelError::ChainGap {
                index: 1,
                expected: 1,
                actual: 2,
                ..
            })
        ));
        let mut t = h.clone();
        t.remove(1);
        assert!(matches!(
            verify_claimed_status_history(&p, &anchor, &t),
            Err(ModelError::ChainGap { index: 1, .. })
        ));
        let mut t = h.clone();
        t.insert(2, h[1].clone());
        assert!(matches!(
            verify_claimed_status_history(&p, &anchor, &t),
            Err(ModelError::ChainOrder {
                index: 2,
                expected: 2,
                actual: 1,
                ..
            })
        ));
        // A re-sealed event with the right sequence but a forged link.
        let mut t = h.clone();
        t[2].record.prev_event = Some(Digest::from_bytes([0; 32]));
        t[2] = Sealed::seal(t[2].record.clone(), &p).unwrap().into();
        assert!(matches!(
            verify_claimed_status_history(&p, &anchor, &t),
            Err(ModelError::ChainLink { index: 2, .. })
        ));
        // An event of another deployment.
        let mut t = h.clone();
        t[3].record.deployment = Digest::from_bytes([0; 32]);
        t[3] = Sealed::seal(t[3].record.clone(), &p).unwrap().into();
        assert!(matches!(
            verify_claimed_status_history(&p, &anchor, &t),
            Err(ModelError::UnexpectedValue {
                field: "deployment",
                ..
            })
        ));
        // A history whose first event is not Deployed.
        let mut t = h.clone();
        t[0].record.status = DeploymentStatus::Failed;
        assert!(matches!(
            verify_claimed_status_history(&p, &anchor, &t),
            Err(ModelError::UnexpectedValue {
                field: "status",
                ..
            })
        ));
        assert!(matches!(
            verify_claimed_status_history(&p, &anchor, &[]),
            Err(ModelError::EmptyCollection { .. })
        ));
        let mut a = anchor;
        a.record.deployed_by = "mallory".into();
        assert!(matches!(
            verify_claimed_status_history(&p, &a, &h),
            Err(ModelError::SealMismatch {
                kind: DEPLOYMENT,
                ..
            })
        ));
    }

    #[test]
    fn deterministic_with_fixed_clock_and_seed() {
        let a = deployed();
        let b = deployed();
        assert_eq!(
            a.deployment("deploy_001").unwrap().digest(),
            b.deployment("deploy_001").unwrap().digest()
        );
        assert_eq!(
            a.predeployment("predeploy_001").unwrap().digest(),
            b.predeployment("predeploy_001").unwrap().digest()
        );
    }

    #[test]
    fn domain_restriction_is_honoured() {
        let policy = Policy {
            kdf_iterations: 100_000,
            domains: vec![DomainType::Model],
            ..Policy::default()
        };
        let mut m = DeploymentManager::new(Context::with_policy(policy).unwrap());
        assert!(matches!(
            m.create_predeployment_anchor(request("x")),
            Err(Error::DomainNotAllowed {
                domain: "deployment"
            })
        ));
    }
}
