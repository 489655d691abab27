//! What the macros read, behind a trait so the logic is testable natively with a fake.

use std::cell::Cell;

use cairn_plugin_sdk::content::{self, Attachment, ContentSummary, Page};

/// Reads content as the viewer (see the `content` interface of the WIT package).
pub(crate) trait Store {
    fn get(&self, id: i64) -> Option<Page>;
    fn find(&self, space_key: &str, title: &str) -> Option<Page>;
    fn children(&self, id: i64, limit: u32) -> Vec<ContentSummary>;
    fn attachments(&self, id: i64) -> Vec<Attachment>;
    fn labels(&self, id: i64) -> Vec<String>;
    fn with_labels(
        &self,
        labels: &[String],
        space_keys: &[String],
        limit: u32,
    ) -> Vec<ContentSummary>;
    fn recently_updated(
        &self,
        space_keys: &[String],
        types: &[String],
        limit: u32,
    ) -> Vec<ContentSummary>;
}

/// Host calls one render may make before the store answers "nothing" instead of calling
/// (the host traps a plugin past 1000).
const CALL_BUDGET: u32 = 900;

/// The host's `content` capability, with a call budget.
#[derive(Default)]
pub(crate) struct Host {
    calls: Cell<u32>,
}

impl Host {
    fn spend(&self) -> bool {
        let n = self.calls.get() + 1;
        self.calls.set(n);
        n <= CALL_BUDGET
    }
}

impl Store for Host {
    fn get(&self, id: i64) -> Option<Page> {
        if !self.spend() {
            return None;
        }
        content::get(id)
    }
    fn find(&self, space_key: &str, title: &str) -> Option<Page> {
        if !self.spend() {
            return None;
        }
        content::find(space_key, title)
    }
    fn children(&self, id: i64, limit: u32) -> Vec<ContentSummary> {
        if !self.spend() {
            return Vec::new();
        }
        content::children(id, limit)
    }
    fn attachments(&self, id: i64) -> Vec<Attachment> {
        if !self.spend() {
            return Vec::new();
        }
        content::attachments(id)
    }
    fn labels(&self, id: i64) -> Vec<String> {
        if !self.spend() {
            return Vec::new();
        }
        content::labels(id)
    }
    fn with_labels(
        &self,
        labels: &[String],
        space_keys: &[String],
        limit: u32,
    ) -> Vec<ContentSummary> {
        if !self.spend() {
            return Vec::new();
        }
        content::with_labels(labels, space_keys, limit)
    }
    fn recently_updated(
        &self,
        space_keys: &[String],
        types: &[String],
        limit: u32,
    ) -> Vec<ContentSummary> {
        if !self.spend() {
            return Vec::new();
        }
        content::recently_updated(space_keys, types, limit)
    }
}
