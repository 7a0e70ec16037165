//! Fuzz target: Merkle consistency verification never panics, and verifies what the tree
//! proves (`lcm_fuzz::merkle_consistency`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lcm_fuzz::merkle_consistency(data));
