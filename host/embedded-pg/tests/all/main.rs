//! Integration tests against real PostgreSQL binaries, in one test binary so it links once.

mod errors;
mod lifecycle;
mod support;
