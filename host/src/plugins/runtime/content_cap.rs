//! Capability `content`: reads as the call's viewer (`queries.rs`), and
//! other pages rendered for includes.
//!
//! Invariant: every read goes through [`HostState::read`], so it is counted,
//! bounded by the call's deadline and recorded for the output cache; an
//! included page marks the call unreplayable.

use super::bindings::cairn::plugin::content::{Attachment, ContentSummary, Host, Page};
use super::reads::Read;
use super::HostState;

fn lower_all(v: &[String]) -> Vec<String> {
    v.iter()
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
        .collect()
}

fn upper_all(v: &[String]) -> Vec<String> {
    v.iter()
        .map(|s| s.trim().to_uppercase())
        .filter(|s| !s.is_empty())
        .collect()
}

impl HostState {
    fn render_included(
        &mut self,
        id: i64,
        excerpt: Option<String>,
    ) -> wasmtime::Result<Result<String, String>> {
        self.tick()?;
        // The included page's render is not a read the cache can make again.
        self.env.unreplayable();
        let (Some(host), Some(handle)) = (self.env.render_host.clone(), self.env.handle.clone())
        else {
            return Ok(Err("pages cannot be rendered here".into()));
        };
        Ok(host.render_page(&handle, &self.env.viewer, id, excerpt.as_deref()))
    }
}

impl Host for HostState {
    fn get(&mut self, id: i64) -> wasmtime::Result<Option<Page>> {
        self.read(Read::Get(id))
    }

    fn find(&mut self, space_key: String, title: String) -> wasmtime::Result<Option<Page>> {
        self.read(Read::Find(space_key, title))
    }

    fn children(&mut self, id: i64, limit: u32) -> wasmtime::Result<Vec<ContentSummary>> {
        self.read(Read::Children(id, limit))
    }

    fn attachments(&mut self, id: i64) -> wasmtime::Result<Vec<Attachment>> {
        self.read(Read::Attachments(id))
    }

    fn labels(&mut self, id: i64) -> wasmtime::Result<Vec<String>> {
        self.read(Read::Labels(id))
    }

    fn with_labels(
        &mut self,
        labels: Vec<String>,
        space_keys: Vec<String>,
        limit: u32,
    ) -> wasmtime::Result<Vec<ContentSummary>> {
        let labels = lower_all(&labels);
        if labels.is_empty() {
            self.tick()?;
            return Ok(Vec::new());
        }
        self.read(Read::WithLabels(labels, upper_all(&space_keys), limit))
    }

    fn render_page(&mut self, id: i64) -> wasmtime::Result<Result<String, String>> {
        self.render_included(id, None)
    }

    fn render_excerpt(
        &mut self,
        id: i64,
        name: String,
    ) -> wasmtime::Result<Result<String, String>> {
        self.render_included(id, Some(name))
    }

    fn recently_updated(
        &mut self,
        space_keys: Vec<String>,
        types: Vec<String>,
        limit: u32,
    ) -> wasmtime::Result<Vec<ContentSummary>> {
        let mut types = lower_all(&types);
        types.retain(|t| matches!(t.as_str(), "page" | "blogpost" | "comment"));
        if types.is_empty() {
            types = vec!["page".into(), "blogpost".into(), "comment".into()];
        }
        self.read(Read::RecentlyUpdated(upper_all(&space_keys), types, limit))
    }
}
