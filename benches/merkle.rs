//! Merkle benchmarks.
fn main() {}
