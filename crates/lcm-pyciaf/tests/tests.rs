//! Integration tests of `lcm-pyciaf` (one test binary, as in the other crates).

mod tree;
