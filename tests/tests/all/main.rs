//! All end-to-end tests in one binary, so linking happens once.

mod migrations;
mod status;
