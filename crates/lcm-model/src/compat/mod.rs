//! Compatibility with systems `lcm` replaces. Today one: [`pyciaf`], the Python reference
//! (DenzilGreenwood/pyciaf 1.7.0), reproduced digit for digit so that its old records can be
//! recomputed and audited.
//!
//! <div class="warning">
//!
//! **Nothing here is secure, and nothing here is used by the native format.** The reference
//! truncates digests, throws salts away, has no Merkle domain separation and derives keys from
//! weak defaults; `docs/COMPAT.md` compares it with the native format rule by rule. Use these
//! functions to read and check old records, never to make new ones.
//!
//! </div>

pub mod pyciaf;
