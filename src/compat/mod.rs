//! Compatibility with systems `lcm` replaces: the re-export of the `lcm-pyciaf` crate, under
//! the path outside checks use (`lcm::compat::pyciaf::canonical_json` and the rest).
//!
//! Today one system: [`pyciaf`], the Python reference (DenzilGreenwood/pyciaf 1.7.0), whose
//! digests are reproduced digit for digit so that its old records can be recomputed and
//! audited. Everything of it lives in one crate, quarantined from the native ones: its rules
//! (at [`pyciaf`]'s root), its policy values ([`pyciaf::policy()`]), its duplicate-last tree
//! ([`pyciaf::tree`]), its managers ([`pyciaf::managers`]) and the typed audit of its headers
//! ([`pyciaf::audit`]).
//!
//! <div class="warning">
//!
//! **Nothing here is secure, and nothing here is used by the native format.** See
//! `docs/COMPAT.md`.
//!
//! </div>
//!
//! # Examples
//!
//! ```
//! use lcm::compat::pyciaf;
//!
//! assert_eq!(pyciaf::canonical_hash("{}")?, "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
//! # Ok::<(), lcm::compat::Error>(())
//! ```
//!
//! The managers, call by call:
//!
//! ```
//! use std::sync::Arc;
//!
//! use lcm::compat::pyciaf::{self, managers::{InferenceManager, InferenceRequest, PyciafContext}};
//! use lcm::crypto::{CommitmentScheme, Seed, SeededRandom};
//! use lcm::model::{FixedClock, Policy};
//!
//! let mut policy = pyciaf::policy();
//! policy.commitments = CommitmentScheme::Plaintext;
//! let clock = Arc::new(FixedClock::new("2026-01-02T03:04:05.678901Z".parse()?, 0));
//! let ctx = PyciafContext::new(policy, clock, SeededRandom::new(&Seed::from_bytes([7; 32])))?;
//!
//! let mut inference = InferenceManager::new(ctx);
//! let r1 = InferenceRequest::new("conn", "r1", "m_c1e87289...", "dp_f8fa14db...", "q1", "hello", "world");
//! let first = inference.perform_inference_with_audit(&r1)?.clone();
//! let second = inference.perform_inference_with_audit(&InferenceRequest { receipt_id: "r2", ..r1 })?.clone();
//! // The chain lives in the connections digest, not in the receipt digest.
//! assert_eq!(
//!     second.connections_digest,
//!     pyciaf::connections_digest(Some(&first.connections_digest), &second.receipt_digest),
//! );
//! let root = inference.create_inference_batch_root("w1", &["conn"])?;
//! assert_eq!(root, pyciaf::batch_root(&[&first.receipt_digest, &second.receipt_digest])?);
//!
//! // Native paths cannot take the profile (its wire form is not a native policy); the
//! // compatibility context refuses everything but the profile.
//! let wire = serde_json::to_value(pyciaf::policy())?;
//! assert!(serde_json::from_value::<Policy>(wire).is_err());
//! assert!(PyciafContext::with_policy(pyciaf::PyciafPolicy { kdf_iterations: 600_000, ..pyciaf::policy() }).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub use lcm_pyciaf as pyciaf;

/// The error of the reference's rules ([`pyciaf::Error`]).
pub use lcm_pyciaf::Error;
