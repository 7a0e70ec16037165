//! Integration tests of lcm-crypto.
