//! Unit tests of `lcm_crypto::merkle::hashing`.

use super::*;
use crate::hash;

fn slow_leaf(alg: HashAlgorithm, data: &[u8]) -> [u8; 32] {
    let mut v = vec![LEAF_PREFIX];
    v.extend_from_slice(data);
    hash(alg, &v).to_bytes()
}

#[test]
fn fast_paths_equal_the_plain_hash() {
    for alg in [HashAlgorithm::Sha256, HashAlgorithm::Blake3] {
        for len in [0usize, 1, 31, 32, 33, 53, 54, 55, 56, 63, 64, 65, 119, 200] {
            let data: Vec<u8> = (0..len)
                .map(|i| u8::try_from((i * 7 + len) % 256).unwrap())
                .collect();
            assert_eq!(
                leaf(alg, &data),
                slow_leaf(alg, &data),
                "{alg} leaf len {len}"
            );
        }
        let l = [0x5a; 32];
        let mut r = [0xa5; 32];
        r[31] = 0x17;
        let mut v = vec![NODE_PREFIX];
        v.extend_from_slice(&l);
        v.extend_from_slice(&r);
        assert_eq!(node(alg, &l, &r), hash(alg, &v).to_bytes());
    }
}

#[test]
fn batched_levels_and_leaves_equal_one_at_a_time() {
    for alg in [HashAlgorithm::Sha256, HashAlgorithm::Blake3] {
        // Mixed lengths: 32-byte, short, one-block limit and long leaves, across batches.
        let items: Vec<Vec<u8>> = (0..3 * BATCH + 5)
            .map(|i| vec![u8::try_from(i).unwrap(); [32, 0, 54, 55, 100][i % 5]])
            .collect();
        for n in 0..items.len() {
            let mut dst = vec![[0u8; 32]; n];
            let mut iter = items.iter();
            assert_eq!(leaves_into(alg, &mut dst, &mut iter), n);
            let expected: Vec<Node> = items[..n].iter().map(|l| leaf(alg, l)).collect();
            assert_eq!(dst, expected);
            // The iterator is advanced exactly n times.
            assert_eq!(iter.next(), items.get(n));
            // A short iterator fills a prefix.
            let mut longer = vec![[0u8; 32]; n + 3];
            assert_eq!(leaves_into(alg, &mut longer, &mut items[..n].iter()), n);
            assert_eq!(&longer[..n], expected.as_slice());

            let mut up = vec![[0u8; 32]; n.div_ceil(2)];
            level_into(alg, &expected, &mut up);
            let want: Vec<Node> = expected
                .chunks(2)
                .map(|p| {
                    if let [l, r] = p {
                        node(alg, l, r)
                    } else {
                        p[0]
                    }
                })
                .collect();
            assert_eq!(up, want, "{alg} {n}");
        }
    }
}
