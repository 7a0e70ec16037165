//! Fuzz target: capsule parsing and verification against the demo header never panic (`lcm_fuzz::capsule_item`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lcm_fuzz::capsule_item(data));
