//! The specification's process-wide default policy (`get_default_policy()` and
//! `set_default_policy()`), a convenience of the facade.
//!
//! The library crates never read it: every manager, verifier and store takes its policy
//! explicitly. Callers who want one default for a process keep it here and pass it in, for
//! example with `lcm::managers::Context::with_policy(lcm::get_default_policy())`;
//! [`crate::framework::Project::new`] does so.

use std::sync::RwLock;

use lcm_model::{Error, Policy};

static DEFAULT_POLICY: RwLock<Option<Policy>> = RwLock::new(None);

/// The process-wide default policy (the specification's `get_default_policy()`):
/// [`Policy::default`] until [`set_default_policy`] replaces it.
///
/// # Examples
///
/// ```
/// assert_eq!(lcm::get_default_policy(), lcm::model::Policy::default());
/// ```
pub fn get_default_policy() -> Policy {
    match DEFAULT_POLICY.read() {
        Ok(guard) => guard.clone().unwrap_or_default(),
        // A writer panicked while holding the lock; the stored value is still a whole Policy.
        Err(poisoned) => poisoned.into_inner().clone().unwrap_or_default(),
    }
}

/// [`get_default_policy`] under its earlier Rust name.
pub fn default_policy() -> Policy {
    get_default_policy()
}

/// Replaces the process-wide default policy (the specification's `set_default_policy()`).
/// [`crate::framework::Project::new`] and callers who read [`get_default_policy`] use it
/// afterwards.
///
/// # Errors
///
/// As [`Policy::validate`]: an unusable policy is refused and the default is unchanged.
pub fn set_default_policy(policy: Policy) -> Result<(), Error> {
    policy.validate()?;
    let mut guard = match DEFAULT_POLICY.write() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
    *guard = Some(policy);
    Ok(())
}
