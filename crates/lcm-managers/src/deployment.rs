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

use crate::restore::{adopt, check_seal, new_id, same_digest};
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
        new_id(PREDEPLOYMENT, "predeployment_id", &id, &self.predeployments)?;
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
    /// `create_deployment_anchor`; `predeployment_id` is the pre-deployment it carries out).
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
        new_id(
            DEPLOYMENT,
            "deployment_id",
            deployment_id,
            &self.deployments,
        )?;
        let (pre, _) = self.predeployments.get(predeployment_id).ok_or_else(|| {
            Error::unknown_reference(
                DEPLOYMENT,
                deployment_id,
                "predeployment_id",
                predeployment_id,
            )
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
        let deployment = self.deployments.get_mut(deployment_id).ok_or_else(|| {
            Error::unknown_reference(STATUS_EVENT, deployment_id, "deployment_id", deployment_id)
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
            return Err(Error::unexpected(
                STATUS_EVENT,
                deployment_id.to_owned(),
                "status",
                format!("a change allowed from {}", current.name()),
                status.name().to_owned(),
            ));
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
        let taken = self.predeployments.contains_key(id);
        let anchor = adopt(
            &self.ctx,
            PREDEPLOYMENT,
            "predeployment_id",
            id,
            taken,
            &anchor,
        )?;
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
        same_digest(
            "predeployment anchor sbom_digest",
            id,
            a.sbom_digest,
            sbom_digest,
        )?;
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
    /// [`Error::UnknownReference`] naming `predeployment_id` for a pre-deployment not
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
        let taken = self.deployments.contains_key(id);
        let anchor = adopt(&self.ctx, DEPLOYMENT, "deployment_id", id, taken, &anchor)?;
        let (pre, _) = self
            .predeployments
            .get(&a.predeployment_id)
            .ok_or_else(|| {
                Error::unknown_reference(
                    DEPLOYMENT,
                    id,
                    "predeployment_id",
                    a.predeployment_id.clone(),
                )
            })?;
        if a.predeployment != pre.digest() {
            return Err(Error::unexpected(
                DEPLOYMENT,
                id.to_owned(),
                "predeployment",
                format!(
                    "the digest of predeployment {:?}, {}",
                    a.predeployment_id,
                    pre.digest()
                ),
                a.predeployment.to_string(),
            ));
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
                return Err(Error::unexpected(
                    STATUS_EVENT,
                    format!("{id}/{}", e.sequence),
                    "deployment_id",
                    format!("{id:?}"),
                    format!("{:?}", e.deployment_id),
                ));
            }
            if let Some(from) = previous
                && !transition_allowed(from, e.status)
            {
                return Err(Error::unexpected(
                    STATUS_EVENT,
                    format!("{id}/{}", e.sequence),
                    "status",
                    format!("a change allowed from {}", from.name()),
                    e.status.name().to_owned(),
                ));
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
        let d = self.deployments.get(deployment_id).ok_or_else(|| {
            Error::unknown_reference(STATUS_EVENT, deployment_id, "deployment_id", deployment_id)
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
        } => Error::unexpected(kind, id.to_owned(), field, expected.to_owned(), actual),
        other => Error::Model(other),
    }
}

fn object(id: &str, field: &'static str, value: Value) -> Result<Map<String, Value>, Error> {
    match value {
        Value::Object(map) => Ok(map),
        other => Err(Error::unexpected(
            DEPLOYMENT,
            id.to_owned(),
            field,
            "a JSON object".to_owned(),
            json_type(&other).to_owned(),
        )),
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
pub(crate) mod tests;
