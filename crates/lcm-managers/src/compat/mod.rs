//! Manager modes that reproduce the records of systems `lcm` replaces. Today one:
//! [`pyciaf`], the Python reference (DenzilGreenwood/pyciaf 1.7.0).
//!
//! <div class="warning">
//!
//! **Insecure, for reading and reproducing old records only.** Nothing here creates a native
//! record: the types are not [`lcm_model::Record`]s, cannot become `Sealed` values, and native
//! verification refuses the policy they run under. `docs/COMPAT.md` lists the reference's
//! weaknesses rule by rule.
//!
//! </div>

pub mod pyciaf;
