//! Unit tests of `lcm_crypto::merkle::build`.

use super::*;

#[test]
fn level_lengths() {
    assert!(level_lens(0).is_empty());
    assert_eq!(level_lens(1), [1]);
    assert_eq!(level_lens(5), [5, 3, 2, 1]);
    assert_eq!(level_lens(8), [8, 4, 2, 1]);
}
