//! Unit tests of `lcm_crypto::merkle::tree`.

use super::*;

#[test]
fn split_points() {
    assert_eq!(split(2), 1);
    assert_eq!(split(3), 2);
    assert_eq!(split(4), 2);
    assert_eq!(split(5), 4);
    assert_eq!(split(8), 4);
    assert_eq!(split(9), 8);
    assert_eq!(split(1025), 1024);
}

#[test]
fn lying_size_hints_do_not_change_the_root() {
    // An iterator that claims 3 items but yields 5, and one that claims 5 but yields 3.
    struct Liar(std::vec::IntoIter<Vec<u8>>, usize);
    let liar = |v: &[Vec<u8>], n| Liar(Vec::from(v).into_iter(), n);
    impl Iterator for Liar {
        type Item = Vec<u8>;
        fn next(&mut self) -> Option<Vec<u8>> {
            self.0.next()
        }
        fn size_hint(&self) -> (usize, Option<usize>) {
            (self.1, Some(self.1))
        }
    }
    let leaves: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i; 3]).collect();
    let honest = MerkleTree::from_leaves(&leaves);
    assert_eq!(MerkleTree::from_leaves(liar(&leaves, 3)), honest);
    let three = MerkleTree::from_leaves(&leaves[..3]);
    assert_eq!(MerkleTree::from_leaves(liar(&leaves[..3], 5)), three);
}
