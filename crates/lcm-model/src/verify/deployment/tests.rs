//! Unit tests of `lcm_model::verify::deployment`.

use serde_json::Map;

use super::*;
use crate::Timestamp;
use crate::test_support::chain_fault;

fn anchor(p: &Policy) -> Sealed<DeploymentAnchor> {
    let record = DeploymentAnchor {
        deployment_id: "deploy_001".into(),
        predeployment_id: "predeploy_001".into(),
        predeployment: Digest::from_bytes([1; 32]),
        infrastructure: Map::new(),
        network_config: Map::new(),
        deployed_by: "alice".into(),
        deployed_at: Timestamp::from_unix_micros(0),
    };
    Sealed::seal(record, p).unwrap()
}

/// A history of `statuses`, correctly chained to `anchor`.
fn history(
    p: &Policy,
    anchor: &Sealed<DeploymentAnchor>,
    statuses: &[DeploymentStatus],
) -> Vec<Sealed<DeploymentStatusEvent>> {
    let mut out: Vec<Sealed<DeploymentStatusEvent>> = Vec::new();
    for (sequence, status) in (0u64..).zip(statuses) {
        let record = DeploymentStatusEvent {
            deployment_id: anchor.record().deployment_id.clone(),
            deployment: anchor.digest(),
            sequence,
            status: *status,
            reason: format!("step {sequence}"),
            at: Timestamp::from_unix_micros(i64::try_from(sequence).unwrap()),
            prev_event: out.last().map(Sealed::digest),
        };
        out.push(Sealed::seal(record, p).unwrap());
    }
    out
}

#[test]
fn history_tamper_twins() {
    use DeploymentStatus::{Deployed, Failed, RolledBack};
    let p = Policy::default();
    let sealed_anchor = anchor(&p);
    let a = sealed_anchor.clone();
    let sealed = history(&p, &a, &[Deployed, Failed, Deployed, RolledBack]);
    verify_status_history(&p, &a, &sealed).unwrap();
    let (a, h) = (a.to_claimed(), claimed(&sealed));
    verify_claimed_status_history(&p, &a, &h).unwrap();

    let mut t = h.clone();
    t[2].record.reason = "edited".into();
    let e = verify_claimed_status_history(&p, &a, &t);
    assert_matches!(
        e,
        Err(Error::SealMismatch {
            kind: STATUS_EVENT,
            ..
        })
    );
    let mut t = h.clone();
    t.swap(1, 2);
    let e = verify_claimed_status_history(&p, &a, &t);
    assert_eq!(chain_fault(e), ("gap", 1, 1, 2));
    let mut t = h.clone();
    t.insert(2, h[1].clone());
    let e = verify_claimed_status_history(&p, &a, &t);
    assert_eq!(chain_fault(e), ("order", 2, 2, 1));
    let mut t = h.clone();
    t[2].record.prev_event = Some(Digest::from_bytes([0; 32]));
    reseal(&p, &mut t[2]);
    let e = verify_claimed_status_history(&p, &a, &t);
    assert_matches!(e, Err(Error::ChainLink { index: 2, .. }));
    let mut t = h.clone();
    t[3].record.deployment = Digest::from_bytes([0; 32]);
    reseal(&p, &mut t[3]);
    let e = verify_claimed_status_history(&p, &a, &t);
    assert_matches!(
        e,
        Err(Error::UnexpectedValue {
            field: "deployment",
            ..
        })
    );
    let t = claimed(&history(&p, &sealed_anchor, &[Failed, Deployed]));
    let e = verify_claimed_status_history(&p, &a, &t);
    assert_matches!(
        e,
        Err(Error::UnexpectedValue {
            field: "status",
            ..
        })
    );
    let e = verify_claimed_status_history(&p, &a, &[]);
    assert_matches!(
        e,
        Err(Error::EmptyCollection {
            field: "history",
            ..
        })
    );
    let mut edited = a;
    edited.record.deployed_by = "mallory".into();
    let e = verify_claimed_status_history(&p, &edited, &h);
    assert_matches!(
        e,
        Err(Error::SealMismatch {
            kind: DEPLOYMENT,
            ..
        })
    );
}

/// With the seals checked, every other tampering fails as it does when they are
/// recomputed from the claimed records.
#[test]
fn checked_seals_twin() {
    use DeploymentStatus::{Deployed, Failed, RolledBack};
    let p = Policy::default();
    let a = anchor(&p);
    let h = claimed(&history(&p, &a, &[Deployed, Failed, Deployed, RolledBack]));
    let mut cases = Vec::new();
    let mut t = h.clone();
    t.swap(1, 2);
    cases.push(t);
    let mut t = h.clone();
    t.insert(2, h[1].clone());
    cases.push(t);
    let mut t = h.clone();
    t[2].record.prev_event = Some(Digest::from_bytes([0; 32]));
    reseal(&p, &mut t[2]);
    cases.push(t);
    let mut t = h;
    t[3].record.deployment = Digest::from_bytes([0; 32]);
    reseal(&p, &mut t[3]);
    cases.push(t);
    cases.push(claimed(&history(&p, &a, &[Failed, Deployed])));
    cases.push(Vec::new());
    for t in &cases {
        let full = verify_claimed_status_history(&p, &a.to_claimed(), t);
        assert!(full.is_err());
        let sealed: Vec<_> = t.iter().map(|c| c.check_ref(&p).unwrap()).collect();
        assert_eq!(
            format!("{:?}", verify_status_history(&p, &a, &sealed)),
            format!("{full:?}")
        );
    }
}

fn claimed<T: Clone>(sealed: &[Sealed<T>]) -> Vec<Claimed<T>> {
    sealed.iter().map(Sealed::to_claimed).collect()
}

/// Recomputes a tampered record's digest, as a forger would.
fn reseal<T: crate::Record>(p: &Policy, c: &mut Claimed<T>) {
    c.digest = c.record.digest(p).unwrap();
}
