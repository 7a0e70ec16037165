//! Unit tests of `lcm_crypto::mac`.

use hmac::{KeyInit, Mac};
use sha2::Digest as _;

use super::*;

/// 300 bytes `b * mul + add` for `b` cycling through `0..=255`.
fn pattern(mul: u8, add: u8) -> Vec<u8> {
    (0..=255u8)
        .cycle()
        .map(|b| b.wrapping_mul(mul).wrapping_add(add))
        .take(300)
        .collect()
}

fn reference(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    m.update(msg);
    m.finalize().into_bytes().into()
}

#[test]
fn sha256_finish_matches_sha2_on_all_lengths() {
    let data = pattern(7, 3);
    for len in 0..data.len() {
        let expected: [u8; 32] = sha2::Sha256::digest(&data[..len]).into();
        assert_eq!(sha256_finish(IV, 0, &[&data[..len]]), expected, "len {len}");
        // The same message split into three parts at arbitrary points.
        let (a, rest) = data[..len].split_at(len / 3);
        let (b, c) = rest.split_at(rest.len() / 2);
        assert_eq!(
            sha256_finish(IV, 0, &[a, b, c]),
            expected,
            "split len {len}"
        );
    }
}

/// The parts of a message are the message: every key length around the block size, every
/// message length up to 300 bytes, whole and split in three.
#[test]
fn hmac_parts_match_the_hmac_crate() {
    let data = pattern(13, 1);
    for key_len in [1usize, 16, 32, 63, 64, 65, 100, 131, 200] {
        let key = &data[..key_len];
        let h = HmacSha256::new(key);
        for len in 0..data.len() {
            let msg = &data[..len];
            assert_eq!(
                h.mac_parts(&[msg]),
                reference(key, msg),
                "key {key_len} msg {len}"
            );
            let (a, rest) = msg.split_at(len / 3);
            let (b, c) = rest.split_at(rest.len() / 2);
            assert_eq!(
                h.mac_parts(&[a, b, c]),
                reference(key, msg),
                "key {key_len} msg {len} in three parts"
            );
        }
    }
}

#[test]
fn ct_eq_32_sees_every_bit() {
    let a = [0x3cu8; 32];
    assert!(ct_eq_32(&a, &a));
    for bit in 0..256 {
        let mut b = a;
        b[bit / 8] ^= 1 << (bit % 8);
        assert!(!ct_eq_32(&a, &b), "bit {bit}");
    }
}

/// The SHA-256 block state inside `hmac::Hmac<Sha256>` zeroizes itself on drop only with
/// the `zeroize` feature of `sha2`, which `lcm-crypto`'s manifest turns on; this fails to
/// compile without it.
#[test]
fn hmac_state_zeroizes_on_drop() {
    fn zeroizes_on_drop<T: ZeroizeOnDrop>() {}
    zeroizes_on_drop::<sha2::block_api::Sha256VarCore>();
}

#[test]
fn debug_is_redacted() {
    let key = MacKey::new(HashAlgorithm::Sha256, &[0xaa; 32]).unwrap();
    assert_eq!(format!("{key:?}"), "MacKey { .. }");
}
