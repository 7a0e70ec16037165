//! Primitive benchmarks.
fn main() {}
