//! Record and anchor types of `lcm` (filled by the lifecycle issue).
