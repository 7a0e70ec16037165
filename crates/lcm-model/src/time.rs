//! [`Timestamp`]: an RFC 3339 UTC instant with microsecond precision, and the injectable
//! [`Clock`].
//!
//! Records carry time as text of one fixed shape, `YYYY-MM-DDTHH:MM:SS.ffffffZ`, so that a
//! record's canonical encoding (and therefore its digest) does not depend on the platform's
//! clock formatting. Parsing is strict: only that shape, only `Z` — except for input files
//! read inside [`Timestamp::accepting_rfc3339`], where any RFC 3339 timestamp is accepted
//! ([`Timestamp::parse_rfc3339`]) and then kept in the canonical shape.

use std::cell::Cell;
use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicI64, Ordering};

use serde::{Deserialize, Serialize};

use crate::Error;

const MICROS_PER_SEC: i64 = 1_000_000;
const SECS_PER_DAY: i64 = 86_400;

/// An instant in UTC, in whole microseconds since the Unix epoch.
///
/// # Examples
///
/// ```
/// use lcm_model::Timestamp;
///
/// let t: Timestamp = "2026-01-02T03:04:05.678901Z".parse()?;
/// assert_eq!(t.to_string(), "2026-01-02T03:04:05.678901Z");
/// assert_eq!(Timestamp::from_unix_micros(0).to_string(), "1970-01-01T00:00:00.000000Z");
/// # Ok::<(), lcm_model::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The earliest representable instant, year 0000 (RFC 3339 has four-digit years).
    const MIN_MICROS: i64 = -62_167_219_200 * MICROS_PER_SEC;
    /// The last microsecond of year 9999.
    const MAX_MICROS: i64 = 253_402_300_800 * MICROS_PER_SEC - 1;

    /// The instant `micros` microseconds after 1970-01-01T00:00:00Z, clamped to years
    /// 0000..=9999.
    pub const fn from_unix_micros(micros: i64) -> Self {
        if micros < Self::MIN_MICROS {
            Self(Self::MIN_MICROS)
        } else if micros > Self::MAX_MICROS {
            Self(Self::MAX_MICROS)
        } else {
            Self(micros)
        }
    }

    /// Microseconds since the Unix epoch.
    pub const fn unix_micros(self) -> i64 {
        self.0
    }

    /// The system clock's current time.
    pub fn now() -> Self {
        let micros = match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_micros()).unwrap_or(i64::MAX),
            Err(e) => i64::try_from(e.duration().as_micros()).map_or(i64::MIN, |m| -m),
        };
        Self::from_unix_micros(micros)
    }
}

thread_local! {
    /// Whether [`Timestamp`]'s `Deserialize` accepts any RFC 3339 timestamp on this thread
    /// (inside [`Timestamp::accepting_rfc3339`]).
    static RFC3339_INPUT: Cell<bool> = const { Cell::new(false) };
}

impl Timestamp {
    /// Parses any RFC 3339 timestamp (section 5.6): `YYYY-MM-DDTHH:MM:SS` (`T` or `t`), an
    /// optional fraction of 1 to 9 digits, and `Z`, `z` or an offset `+HH:MM` / `-HH:MM`,
    /// which is applied to give the UTC instant. Digits beyond the sixth (below a
    /// microsecond) are dropped, toward the past. A leap second (`:60`) is refused, as the
    /// canonical form cannot hold it. [`Display`](fmt::Display) always writes the canonical
    /// `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
    ///
    /// # Errors
    ///
    /// [`Error::Rfc3339`] for anything else, or an instant outside years 0000..=9999.
    ///
    /// # Examples
    ///
    /// ```
    /// use lcm_model::Timestamp;
    ///
    /// let t = Timestamp::parse_rfc3339("2026-12-06T20:30:00.5+02:00")?;
    /// assert_eq!(t.to_string(), "2026-12-06T18:30:00.500000Z");
    /// # Ok::<(), lcm_model::Error>(())
    /// ```
    pub fn parse_rfc3339(s: &str) -> Result<Self, Error> {
        let bad = || Error::Rfc3339 {
            input: s.chars().take(64).collect(),
        };
        let b = s.as_bytes();
        let digits = |r: std::ops::Range<usize>| -> Result<i64, Error> {
            let part = b.get(r).ok_or_else(bad)?;
            if !part.iter().all(u8::is_ascii_digit) {
                return Err(bad());
            }
            Ok(part
                .iter()
                .fold(0i64, |acc, &c| acc * 10 + i64::from(c - b'0')))
        };
        let at = |i: usize| b.get(i).copied();
        if at(4) != Some(b'-')
            || at(7) != Some(b'-')
            || !matches!(at(10), Some(b'T' | b't'))
            || at(13) != Some(b':')
            || at(16) != Some(b':')
        {
            return Err(bad());
        }
        let (y, mo, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
        let (h, mi, sec) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
        let mut i = 19;
        let mut micros = 0i64;
        if at(i) == Some(b'.') {
            let start = i + 1;
            let mut end = start;
            while at(end).is_some_and(|c| c.is_ascii_digit()) {
                end += 1;
            }
            let n = end - start;
            if n == 0 || n > 9 {
                return Err(bad());
            }
            // The first six digits, padded: microseconds; the rest are dropped.
            for k in 0..6 {
                let digit = if k < n {
                    digits(start + k..start + k + 1)?
                } else {
                    0
                };
                micros = micros * 10 + digit;
            }
            i = end;
        }
        let offset_secs = match at(i) {
            Some(b'Z' | b'z') if b.len() == i + 1 => 0,
            Some(sign @ (b'+' | b'-')) if b.len() == i + 6 && at(i + 3) == Some(b':') => {
                let (oh, om) = (digits(i + 1..i + 3)?, digits(i + 4..i + 6)?);
                if oh > 23 || om > 59 {
                    return Err(bad());
                }
                let secs = oh * 3600 + om * 60;
                if sign == b'-' { -secs } else { secs }
            }
            _ => return Err(bad()),
        };
        let days = checked_days(y, mo, d, h, mi, sec).ok_or_else(bad)?;
        let local = (days * SECS_PER_DAY + h * 3600 + mi * 60 + sec) * MICROS_PER_SEC + micros;
        let utc = local - offset_secs * MICROS_PER_SEC;
        if !(Self::MIN_MICROS..=Self::MAX_MICROS).contains(&utc) {
            return Err(bad());
        }
        Ok(Self(utc))
    }

    /// Runs `f` with [`Timestamp`]'s `Deserialize` accepting any RFC 3339 timestamp
    /// ([`Timestamp::parse_rfc3339`]) on this thread, for reading input files (lifecycle and
    /// stage files). Everywhere else — records, headers, capsules, bundles — only the
    /// canonical shape is accepted, so a document has one spelling of each instant.
    pub fn accepting_rfc3339<R>(f: impl FnOnce() -> R) -> R {
        lcm_crypto::with_thread_flag(&RFC3339_INPUT, f)
    }

    /// Whether this thread is inside [`Timestamp::accepting_rfc3339`] (for a parser of
    /// records that reads timestamps without `Deserialize` and must then leave them to it).
    pub(crate) fn is_accepting_rfc3339() -> bool {
        RFC3339_INPUT.with(Cell::get)
    }
}

// Days since 1970-01-01 -> (year, month, day); Howard Hinnant's civil_from_days.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

// (year, month, day) -> days since 1970-01-01; Howard Hinnant's days_from_civil.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let d = i64::from(d);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The days since 1970-01-01 of the date `y-mo-d`, when it is a real date and `h:mi:sec` a
/// time of day (no leap second); `None` otherwise.
fn checked_days(y: i64, mo: i64, d: i64, h: i64, mi: i64, sec: i64) -> Option<i64> {
    let mo = u32::try_from(mo).ok()?;
    let d = u32::try_from(d).ok()?;
    let date = (1..=12).contains(&mo) && d != 0 && d <= days_in_month(y, mo);
    (date && h <= 23 && mi <= 59 && sec <= 59).then(|| days_from_civil(y, mo, d))
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.div_euclid(MICROS_PER_SEC);
        let micros = self.0.rem_euclid(MICROS_PER_SEC);
        let days = secs.div_euclid(SECS_PER_DAY);
        let sod = secs.rem_euclid(SECS_PER_DAY);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z",
            sod / 3600,
            (sod / 60) % 60,
            sod % 60
        )
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

impl FromStr for Timestamp {
    type Err = Error;

    /// Parses exactly `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = || Error::Timestamp {
            input: s.chars().take(64).collect(),
        };
        let b = s.as_bytes();
        if b.len() != 27
            || b[4] != b'-'
            || b[7] != b'-'
            || b[10] != b'T'
            || b[13] != b':'
            || b[16] != b':'
            || b[19] != b'.'
            || b[26] != b'Z'
        {
            return Err(bad());
        }
        let num = |r: std::ops::Range<usize>| -> Result<i64, Error> {
            let part = &b[r];
            if !part.iter().all(u8::is_ascii_digit) {
                return Err(bad());
            }
            Ok(part
                .iter()
                .fold(0i64, |acc, &c| acc * 10 + i64::from(c - b'0')))
        };
        let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (h, mi, sec, us) = (num(11..13)?, num(14..16)?, num(17..19)?, num(20..26)?);
        let days = checked_days(y, mo, d, h, mi, sec).ok_or_else(bad)?;
        Ok(Self(
            ((days * SECS_PER_DAY + h * 3600 + mi * 60 + sec) * MICROS_PER_SEC) + us,
        ))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        if RFC3339_INPUT.with(Cell::get) {
            Self::parse_rfc3339(&s).map_err(serde::de::Error::custom)
        } else {
            s.parse().map_err(serde::de::Error::custom)
        }
    }
}

/// A source of time, injected into the managers so that runs can be reproduced.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A deterministic clock for tests and reproducible runs: starts at a fixed instant and
/// advances by a fixed step on every reading.
#[derive(Debug)]
pub struct FixedClock {
    next: AtomicI64,
    step_micros: i64,
}

impl FixedClock {
    /// A clock whose first reading is `start` and each later one `step_micros` later.
    pub fn new(start: Timestamp, step_micros: i64) -> Self {
        Self {
            next: AtomicI64::new(start.unix_micros()),
            step_micros,
        }
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_unix_micros(self.next.fetch_add(self.step_micros, Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests;
