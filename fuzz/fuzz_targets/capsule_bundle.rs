//! Fuzz target: bundle parsing and verification never panic (`lcm_fuzz::capsule_bundle`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lcm_fuzz::capsule_bundle(data));
