//! Unit tests of `lcm_model::time`.

use super::*;

#[test]
fn round_trips_across_the_range() {
    for micros in [
        0,
        -1,
        1_767_323_045_678_901,
        951_782_400_000_000, // 2000-02-29
        Timestamp::MIN_MICROS,
        Timestamp::MAX_MICROS,
    ] {
        let t = Timestamp::from_unix_micros(micros);
        let text = t.to_string();
        assert_eq!(text.parse::<Timestamp>().unwrap(), t, "{text}");
    }
    assert_eq!(
        Timestamp::from_unix_micros(-1).to_string(),
        "1969-12-31T23:59:59.999999Z"
    );
    assert_eq!(
        Timestamp::from_unix_micros(951_782_400_000_000).to_string(),
        "2000-02-29T00:00:00.000000Z"
    );
}

#[test]
fn strict_parsing() {
    for bad in [
        "",
        "2026-01-02T03:04:05Z",
        "2026-01-02T03:04:05.678901+00:00",
        "2026-02-29T00:00:00.000000Z",
        "2026-13-01T00:00:00.000000Z",
        "2026-01-02T24:00:00.000000Z",
        "2026-01-02t03:04:05.678901Z",
        "+026-01-02T03:04:05.678901Z",
        "2026-01-02T03:04:05.6789é1Z",
    ] {
        assert!(bad.parse::<Timestamp>().is_err(), "{bad:?}");
    }
}

#[test]
fn fixed_clock_steps() {
    let c = FixedClock::new(Timestamp::from_unix_micros(10), 5);
    assert_eq!(c.now().unix_micros(), 10);
    assert_eq!(c.now().unix_micros(), 15);
}

#[test]
fn rfc3339_input_of_any_precision_and_offset() {
    let canonical = "2026-12-06T18:30:00.000000Z";
    for (input, expected) in [
        ("2026-12-06T18:30:00Z", canonical),
        ("2026-12-06t18:30:00z", canonical),
        ("2026-12-06T18:30:00.0Z", canonical),
        ("2026-12-06T18:30:00.000000000Z", canonical),
        ("2026-12-06T18:30:00+00:00", canonical),
        ("2026-12-06T18:30:00-00:00", canonical),
        ("2026-12-06T20:30:00+02:00", canonical),
        ("2026-12-06T13:00:00-05:30", canonical),
        ("2026-12-06T18:30:00.5Z", "2026-12-06T18:30:00.500000Z"),
        ("2026-12-06T18:30:00.123Z", "2026-12-06T18:30:00.123000Z"),
        ("2026-12-06T18:30:00.123456Z", "2026-12-06T18:30:00.123456Z"),
        // Below a microsecond: dropped, toward the past.
        (
            "2026-12-06T18:30:00.123456789Z",
            "2026-12-06T18:30:00.123456Z",
        ),
        (
            "2026-12-06T18:30:00.9999999Z",
            "2026-12-06T18:30:00.999999Z",
        ),
        // An offset that crosses midnight, the year, and a leap day.
        ("2027-01-01T01:00:00+02:00", "2026-12-31T23:00:00.000000Z"),
        ("2024-02-28T23:30:00-01:00", "2024-02-29T00:30:00.000000Z"),
        ("1969-12-31T23:59:59.999999Z", "1969-12-31T23:59:59.999999Z"),
    ] {
        let t = Timestamp::parse_rfc3339(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(t.to_string(), expected, "{input}");
        // The canonical form is a fixed point of both parsers.
        assert_eq!(Timestamp::parse_rfc3339(expected).unwrap(), t);
        assert_eq!(expected.parse::<Timestamp>().unwrap(), t);
    }
    for bad in [
        "",
        "2026-12-06",
        "2026-12-06T18:30Z",
        "2026-12-06T18:30:00",
        "2026-12-06T18:30:00.Z",
        "2026-12-06T18:30:00.1234567890Z",
        "2026-12-06T18:30:00+02",
        "2026-12-06T18:30:00+0200",
        "2026-12-06T18:30:00+24:00",
        "2026-12-06T18:30:00+02:60",
        "2026-12-06T18:30:60Z",
        "2026-12-06 18:30:00Z",
        "2026-02-29T00:00:00Z",
        "2026-12-06T18:30:00ZZ",
        "2026-12-06T18:30:00.5é",
        "0000-01-01T00:00:00+00:01",
        "9999-12-31T23:59:59-00:01",
        "+026-12-06T18:30:00Z",
    ] {
        assert!(
            matches!(Timestamp::parse_rfc3339(bad), Err(Error::Rfc3339 { .. })),
            "{bad:?}"
        );
    }
}

#[test]
fn deserialize_is_strict_outside_input_files() {
    #[derive(Debug, Deserialize)]
    struct T {
        at: Timestamp,
    }
    let short = r#"{"at":"2026-12-06T18:30:00Z"}"#;
    assert!(serde_json::from_str::<T>(short).is_err());
    let t = Timestamp::accepting_rfc3339(|| serde_json::from_str::<T>(short)).unwrap();
    assert_eq!(t.at.to_string(), "2026-12-06T18:30:00.000000Z");
    // The mode ends with the closure, also when it unwinds.
    assert!(serde_json::from_str::<T>(short).is_err());
    let unwound = std::panic::catch_unwind(|| {
        Timestamp::accepting_rfc3339(|| -> () { panic!("inside") });
    });
    assert!(unwound.is_err());
    assert!(serde_json::from_str::<T>(short).is_err());
    // Nested: the outer mode is kept.
    Timestamp::accepting_rfc3339(|| {
        Timestamp::accepting_rfc3339(|| ());
        assert!(serde_json::from_str::<T>(short).is_ok());
    });
}
