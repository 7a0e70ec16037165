//! Deployment: the check of a rollout history against its deployment anchor.

use lcm_crypto::Digest;

use super::training::Seals;
use super::{check_chain_link, check_seal, check_sequence};
use crate::records::{DeploymentAnchor, DeploymentStatus, DeploymentStatusEvent};
use crate::{Claimed, Error, Policy, Seal, Sealed};

/// The kind names used in error messages.
const DEPLOYMENT: &str = "deployment anchor";
const STATUS_EVENT: &str = "deployment status event";

/// Checks a deployment's rollout history against its anchor: every event names the anchor's
/// digest, sequence numbers count from 0 without gaps or repeats, each event links to the
/// previous event's digest (the first to none), and the first event is
/// [`DeploymentStatus::Deployed`]. The seals are checked already ([`Sealed`]); for records
/// parsed from a document, [`verify_claimed_status_history`] recomputes them as it goes.
///
/// This does not panic.
///
/// # Errors
///
/// [`Error::EmptyCollection`] for an empty history; [`Error::UnexpectedValue`] naming
/// `deployment` for an event of another deployment, or `status` for a first event that is
/// not `Deployed`; [`Error::ChainOrder`], [`Error::ChainGap`] and [`Error::ChainLink`] for
/// reordered, repeated, dropped or foreign events.
pub fn verify_status_history(
    policy: &Policy,
    anchor: &Sealed<DeploymentAnchor>,
    history: &[Sealed<DeploymentStatusEvent>],
) -> Result<(), Error> {
    status_history(policy, anchor, history, Seals::Checked)
}

/// [`verify_status_history`] on records whose seals a document only claims: every event's
/// and the anchor's digest is recomputed, in chain order, before the checks that rely on it.
///
/// This does not panic.
///
/// # Errors
///
/// As [`verify_status_history`], and [`Error::SealMismatch`] for an edited event or anchor.
pub fn verify_claimed_status_history(
    policy: &Policy,
    anchor: &Claimed<DeploymentAnchor>,
    history: &[Claimed<DeploymentStatusEvent>],
) -> Result<(), Error> {
    status_history(policy, anchor, history, Seals::Recompute)
}

fn status_history<A, E>(
    policy: &Policy,
    anchor: &A,
    history: &[E],
    seals: Seals,
) -> Result<(), Error>
where
    A: Seal<Record = DeploymentAnchor>,
    E: Seal<Record = DeploymentStatusEvent>,
{
    let id = &anchor.record().deployment_id;
    if seals == Seals::Recompute {
        check_seal(policy, DEPLOYMENT, id, anchor)?;
    }
    let first = history.first().ok_or_else(|| Error::EmptyCollection {
        kind: DEPLOYMENT,
        id: id.clone(),
        field: "history",
    })?;
    if first.record().status != DeploymentStatus::Deployed {
        return Err(Error::UnexpectedValue {
            kind: STATUS_EVENT,
            id: id.clone(),
            field: "status",
            expected: "deployed as the first event".to_owned(),
            actual: first.record().status.name().to_owned(),
        });
    }
    let mut prev: Option<Digest> = None;
    for (index, event) in (0u64..).zip(history) {
        if seals == Seals::Recompute {
            check_seal(policy, STATUS_EVENT, id, event)?;
        }
        if event.record().deployment != anchor.digest() {
            return Err(Error::UnexpectedValue {
                kind: STATUS_EVENT,
                id: id.clone(),
                field: "deployment",
                expected: anchor.digest().to_string(),
                actual: event.record().deployment.to_string(),
            });
        }
        check_sequence(STATUS_EVENT, id, index, index, event.record().sequence)?;
        check_chain_link(STATUS_EVENT, id, index, prev, event.record().prev_event)?;
        prev = Some(event.digest());
    }
    Ok(())
}

#[cfg(test)]
mod tests;
