//! Capsule headers, lazy materialization and verification (filled by the capsule issue).
