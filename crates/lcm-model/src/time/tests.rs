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
