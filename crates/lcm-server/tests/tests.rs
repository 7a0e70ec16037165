//! Integration tests of `lcm-server`: one binary, one module per area.

// The service end to end in process: appends, tokens, idempotency, limits, reads, TLS,
// OpenAPI.
mod service;
