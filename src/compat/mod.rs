//! Compatibility with systems `lcm` replaces: the re-export of [`lcm_model::compat`], under the
//! path outside checks use (`lcm::compat::pyciaf::canonical_json` and the rest).
//!
//! Today one system: [`pyciaf`], the Python reference (DenzilGreenwood/pyciaf 1.7.0), whose
//! digests are reproduced digit for digit so that its old records can be recomputed and
//! audited. The code lives in `lcm-model`, the crate that owns every wire format.
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

pub use lcm_model::compat::pyciaf;
pub use lcm_model::compat::pyciaf::Error;
