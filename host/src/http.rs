//! The HTTP layer's shared pieces that are not a screen or a REST resource.
//!
//! Invariant: services never import this module; it only turns what they
//! return into responses.

pub mod chrome;
pub mod download;
pub mod gate;
pub mod rate_limit;
pub mod response_cache;
pub mod status;
pub mod viewer;
