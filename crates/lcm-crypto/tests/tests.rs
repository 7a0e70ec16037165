//! Integration tests of lcm-crypto.

// Known answers from RFCs, FIPS 180-4, the BLAKE3 team and RFC 8032.
mod kat;
// MAC keys, the password KDF, randomness and Ed25519 keys.
mod keys;
// Openable commitments.
mod commit;
// Merkle trees, proofs and the accumulator.
mod merkle;
// Shared proptest strategies.
mod strategies;
