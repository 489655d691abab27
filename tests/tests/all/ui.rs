//! The web UI's behaviour without a browser (the browser side is in
//! `browser`): the frame and its errors, the administration, how content
//! reads.

use cairn_tests::TestNode;
use serde_json::Value;

mod admin;
mod content;
mod forms;
mod frame;
mod spaces;
mod templates;
