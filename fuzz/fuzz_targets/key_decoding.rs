//! Fuzz target: public keys, signatures, key ids, tags, salts and openings decode without
//! panicking and round-trip (`lcm_fuzz::key_decoding`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lcm_fuzz::key_decoding(data));
