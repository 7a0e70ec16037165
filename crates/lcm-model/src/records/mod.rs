//! The record types of the lifecycle, one module per stage.
