//! Confluence's `expand` parameter: which properties of an object to send
//! in full.
//!
//! Invariant: asking for `a.b` implies `a`; an expansion whose first segment
//! is not a known property is a 400 that names it, before anything is read.

use std::collections::BTreeSet;

use crate::error::{Error, Result};

/// The requested expansions (`expand=a,b.c`). Asking for `b.c` implies `b`.
#[derive(Debug, Default, Clone)]
pub struct Expand(BTreeSet<String>);

/// First segments an expansion may start with; anything else is a 400.
const KNOWN: &[&str] = &[
    "body",
    "version",
    "space",
    "ancestors",
    "history",
    "children",
    "descendants",
    "container",
    "metadata",
    "restrictions",
    "operations",
    "extensions",
    "childTypes",
    "description",
    "homepage",
    "icon",
    "permissions",
    "settings",
    "theme",
    "lookAndFeel",
    "status",
    "labels",
    "page",
    "comment",
    "attachment",
    "blogpost",
    "content",
    "likes",
];

impl Expand {
    pub fn parse(s: &str) -> Result<Expand> {
        let mut set = BTreeSet::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let first = part.split('.').next().unwrap_or("");
            if !KNOWN.contains(&first) || part.split('.').any(str::is_empty) {
                return Err(Error::BadRequest(format!(
                    "unknown expansion {part:?}; expandable properties include body.storage, body.view, version, space, ancestors, history, children.page, container, metadata.labels"
                )));
            }
            let mut prefix = String::new();
            for seg in part.split('.') {
                if !prefix.is_empty() {
                    prefix.push('.');
                }
                prefix.push_str(seg);
                set.insert(prefix.clone());
            }
        }
        Ok(Expand(set))
    }
    pub fn has(&self, k: &str) -> bool {
        self.0.contains(k)
    }
    /// The top-level rendered representations asked for (body.view,
    /// body.export_view, body.styled_view), and whether any rendering is
    /// asked for below the top level (e.g. children.page.body.view).
    pub fn renders(&self) -> (bool, bool) {
        const TOP: [&str; 3] = ["body.view", "body.export_view", "body.styled_view"];
        let top = TOP.iter().any(|t| self.0.contains(*t));
        let nested = self
            .0
            .iter()
            .any(|e| e.ends_with("view") && !TOP.contains(&e.as_str()));
        (top, nested)
    }
    /// These expansions but those starting with `prefix`.
    pub fn without(&self, prefix: &str) -> Expand {
        Expand(
            self.0
                .iter()
                .filter(|e| !e.starts_with(prefix))
                .cloned()
                .collect(),
        )
    }
    /// The expansions below `prefix.` (for nested objects).
    pub fn sub(&self, prefix: &str) -> Expand {
        let p = format!("{prefix}.");
        Expand(
            self.0
                .iter()
                .filter_map(|e| e.strip_prefix(&p).map(str::to_owned))
                .collect(),
        )
    }
}
