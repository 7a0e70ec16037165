//! [`Digest`]: a full 32-byte hash value, compared in constant time.

use std::cell::Cell;
use std::fmt;
use std::str::FromStr;
use std::thread::LocalKey;

use subtle::ConstantTimeEq;

use crate::{Error, hex};

/// A 32-byte hash output (SHA-256 or BLAKE3).
///
/// `lcm` never truncates digests: references between records carry all 32 bytes, and a
/// shortened form exists only for display ([`Digest::short`]). The text form is 64 lowercase
/// hex characters, and it is the only text form [`Digest::from_hex`] accepts.
///
/// # Examples
///
/// ```
/// use lcm_crypto::Digest;
///
/// let d = Digest::from_bytes([0xab; 32]);
/// let text = d.to_string();
/// assert_eq!(text.len(), 64);
/// assert_eq!(text.parse::<Digest>()?, d);
/// # Ok::<(), lcm_crypto::Error>(())
/// ```
#[derive(Clone, Copy)]
pub struct Digest([u8; 32]);

impl Digest {
    /// The 32 bytes, by value.
    pub const fn to_bytes(self) -> [u8; 32] {
        self.0
    }

    /// Writes the 64 hex characters into `out` without allocating.
    pub fn write_hex(&self, out: &mut [u8; 64]) {
        for (pair, &b) in out.chunks_exact_mut(2).zip(&self.0) {
            pair[0] = b"0123456789abcdef"[usize::from(b >> 4)];
            pair[1] = b"0123456789abcdef"[usize::from(b & 0x0f)];
        }
    }

    /// The first 12 hex characters, **for display only**: never use it as a reference.
    pub fn short(&self) -> String {
        hex::encode(&self.0[..6])
    }

    /// Constant-time comparison, as a [`subtle::Choice`].
    pub fn ct_eq(&self, other: &Self) -> subtle::Choice {
        ct_eq_32(&self.0, &other.0)
    }
}

thread_local! {
    /// Whether [`Digest`]'s `Deserialize` accepts the input notation on this thread (inside
    /// [`Digest::accepting_input`]).
    static INPUT_NOTATION: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with the thread-local `flag` set, then restores its previous value, also when `f`
/// unwinds. The input modes of [`Digest::accepting_input`] and of the model's timestamps are
/// such flags: a deserializer reads them to accept an input file's looser notation.
///
/// Shared with `lcm-model` (its timestamps' input mode); not part of the crypto API.
#[doc(hidden)]
pub fn with_thread_flag<R>(flag: &'static LocalKey<Cell<bool>>, f: impl FnOnce() -> R) -> R {
    /// Restores the previous value.
    struct Restore(&'static LocalKey<Cell<bool>>, bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            self.0.with(|c| c.set(self.1));
        }
    }
    let _restore = Restore(flag, flag.with(|c| c.replace(true)));
    f()
}

impl Digest {
    /// The algorithm prefixes an input file's digest may carry (`sha256:<64 hex>`): the two
    /// hashes of `lcm`, whose digests are both 32 bytes.
    pub const INPUT_PREFIXES: &'static [&'static str] = &["sha256", "blake3"];

    /// Parses a digest as input files may write it: 64 lowercase hex characters, alone or
    /// after `sha256:` or `blake3:`. Any other prefix, length or character is refused, saying
    /// what was expected. (The prefix names the hash that made the digest; the digest's
    /// meaning is fixed by the field it fills.)
    ///
    /// # Examples
    ///
    /// ```
    /// use lcm_crypto::Digest;
    ///
    /// let hex = "ab".repeat(32);
    /// let bare = Digest::parse_input(&hex)?;
    /// assert_eq!(Digest::parse_input(&format!("sha256:{hex}"))?, bare);
    /// assert_eq!(Digest::parse_input(&format!("blake3:{hex}"))?, bare);
    /// assert!(Digest::parse_input(&format!("md5:{hex}")).is_err());
    /// assert!(Digest::parse_input(&format!("SHA256:{hex}")).is_err());
    /// # Ok::<(), lcm_crypto::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InputDigest`] naming what is wrong.
    pub fn parse_input(s: &str) -> Result<Self, Error> {
        let bad = |reason: String| Error::InputDigest { reason };
        let hex = match s.split_once(':') {
            Some((prefix, hex)) if Self::INPUT_PREFIXES.contains(&prefix) => hex,
            Some((prefix, _)) => {
                let shown: String = prefix.chars().take(16).collect();
                return Err(bad(format!("got the prefix {shown:?}")));
            }
            None => s,
        };
        Self::from_hex(hex).map_err(|e| {
            bad(match e {
                Error::HexLength { actual, .. } => {
                    format!("got {actual} characters after any prefix")
                }
                other => format!("got {other}"),
            })
        })
    }

    /// Runs `f` with [`Digest`]'s `Deserialize` accepting the input notation
    /// ([`Digest::parse_input`]) on this thread, for reading input files. Everywhere else —
    /// records, headers, capsules, bundles — only the 64 lowercase hex characters are
    /// accepted, so a document has one spelling of each digest.
    pub fn accepting_input<R>(f: impl FnOnce() -> R) -> R {
        with_thread_flag(&INPUT_NOTATION, f)
    }

    /// Whether this thread is inside [`Digest::accepting_input`] (for other types of an
    /// input file that hold a digest in another form).
    pub fn is_accepting_input() -> bool {
        INPUT_NOTATION.with(Cell::get)
    }
}

/// Constant-time equality of two 32-byte values (digests, MAC tags, commitment values).
///
/// The bytes are XOR-folded into one word without branches, and only that word goes through
/// `subtle`'s optimization barrier. That is as constant-time as `subtle`'s slice comparison,
/// which passes every byte through the barrier and costs ~30 ns: a visible share of a
/// commitment check or of the digest comparisons in a streamed batch of receipts.
pub(crate) fn ct_eq_32(a: &[u8; 32], b: &[u8; 32]) -> subtle::Choice {
    let (a_words, _) = a.as_chunks::<8>();
    let (b_words, _) = b.as_chunks::<8>();
    let mut acc = 0u64;
    for (x, y) in a_words.iter().zip(b_words) {
        acc |= u64::from_ne_bytes(*x) ^ u64::from_ne_bytes(*y);
    }
    std::hint::black_box(acc).ct_eq(&0)
}

/// This implementation is constant-time.
impl PartialEq for Digest {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for Digest {}

impl std::hash::Hash for Digest {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

/// Byte-wise order, for sorted collections. Not constant-time: do not use it to compare
/// secrets.
impl PartialOrd for Digest {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Byte-wise order, for sorted collections. Not constant-time.
impl Ord for Digest {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.cmp(&other.0)
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 64];
        self.write_hex(&mut buf);
        // The buffer holds only ASCII hex digits.
        f.write_str(std::str::from_utf8(&buf).map_err(|_| fmt::Error)?)
    }
}

debug_as_display!(Digest);

impl FromStr for Digest {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Self::from_hex(s)
    }
}

impl From<[u8; 32]> for Digest {
    fn from(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            let mut buf = [0u8; 64];
            self.write_hex(&mut buf);
            s.serialize_str(std::str::from_utf8(&buf).map_err(serde::ser::Error::custom)?)
        } else {
            s.serialize_bytes(&self.0)
        }
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Digest;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("64 lowercase hex characters or 32 bytes")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Digest, E> {
                if Digest::is_accepting_input() {
                    Digest::parse_input(v).map_err(E::custom)
                } else {
                    Digest::from_hex(v).map_err(E::custom)
                }
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Digest, E> {
                Digest::try_from_slice(v).map_err(E::custom)
            }
        }
        if d.is_human_readable() {
            d.deserialize_str(Visitor)
        } else {
            d.deserialize_bytes(Visitor)
        }
    }
}

/// Implements the text forms of a public byte-array type that has `to_hex` and `from_hex`:
/// `Display` as lowercase hex, `Debug` as `Type(<hex>)`, `FromStr`, and with the `serde`
/// feature `Serialize`/`Deserialize` as the hex string. ([`Digest`] writes its own forms
/// without allocating, and as bytes for binary formats.)
///
/// `hex_text_forms!(@text T)` gives the text forms alone, for a type whose `serde` form is its
/// own (a `serde(transparent)` digest keeps the digest's binary form).
///
/// `hex_text_forms!(@bytes T, L, "what", N)` gives the byte accessors of a `T([u8; L])` (`LEN`,
/// `from_bytes`, `as_bytes`, `try_from_slice`, whose length error names `what`) and its hex
/// methods. `hex_text_forms!(@hex T, N)` gives the `from_hex` and `to_hex` of a `T([u8; _])` whose hex
/// form is `N` characters; `hex_text_forms!(@array T, N)` gives those and every text form.
macro_rules! hex_text_forms {
    (@hex $ty:ident, $hex_len:literal) => {
        impl $ty {
            #[doc = concat!("Parses exactly ", $hex_len, " lowercase hex characters.")]
            ///
            /// # Errors
            ///
            /// [`Error::HexLength`](crate::Error::HexLength) for any other length,
            /// [`Error::HexCharacter`](crate::Error::HexCharacter) for a character outside
            /// `0-9a-f`.
            pub fn from_hex(s: &str) -> Result<Self, $crate::Error> {
                $crate::hex::decode_array(s).map(Self)
            }

            #[doc = concat!("The ", $hex_len, "-character lowercase hex form (the same as `to_string()`).")]
            pub fn to_hex(&self) -> String {
                $crate::hex::encode(&self.0)
            }
        }
    };
    (@bytes $ty:ident, $len:literal, $what:literal, $hex_len:literal) => {
        impl $ty {
            #[doc = concat!("The length of ", $what, " in bytes.")]
            pub const LEN: usize = $len;

            #[doc = concat!("Wraps ", $len, " bytes.")]
            pub const fn from_bytes(bytes: [u8; $len]) -> Self {
                Self(bytes)
            }

            #[doc = concat!("The ", $len, " bytes.")]
            pub const fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }

            #[doc = concat!("Parses a slice that must be exactly ", $len, " bytes long.")]
            ///
            /// # Errors
            ///
            /// [`Error::Length`](crate::Error::Length) for any other length.
            pub fn try_from_slice(bytes: &[u8]) -> Result<Self, $crate::Error> {
                $crate::error::fixed($what, bytes).map(Self)
            }
        }
        $crate::digest::hex_text_forms!(@hex $ty, $hex_len);
    };
    (@array $ty:ident, $hex_len:literal) => {
        $crate::digest::hex_text_forms!(@hex $ty, $hex_len);
        $crate::digest::hex_text_forms!($ty);
    };
    (@text $ty:ident) => {
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.to_hex())
            }
        }

        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, concat!(stringify!($ty), "({})"), self.to_hex())
            }
        }

        impl std::str::FromStr for $ty {
            type Err = $crate::Error;

            fn from_str(s: &str) -> Result<Self, $crate::Error> {
                Self::from_hex(s)
            }
        }
    };
    ($ty:ident) => {
        $crate::digest::hex_text_forms!(@text $ty);

        #[cfg(feature = "serde")]
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.to_hex())
            }
        }

        #[cfg(feature = "serde")]
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::from_hex(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use hex_text_forms;

hex_text_forms!(@bytes Digest, 32, "a digest", 64);

/// `Debug` as `Type(<Display>)`, for a type whose text form is safe to show.
macro_rules! debug_as_display {
    ($ty:ident) => {
        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, concat!(stringify!($ty), "({})"), self)
            }
        }
    };
}
pub(crate) use debug_as_display;

#[cfg(test)]
mod tests;
