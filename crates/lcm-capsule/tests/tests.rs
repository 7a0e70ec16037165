//! Integration tests of `lcm-capsule`: one binary, one module per area.

// Shared fixtures: a small receipt chain made with real commitments, a signed header.
mod fixtures;
// Headers: signing, strict JSON, policy requirements.
mod header;
// Materialized capsules: proofs, neighbours, disclosure, tampering.
mod capsule;
// Progress reports of bundle verification.
mod progress;
