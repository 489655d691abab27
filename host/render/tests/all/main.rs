//! All integration tests of cairn-render, in one binary so it links once.

mod cases;
mod check;
mod ctx;
mod diff;
mod inert;
mod markdown;
mod references;
mod text;
mod xss;
