//! The reference's deployment anchors (`LCMPreDeploymentAnchor`, `LCMDeploymentAnchor`) and
//! their manager.
//!
//! The reference's own `LCMDeploymentManager.create_predeployment_anchor` and
//! `create_deployment_anchor` are each defined twice, and the reachable definitions simulate
//! builds from the host, the wall clock and Python's per-process `hash()`. This manager takes
//! the real inputs of the anchors' constructors instead, which is what a recorded anchor can be
//! recomputed from.

use crate as rules;

use super::upsert_keyed;
use super::{Error, PyciafContext, jobj, jstr};

/// A `BuildArtifact` (not hashed except `artifact_digest`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildArtifact {
    /// `artifact_type`.
    pub artifact_type: String,
    /// `artifact_digest`.
    pub artifact_digest: String,
    /// `build_timestamp`.
    pub build_timestamp: String,
    /// `builder_info`.
    pub builder_info: String,
    /// `size_bytes`.
    pub size_bytes: u64,
}

/// An `SBOM`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sbom {
    /// `dependencies`: name → version.
    pub dependencies: Vec<(String, String)>,
    /// `security_scan_digest`.
    pub security_scan_digest: String,
    /// `vulnerability_count`.
    pub vulnerability_count: i64,
    /// `compliance_status` (the reference's default is `"unknown"`).
    pub compliance_status: String,
}

impl Sbom {
    /// `compute_sbom_digest()`: `canonical_hash({dependencies, security_scan_digest,
    /// vulnerability_count, compliance_status})`.
    ///
    /// # Errors
    ///
    /// A rule's error, which these values never cause.
    pub fn compute_sbom_digest(&self) -> Result<String, Error> {
        let deps: Vec<(&str, String)> = self
            .dependencies
            .iter()
            .map(|(k, v)| (k.as_str(), jstr(v)))
            .collect();
        Ok(rules::canonical_hash(&jobj(&[
            ("dependencies", jobj(&deps)),
            ("security_scan_digest", jstr(&self.security_scan_digest)),
            ("vulnerability_count", self.vulnerability_count.to_string()),
            ("compliance_status", jstr(&self.compliance_status)),
        ]))?)
    }
}

/// The inputs of `LCMPreDeploymentAnchor`.
#[derive(Debug, Clone, Copy)]
pub struct PreDeploymentInputs<'a> {
    /// `predeployment_id`.
    pub predeployment_id: &'a str,
    /// `build_artifact`.
    pub build_artifact: &'a BuildArtifact,
    /// `sbom`.
    pub sbom: &'a Sbom,
    /// `approval_ticket_id`.
    pub approval_ticket_id: &'a str,
    /// `intended_env`.
    pub intended_env: &'a str,
    /// `intended_region`.
    pub intended_region: &'a str,
    /// `rollout_plan_digest` (`"default_rollout"` when `None` or empty).
    pub rollout_plan_digest: Option<&'a str>,
}

/// An `LCMPreDeploymentAnchor` (status `"prepared"`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PreDeploymentAnchor {
    /// `predeployment_id`.
    pub predeployment_id: String,
    /// `build_artifact` (the one entry of `artifacts`).
    pub build_artifact: BuildArtifact,
    /// `sbom`.
    pub sbom: Sbom,
    /// `sbom_digest`.
    pub sbom_digest: String,
    /// `approval_ticket_id`.
    pub approval_ticket_id: String,
    /// `intended_env`.
    pub intended_env: String,
    /// `intended_region`.
    pub intended_region: String,
    /// `rollout_plan_digest`.
    pub rollout_plan_digest: String,
    /// `predeployment_hash` (`intent_digest`).
    pub predeployment_hash: String,
    /// `anchor_id`: `pd_` + 8 hex + `...`.
    pub anchor_id: String,
}

impl PreDeploymentAnchor {
    /// `intent_digest`: the `predeployment_hash`.
    pub fn intent_digest(&self) -> &str {
        &self.predeployment_hash
    }

    /// `status`: always `"prepared"` for a stored anchor.
    pub const fn status(&self) -> &'static str {
        "prepared"
    }
}

/// The optional inputs of `LCMDeploymentAnchor`; each `None` (or empty, which Python treats as
/// absent) takes the reference's default.
#[derive(Debug, Clone, Copy, Default)]
pub struct DeploymentInputs<'a> {
    /// `deployment_time` (default: the clock, as `datetime.now().isoformat()`).
    pub deployment_time: Option<&'a str>,
    /// `deployment_env` (default: the pre-deployment's `intended_env`).
    pub deployment_env: Option<&'a str>,
    /// `location` (default: the pre-deployment's `intended_region`).
    pub location: Option<&'a str>,
    /// `infrastructure_hash` (default `"default_infra"`).
    pub infrastructure_hash: Option<&'a str>,
    /// `config_digest` (default `"default_config"`).
    pub config_digest: Option<&'a str>,
}

/// An `LCMDeploymentAnchor` (status `"deployed"`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeploymentAnchor {
    /// `deployment_id`.
    pub deployment_id: String,
    /// `predeployment_ref`: the pre-deployment's `anchor_id`.
    pub predeployment_ref: String,
    /// The pre-deployment's `predeployment_hash`.
    pub predeployment_hash: String,
    /// `deployment_time`.
    pub deployment_time: String,
    /// `deployment_env` (`actual_environment`).
    pub deployment_env: String,
    /// `location` (`actual_location`).
    pub location: String,
    /// `deployment_commit`: the pre-deployment's artifact digest.
    pub deployment_commit: String,
    /// `infrastructure_hash`.
    pub infrastructure_hash: String,
    /// `config_digest`.
    pub config_digest: String,
    /// `deployment_hash` (it does not include the pre-deployment hash).
    pub deployment_hash: String,
    /// `intent_to_actual_digest` (`actual_digest`).
    pub intent_to_actual_digest: String,
    /// `anchor_id`: `dp_` + 8 hex + `...`.
    pub anchor_id: String,
}

impl DeploymentAnchor {
    /// `status`: always `"deployed"` for a stored anchor.
    pub const fn status(&self) -> &'static str {
        "deployed"
    }
}

fn or_default<'a>(v: Option<&'a str>, default: &'a str) -> &'a str {
    match v {
        Some(s) if !s.is_empty() => s,
        _ => default,
    }
}

/// The deployment stage: pre-deployment anchors by id, and deployments that name one.
#[derive(Debug)]
pub struct DeploymentManager {
    ctx: PyciafContext,
    predeployments: Vec<PreDeploymentAnchor>,
    deployments: Vec<DeploymentAnchor>,
}

impl DeploymentManager {
    /// A manager with no anchors.
    pub fn new(ctx: PyciafContext) -> Self {
        Self {
            ctx,
            predeployments: Vec::new(),
            deployments: Vec::new(),
        }
    }

    /// `LCMPreDeploymentAnchor(...)`: `predeployment_hash = canonical_hash({predeployment_id,
    /// artifact_digest, sbom_digest, approval_ticket_id, intended_env, intended_region,
    /// rollout_plan_digest})`, stored by id (replacing one with the same id).
    ///
    /// # Errors
    ///
    /// A rule's error, which these values never cause.
    pub fn create_predeployment_anchor(
        &mut self,
        inputs: &PreDeploymentInputs<'_>,
    ) -> Result<&PreDeploymentAnchor, Error> {
        let sbom_digest = inputs.sbom.compute_sbom_digest()?;
        let rollout = or_default(inputs.rollout_plan_digest, "default_rollout");
        let predeployment_hash = rules::canonical_hash(&jobj(&[
            ("predeployment_id", jstr(inputs.predeployment_id)),
            (
                "artifact_digest",
                jstr(&inputs.build_artifact.artifact_digest),
            ),
            ("sbom_digest", jstr(&sbom_digest)),
            ("approval_ticket_id", jstr(inputs.approval_ticket_id)),
            ("intended_env", jstr(inputs.intended_env)),
            ("intended_region", jstr(inputs.intended_region)),
            ("rollout_plan_digest", jstr(rollout)),
        ]))?;
        let anchor = PreDeploymentAnchor {
            predeployment_id: inputs.predeployment_id.to_owned(),
            build_artifact: inputs.build_artifact.clone(),
            sbom: inputs.sbom.clone(),
            sbom_digest,
            approval_ticket_id: inputs.approval_ticket_id.to_owned(),
            intended_env: inputs.intended_env.to_owned(),
            intended_region: inputs.intended_region.to_owned(),
            rollout_plan_digest: rollout.to_owned(),
            anchor_id: rules::display_id("pd_", &predeployment_hash),
            predeployment_hash,
        };
        Ok(upsert_keyed(&mut self.predeployments, anchor))
    }

    /// `LCMDeploymentAnchor(deployment_id, predeployment_anchor, ...)` for the stored
    /// pre-deployment `predeployment_id`: `deployment_hash = canonical_hash({deployment_id,
    /// deployment_time, deployment_env, location, deployment_commit (the artifact digest),
    /// infrastructure_hash, config_digest})` and `intent_to_actual_digest =
    /// sha256(predeployment_hash + "||" + deployment_hash)`.
    ///
    /// # Errors
    ///
    /// [`Error::Unknown`] for an unknown pre-deployment.
    pub fn create_deployment_anchor(
        &mut self,
        deployment_id: &str,
        predeployment_id: &str,
        inputs: &DeploymentInputs<'_>,
    ) -> Result<&DeploymentAnchor, Error> {
        let pre = self
            .get_predeployment_anchor(predeployment_id)
            .ok_or_else(|| Error::Unknown {
                kind: "pre-deployment",
                id: predeployment_id.to_owned(),
            })?;
        let now;
        let deployment_time = match inputs.deployment_time {
            Some(t) if !t.is_empty() => t,
            _ => {
                now = self.ctx.now_isoformat();
                &now
            }
        };
        let env = or_default(inputs.deployment_env, &pre.intended_env);
        let location = or_default(inputs.location, &pre.intended_region);
        let infra = or_default(inputs.infrastructure_hash, "default_infra");
        let config = or_default(inputs.config_digest, "default_config");
        let commit = &pre.build_artifact.artifact_digest;
        let deployment_hash = rules::canonical_hash(&jobj(&[
            ("deployment_id", jstr(deployment_id)),
            ("deployment_time", jstr(deployment_time)),
            ("deployment_env", jstr(env)),
            ("location", jstr(location)),
            ("deployment_commit", jstr(commit)),
            ("infrastructure_hash", jstr(infra)),
            ("config_digest", jstr(config)),
        ]))?;
        let anchor = DeploymentAnchor {
            deployment_id: deployment_id.to_owned(),
            predeployment_ref: pre.anchor_id.clone(),
            predeployment_hash: pre.predeployment_hash.clone(),
            deployment_time: deployment_time.to_owned(),
            deployment_env: env.to_owned(),
            location: location.to_owned(),
            deployment_commit: commit.clone(),
            infrastructure_hash: infra.to_owned(),
            config_digest: config.to_owned(),
            intent_to_actual_digest: rules::intent_to_actual_digest(
                &pre.predeployment_hash,
                &deployment_hash,
            ),
            anchor_id: rules::display_id("dp_", &deployment_hash),
            deployment_hash,
        };
        Ok(upsert_keyed(&mut self.deployments, anchor))
    }

    /// `get_predeployment_anchor(id)`.
    pub fn get_predeployment_anchor(&self, predeployment_id: &str) -> Option<&PreDeploymentAnchor> {
        self.predeployments
            .iter()
            .find(|p| p.predeployment_id == predeployment_id)
    }

    /// `get_deployment_anchor(id)`.
    pub fn get_deployment_anchor(&self, deployment_id: &str) -> Option<&DeploymentAnchor> {
        self.deployments
            .iter()
            .find(|d| d.deployment_id == deployment_id)
    }
}
