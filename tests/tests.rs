//! The facade's integration tests: one binary, one module per area.

// The committed fuzz seeds and crash inputs, replayed through the fuzz targets' checks.
mod fuzz_artifacts;
// Repository-wide rules (`cargo xtask tidy`).
mod tidy;
// RFC 6962 / RFC 9162 proof vectors (transparency-dev/merkle).
mod rfc6962;
// Lifecycle bundles from the framework facade: offline verification and the tamper suite.
mod capsule;
// Golden vectors of a full deterministic lifecycle (`cargo xtask vectors`).
mod lifecycle_vectors;
// The Python reference's digests (lcm::compat::pyciaf) against its vectors.
mod pyciaf;
