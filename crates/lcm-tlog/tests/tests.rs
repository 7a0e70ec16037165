//! The integration tests of `lcm-tlog`: one binary.

// The C2SP / sumdb note vectors: signing reproduces the notes, verification gives the listed
// results.
mod vectors;
// Notes and keys: the specs' examples, unknown keys, limits, strict parsing.
mod notes;
// Every verifier against one-byte tampering, with the error variant it must give.
mod tamper;
// Witness decisions: extends, same, fork, rollback, missing and invalid proofs.
mod witness;
// Tile-based roots and proofs against lcm_crypto::merkle, with read counts.
mod tiles;
// Mutated notes, proofs and paths never panic.
mod robustness;
// Shared keys and trees.
mod support;
