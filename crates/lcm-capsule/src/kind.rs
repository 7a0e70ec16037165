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

    /// The kind of the JSON document `text`, from its top-level keys, as [`DocumentKind::of`]
    /// gives it for the parsed document, without building a [`Value`]: one pass over the text
    /// that keeps the top-level key names only (every value is skipped), so a large bundle is
    /// not held twice just to learn its kind.
    ///
    /// # Errors
    ///
    /// The JSON syntax error, as `serde_json` reports it.
    ///
    /// # Examples
    ///
    /// ```
    /// use lcm_capsule::DocumentKind;
    ///
    /// let kind = DocumentKind::of_json(r#"{"capsule_version":"1","item":{"x":[1,2]}}"#)?;
    /// assert_eq!(kind, Some(DocumentKind::Capsule));
    /// assert_eq!(DocumentKind::of_json("[1, 2]")?, None);
    /// assert!(DocumentKind::of_json("{").is_err());
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn of_json(text: &str) -> Result<Option<Self>, serde_json::Error> {
        let keys: TopKeys = serde_json::from_str(text)?;
        Ok(keys.kind())
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

/// The top-level keys [`DocumentKind::of`] looks at, read from JSON text with every value
/// skipped.
#[derive(Debug, Default)]
struct TopKeys {
    bundle_version: bool,
    capsule_version: bool,
    item: bool,
    signature: bool,
}

impl TopKeys {
    fn kind(&self) -> Option<DocumentKind> {
        if self.bundle_version {
            Some(DocumentKind::Bundle)
        } else if self.capsule_version && self.item {
            Some(DocumentKind::Capsule)
        } else if self.capsule_version && self.signature {
            Some(DocumentKind::Header)
        } else {
            None
        }
    }
}

impl<'de> serde::Deserialize<'de> for TopKeys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};

        struct Keys;

        impl<'de> Visitor<'de> for Keys {
            type Value = TopKeys;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON document")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TopKeys, A::Error> {
                let mut keys = TopKeys::default();
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    match key.as_ref() {
                        "bundle_version" => keys.bundle_version = true,
                        "capsule_version" => keys.capsule_version = true,
                        "item" => keys.item = true,
                        "signature" => keys.signature = true,
                        _ => {}
                    }
                    map.next_value::<IgnoredAny>()?;
                }
                Ok(keys)
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TopKeys, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(TopKeys::default())
            }

            fn visit_bool<E>(self, _: bool) -> Result<TopKeys, E> {
                Ok(TopKeys::default())
            }

            fn visit_i64<E>(self, _: i64) -> Result<TopKeys, E> {
                Ok(TopKeys::default())
            }

            fn visit_u64<E>(self, _: u64) -> Result<TopKeys, E> {
                Ok(TopKeys::default())
            }

            fn visit_f64<E>(self, _: f64) -> Result<TopKeys, E> {
                Ok(TopKeys::default())
            }

            fn visit_str<E>(self, _: &str) -> Result<TopKeys, E> {
                Ok(TopKeys::default())
            }

            fn visit_unit<E>(self) -> Result<TopKeys, E> {
                Ok(TopKeys::default())
            }
        }

        d.deserialize_any(Keys)
    }
}

/// What a caller says when [`DocumentKind::of`] finds none.
pub const NOT_A_DOCUMENT: &str = "not an lcm header, capsule or bundle (expected a \
                                  bundle_version, or a capsule_version with an item or a \
                                  signature)";

#[cfg(test)]
mod tests;
