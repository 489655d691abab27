//! The HTTP layer's shared pieces that are not a screen or a REST resource.
//!
//! Invariant: services never import this module; it only turns what they
//! return into responses.

pub(crate) mod chrome;
pub(crate) mod download;
pub(crate) mod gate;
pub(crate) mod rate_limit;
pub(crate) mod response_cache;
pub(crate) mod status;
pub(crate) mod viewer;
