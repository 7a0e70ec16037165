//! Compatibility with the Python reference, DenzilGreenwood/pyciaf 1.7.0, quarantined from the
//! native `lcm` crates.
//!
//! <div class="warning">
//!
//! **Nothing here is secure, and nothing here is used by the native format.** The reference
//! truncates digests, throws salts away, has no Merkle domain separation and derives keys from
//! weak defaults; `docs/COMPAT.md` compares it with the native format rule by rule. Use this
//! crate to read and check old records, never to make new ones.
//!
//! </div>
//!
//! Everything the reference does differently lives here, and only here:
//!
//! - the rules (at the crate root): the reference's canonical JSON, commitments, anchors and
//!   per-record digests, described below;
//! - [`tree`]: the reference's duplicate-last Merkle tree (insecure on purpose);
//! - [`PyciafPolicy`] and [`policy()`]: the reference's values of the specification's policy
//!   fields (its canonicalization, its Merkle construction), which the native
//!   [`lcm_model::Policy`] cannot express, so no native path can run under them;
//! - [`managers`]: the reference's managers, call by call, under a
//!   [`managers::PyciafContext`];
//! - [`audit`]: the typed audit of the reference's capsule header that `lcm compat audit`
//!   prints.
//!
//! # The rules
//!
//! The reference's digests, byte for byte (as described in the project's
//! `research/ciaf-reference.md`; vectors in `tests/vectors/pyciaf/`).
//!
//! Functions that take data take **standard JSON text** and read it as Python's `json.loads`
//! does (plus `NaN`, `Infinity` and `-Infinity`, which `json.loads` also accepts): integers of
//! any size stay exact, a number with a fraction or an exponent is a Python `float`, object keys
//! keep their order for [`commitment`]'s `"plaintext"` kind. They then write it as the reference
//! does:
//!
//! - [`canonical_json`]: `json.dumps(x, sort_keys=True, separators=(",", ":"))` with Python's
//!   defaults `ensure_ascii=True` (lowercase `\uXXXX`, surrogate pairs above the BMP) and
//!   `allow_nan=True`, keys in code-point order, floats as Python's `repr` (`1e-05`, `100.0`);
//! - [`commitment`]: `create_commitment` (`str()` of the data, or a 64-bit tag over
//!   `json.dumps(x, sort_keys=True)` with the *default* separators `", "` and `": "`);
//! - [`merkle_root`]: the duplicate-last tree over raw leaves ([`crate::tree`]);
//! - [`master_anchor`] and [`hmac_anchor`]: PBKDF2-HMAC-SHA256 at 100,000 iterations and
//!   HMAC-SHA256 over the **hex text** of a digest;
//! - the per-record rules of the reference's section 3: [`split_assignment_digest`],
//!   [`family_anchor`], [`split_anchor`], [`dataset_hash`], [`model_digests`],
//!   [`training_session_root`], [`test_metrics_digest`], [`release_root`],
//!   [`receipt_digest`], [`connections_digest`], [`batch_root`], [`sample_hash`],
//!   [`intent_to_actual_digest`] and [`policy_digest`], plus [`display_id`] for the truncated
//!   ids the reference puts in its records.
//!
//! Digests come back as lowercase hex text, as the reference writes them.
//!
//! # Examples
//!
//! ```
//! use lcm_pyciaf as pyciaf;
//!
//! assert_eq!(pyciaf::canonical_json(r#"{"b": 1e-5, "a": "café"}"#)?, r#"{"a":"caf\u00e9","b":1e-05}"#);
//! // The reference's tree: three leaves and the same three with the last doubled collide.
//! let (a, b, c) = ("aa".repeat(32), "bb".repeat(32), "cc".repeat(32));
//! assert_eq!(
//!     pyciaf::merkle_root(&[&a, &b, &c])?,
//!     pyciaf::merkle_root(&[&a, &b, &c, &c])?,
//! );
//! # Ok::<(), pyciaf::Error>(())
//! ```

mod profile;

pub mod header;
mod rules;

pub mod audit;
pub mod managers;
pub mod tree;

pub use crate::profile::{PyciafCanonicalization, PyciafMerkle, PyciafPolicy, policy};
pub use crate::rules::*;
