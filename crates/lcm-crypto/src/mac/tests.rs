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
            assert_eq!(
                HmacSha256::mac_once(key, &[a, b, c]),
                reference(key, msg),
                "key {key_len} msg {len} in three parts, key used once"
            );
        }
    }
}

/// RFC 2104's key schedule in front of the crate's one-block `KeyInit::new` is the crate's
/// `new_from_slice` for every key length from empty to a hashed 200 bytes, around the message
/// lengths where the padding takes one more block.
#[test]
fn key_schedule_matches_new_from_slice_for_every_key_length() {
    let data = pattern(29, 5);
    for key_len in 0..=200 {
        let key = &data[..key_len];
        let h = HmacSha256::new(key);
        for len in [0usize, 1, 31, 51, 55, 56, 63, 64, 65, 119, 120, 200] {
            let msg = &data[100..100 + len];
            let expected = reference(key, msg);
            assert_eq!(h.mac_parts(&[msg]), expected, "key {key_len} msg {len}");
            assert_eq!(
                HmacSha256::mac_once(key, &[msg]),
                expected,
                "key {key_len} msg {len}, key used once"
            );
        }
    }
}

/// Tamper twins of the key schedule: one byte of the key changed, anywhere in it, or one byte
/// more or less (hashed keys, over 64 bytes, and the boundary at 64), changes the MAC.
#[test]
fn every_key_byte_and_the_key_length_count() {
    let data = pattern(31, 7);
    let msg = b"lcm commitment hmac and 32 bytes of data....";
    for key_len in [1usize, 32, 63, 64, 65, 100] {
        let key = &data[..key_len];
        let tag = HmacSha256::new(key).mac_parts(&[msg]);
        for i in 0..key_len {
            let mut tampered = key.to_vec();
            tampered[i] ^= 0x01;
            assert_ne!(
                HmacSha256::new(&tampered).mac_parts(&[msg]),
                tag,
                "key {key_len} byte {i}"
            );
        }
        // A non-zero byte more, or the last byte dropped (`data` has no zero byte at these
        // positions; a trailing zero byte is the one change RFC 2104's padding cannot see).
        assert_ne!(
            HmacSha256::mac_once(&data[..=key_len], &[msg]),
            tag,
            "key {key_len} + 1"
        );
        assert_ne!(
            HmacSha256::mac_once(&data[..key_len - 1], &[msg]),
            tag,
            "key {key_len} - 1"
        );
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

/// The SHA-256 block states inside the crate's `HmacCore<Sha256>` zeroize themselves on drop
/// only with the `zeroize` features of `sha2` and `hmac`, and the message buffer of
/// [`finish`] only with `hmac`'s (through `digest` and `block-buffer`); `lcm-crypto`'s
/// manifest turns them on, and this fails to compile without them.
#[test]
fn hmac_state_zeroizes_on_drop() {
    fn zeroizes_on_drop<T: ZeroizeOnDrop>() {}
    zeroizes_on_drop::<sha2::block_api::Sha256VarCore>();
    zeroizes_on_drop::<<sha2::Sha256 as hmac::EagerHash>::Core>();
    zeroizes_on_drop::<Buffer<Core>>();
}

#[test]
fn debug_is_redacted() {
    let key = MacKey::new(HashAlgorithm::Sha256, &[0xaa; 32]).unwrap();
    assert_eq!(format!("{key:?}"), "MacKey { .. }");
}
