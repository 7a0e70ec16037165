//! Fuzz target: hex and digest parsing never panic and round-trip (`lcm_fuzz::digest_hex`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lcm_fuzz::digest_hex(data));
