//! Lifecycle managers of `lcm` (filled by the lifecycle issue).
