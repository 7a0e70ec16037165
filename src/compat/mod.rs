//! Compatibility with systems `lcm` replaces: the re-export of [`lcm_model::compat`], under the
//! path outside checks use (`lcm::compat::pyciaf::canonical_json` and the rest).
//!
//! Today one system: [`pyciaf`], the Python reference (DenzilGreenwood/pyciaf 1.7.0), whose
//! digests are reproduced digit for digit so that its old records can be recomputed and
//! audited. The code lives in `lcm-model`, the crate that owns every wire format; the manager
//! mode that drives those rules call by call, as the reference's managers do, lives in
//! `lcm-managers` and is re-exported as [`pyciaf::managers`].
//!
//! <div class="warning">
//!
//! **Nothing here is secure, and nothing here is used by the native format.** See
//! `docs/COMPAT.md` and [`lcm_model::Policy::pyciaf_compat`].
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

pub mod pyciaf {
    //! The Python reference's rules ([`lcm_model::compat::pyciaf`], every item re-exported
    //! here) and its managers ([`managers`], which is
    //! [`lcm_managers::compat::pyciaf`]).
    //!
    //! <div class="warning">
    //!
    //! **Insecure, for reading and reproducing old records only.** The managers run only
    //! under [`lcm_model::Policy::pyciaf_compat`], which every native path refuses.
    //!
    //! </div>
    //!
    //! # Examples
    //!
    //! ```
    //! use std::sync::Arc;
    //!
    //! use lcm::compat::pyciaf::{self, managers::{InferenceManager, InferenceRequest, PyciafContext}};
    //! use lcm::crypto::{CommitmentScheme, Seed, SeededRandom};
    //! use lcm::model::{FixedClock, Policy};
    //!
    //! let mut policy = Policy::pyciaf_compat();
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
    //! // Native paths refuse the profile; the compatibility context refuses everything else.
    //! assert!(lcm::managers::Context::with_policy(Policy::pyciaf_compat()).is_err());
    //! assert!(PyciafContext::with_policy(Policy::default()).is_err());
    //! # Ok::<(), Box<dyn std::error::Error>>(())
    //! ```

    pub use lcm_managers::compat::pyciaf as managers;
    pub use lcm_model::compat::pyciaf::*;
}

pub use lcm_model::compat::pyciaf::Error;
