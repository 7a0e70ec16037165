//! Unit tests of `lcm_tlog::b64`.

use super::*;

#[test]
fn strict() {
    assert_eq!(decode("x", "AA==").unwrap(), [0]);
    // Non-zero trailing bits, missing padding, whitespace, URL alphabet: all refused.
    for bad in ["AB==", "AA", "AA=", "A A=", "AA==\n", "-_8=", "AAA=A"] {
        assert!(decode("x", bad).is_err(), "{bad:?}");
    }
}
