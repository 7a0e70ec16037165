//! `lcm`: verifiable AI lifecycle records. This facade re-exports the member crates.

pub use lcm_capsule as capsule;
pub use lcm_crypto as crypto;
pub use lcm_managers as managers;
pub use lcm_model as model;
