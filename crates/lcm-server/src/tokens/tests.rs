//! Tests of tokens.
use super::*;
