//! Fuzz target: header parsing, verification and policy checks never panic (`lcm_fuzz::capsule_header`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lcm_fuzz::capsule_header(data));
