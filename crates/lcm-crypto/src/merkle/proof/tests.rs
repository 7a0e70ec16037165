//! Unit tests of `lcm_crypto::merkle::proof`.

use super::*;

#[test]
fn lengths_at_the_edges_of_u64() {
    assert_eq!(inclusion_len(0, 1), Ok(0));
    assert_eq!(inclusion_len(u64::MAX - 1, u64::MAX), Ok(63));
    assert_eq!(inclusion_len(0, u64::MAX), Ok(64));
    assert_eq!(inclusion_len(0, 0), Err(Error::EmptyTree));
    assert_eq!(
        inclusion_len(u64::MAX, u64::MAX),
        Err(Error::IndexOutOfRange {
            index: u64::MAX,
            size: u64::MAX
        })
    );
    assert_eq!(consistency_len(3, u64::MAX), Ok(MAX_CONSISTENCY_PROOF_LEN));
    for size1 in [1, 2, 3, 5, 1 << 32, (1 << 63) + 1, u64::MAX - 1] {
        for size2 in [size1 + 1, u64::MAX - 1, u64::MAX] {
            if size1 < size2 {
                assert!(consistency_len(size1, size2).unwrap() <= MAX_CONSISTENCY_PROOF_LEN);
            }
        }
    }
    assert_eq!(consistency_len(u64::MAX, u64::MAX), Ok(0));
    assert_eq!(
        consistency_len(0, 5),
        Err(Error::ConsistencySizes { size1: 0, size2: 5 })
    );
}
