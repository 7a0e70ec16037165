//! Unit tests of `lcm_managers::deployment`.

use lcm_model::Error as ModelError;
use std::sync::Arc;

use lcm_crypto::{Seed, SeededRandom};
use lcm_model::records::deployment::ComplianceStatus;
use lcm_model::{FixedClock, Timestamp};
use serde_json::json;

use super::*;
use crate::test_support::{chain_fault, empty_field, only, unexpected_value, unknown_reference};
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
    deploy(&mut m).unwrap();
    m
}

/// Deploys `predeploy_001` as `deploy_001` on the production cluster.
fn deploy(m: &mut DeploymentManager) -> Result<Sealed<DeploymentAnchor>, Error> {
    m.create_deployment_anchor(
        "deploy_001",
        "predeploy_001",
        json!({"cluster": "prod-k8s", "namespace": "ai-models", "replicas": 3}),
        json!({"load_balancer": "internal", "security_groups": ["sg-123", "sg-456"]}),
        "devops_alice",
    )
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
    assert_matches!(
        m.create_predeployment_anchor(request("pd")),
        Err(Error::Model(lcm_model::Error::DuplicateId {
            kind: PREDEPLOYMENT,
            ..
        }))
    );
    empty_field(
        m.create_predeployment_anchor(request("")),
        "predeployment_id",
    );
    let mut r = request("a");
    r.build_artifact.artifact_digest = "sha256:abc".into();
    let (id, _) = unexpected_value(m.create_predeployment_anchor(r), "artifact_digest");
    assert_eq!(id, "a");
    let mut r = request("b");
    r.build_artifact.builder_info.clear();
    empty_field(m.create_predeployment_anchor(r), "builder_info");
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
    empty_field(m.create_predeployment_anchor(r), "dependencies");
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
    let d2 = deploy(&mut other).unwrap();
    assert_ne!(d2.digest(), dep.digest());
}

#[test]
fn deployment_rejects_bad_input() {
    let mut m = deployed();
    let create = |m: &mut DeploymentManager, id: &str, pre: &str, infra: Value, by: &str| {
        m.create_deployment_anchor(id, pre, infra, json!({}), by)
    };
    assert_matches!(
        create(&mut m, "deploy_001", "predeploy_001", json!({}), "x"),
        Err(Error::Model(lcm_model::Error::DuplicateId { .. }))
    );
    let (_, reference) = unknown_reference(
        create(&mut m, "d2", "predeploy_404", json!({}), "x"),
        "predeployment_id",
    );
    assert_eq!(reference, "predeploy_404");
    unexpected_value(
        create(&mut m, "d2", "predeploy_001", json!([1]), "x"),
        "infrastructure",
    );
    unexpected_value(
        m.create_deployment_anchor("d2", "predeploy_001", json!({}), json!("x"), "x"),
        "network_config",
    );
    empty_field(
        create(&mut m, "d2", "predeploy_001", json!({}), ""),
        "deployed_by",
    );
    empty_field(
        create(&mut m, "", "predeploy_001", json!({}), "x"),
        "deployment_id",
    );
    assert!(m.deployment("d2").is_none());
}

#[test]
fn status_changes_are_appended_and_checked() {
    let mut m = deployed();
    unexpected_value(
        m.record_status("deploy_001", DeploymentStatus::Deployed, "again"),
        "status",
    );
    unexpected_value(
        m.record_status("deploy_001", DeploymentStatus::Prepared, "back"),
        "status",
    );
    record_statuses(
        &mut m,
        &[
            (DeploymentStatus::Failed, "health checks"),
            (DeploymentStatus::Deployed, "retry"),
            (DeploymentStatus::RolledBack, "latency"),
        ],
    );
    unexpected_value(
        m.record_status("deploy_001", DeploymentStatus::Deployed, "zombie"),
        "status",
    );
    assert_matches!(
        m.record_status("nope", DeploymentStatus::Failed, ""),
        Err(Error::UnknownReference { .. })
    );
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

/// Records each `(status, reason)` of `deploy_001` in turn; each must be accepted.
fn record_statuses(m: &mut DeploymentManager, events: &[(DeploymentStatus, &str)]) {
    for &(status, reason) in events {
        m.record_status("deploy_001", status, reason)
            .expect("an allowed transition");
    }
}

fn history() -> (
    Policy,
    Sealed<DeploymentAnchor>,
    Vec<Sealed<DeploymentStatusEvent>>,
) {
    let mut m = deployed();
    record_statuses(
        &mut m,
        &[
            (DeploymentStatus::Failed, "a"),
            (DeploymentStatus::Deployed, "b"),
            (DeploymentStatus::Failed, "c"),
        ],
    );
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
    assert_matches!(
        verify_claimed_status_history(&p, &anchor, &t),
        Err(ModelError::SealMismatch {
            kind: STATUS_EVENT,
            ..
        })
    );
    let mut t = h.clone();
    t.swap(1, 2);
    assert_eq!(
        chain_fault(verify_claimed_status_history(&p, &anchor, &t)),
        ("gap", 1, 1, 2)
    );
    let mut t = h.clone();
    t.remove(1);
    assert_matches!(
        verify_claimed_status_history(&p, &anchor, &t),
        Err(ModelError::ChainGap { index: 1, .. })
    );
    let mut t = h.clone();
    t.insert(2, h[1].clone());
    assert_eq!(
        chain_fault(verify_claimed_status_history(&p, &anchor, &t)),
        ("order", 2, 2, 1)
    );
    // A re-sealed event with the right sequence but a forged link.
    let mut t = h.clone();
    t[2].record.prev_event = Some(Digest::from_bytes([0; 32]));
    t[2] = Sealed::seal(t[2].record.clone(), &p).unwrap().into();
    assert_matches!(
        verify_claimed_status_history(&p, &anchor, &t),
        Err(ModelError::ChainLink { index: 2, .. })
    );
    // An event of another deployment.
    let mut t = h.clone();
    t[3].record.deployment = Digest::from_bytes([0; 32]);
    t[3] = Sealed::seal(t[3].record.clone(), &p).unwrap().into();
    unexpected_value(verify_claimed_status_history(&p, &anchor, &t), "deployment");
    // A history whose first event is not Deployed.
    let mut t = h.clone();
    t[0].record.status = DeploymentStatus::Failed;
    unexpected_value(verify_claimed_status_history(&p, &anchor, &t), "status");
    assert_matches!(
        verify_claimed_status_history(&p, &anchor, &[]),
        Err(ModelError::EmptyCollection { .. })
    );
    let mut a = anchor;
    a.record.deployed_by = "mallory".into();
    assert_matches!(
        verify_claimed_status_history(&p, &a, &h),
        Err(ModelError::SealMismatch {
            kind: DEPLOYMENT,
            ..
        })
    );
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
    let policy = only(&[DomainType::Model]);
    let mut m = DeploymentManager::new(Context::with_policy(policy).unwrap());
    assert_matches!(
        m.create_predeployment_anchor(request("x")),
        Err(Error::DomainNotAllowed {
            domain: "deployment"
        })
    );
}
