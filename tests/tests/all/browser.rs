//! The UI in headless Chromium driven over WebDriver (`cairn_tests::browser`):
//! writing (editing), every main screen at two sizes (screens), and the mouse
//! and the keyboard (interaction), the rich-text editor (rich_editor), its
//! popovers and task tools (in_place) and comment boxes (rich_comments).

use std::time::Duration;

use cairn_tests::browser::Driver;
use cairn_tests::TestNode;
use serde_json::{json, Value};

mod editing;
mod in_place;
mod interaction;
mod living;
mod rich_comments;
mod rich_editor;
mod screens;
