//! Which lcm document a JSON text is, from its top-level keys.

use serde_json::Value;

/// The kind of an lcm document: what `lcm verify` and the Python binding's `lcm.verify`
/// dispatch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DocumentKind {
    /// A lifecycle bundle (it has a `bundle_version`).
    Bundle,
    /// A receipt capsule (a `capsule_version` and an `item`).
    Capsule,
    /// A capsule header (a `capsule_version` and a `signature`).
    Header,
}

impl DocumentKind {
    /// The kind of the document `value`, from its top-level keys (a key whose value is
    /// `null` counts as present: the typed parser then names it); `None` when it is none of
    /// them.
    ///
    /// This does not panic.
    #[must_use]
    pub fn of(value: &Value) -> Option<Self> {
        let has = |k: &str| value.get(k).is_some();
        if has("bundle_version") {
            Some(Self::Bundle)
        } else if has("capsule_version") && has("item") {
            Some(Self::Capsule)
        } else if has("capsule_version") && has("signature") {
            Some(Self::Header)
        } else {
            None
        }
    }

    /// The kind's name as the tools print it: `bundle`, `capsule` or `header`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Bundle => "bundle",
            Self::Capsule => "capsule",
            Self::Header => "header",
        }
    }
}

/// What a caller says when [`DocumentKind::of`] finds none.
pub const NOT_A_DOCUMENT: &str = "not an lcm header, capsule or bundle (expected a \
                                  bundle_version, or a capsule_version with an item or a \
                                  signature)";

#[cfg(test)]
mod tests;
