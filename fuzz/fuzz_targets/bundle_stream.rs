//! Fuzz target: the streamed bundle verifier agrees with the in-memory one
//! (`lcm_fuzz::bundle_stream`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lcm_fuzz::bundle_stream(data));
