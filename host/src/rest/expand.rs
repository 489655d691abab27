//! Confluence's `expand` parameter: which properties of an object to send
//! in full.
//!
//! Invariant: asking for `a.b` implies `a`; an expansion Cairn does not know
//! (its first segment is no property of any object, or a segment is empty)
//! is ignored, as Confluence ignores it — never an error.

use std::collections::BTreeSet;

/// The requested expansions (`expand=a,b.c`). Asking for `b.c` implies `b`.
#[derive(Debug, Default, Clone)]
pub struct Expand(BTreeSet<String>);

/// First segments an expansion may start with; anything else is ignored.
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
    pub fn parse(s: &str) -> Expand {
        let mut set = BTreeSet::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let first = part.split('.').next().unwrap_or("");
            if !KNOWN.contains(&first) || part.split('.').any(str::is_empty) {
                continue;
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
        Expand(set)
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
    /// What follows `prefix.` in each expansion (`metadata.properties.KEY`
    /// names KEY). A name with dots also yields its prefixes, which only
    /// look up more names.
    pub fn names_under(&self, prefix: &str) -> Vec<String> {
        let p = format!("{prefix}.");
        self.0
            .iter()
            .filter_map(|e| e.strip_prefix(&p).map(str::to_owned))
            .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_expansions_are_ignored_and_prefixes_implied() {
        let e = Expand::parse("bogus,body.storage,version..x,,metadata.properties.a.b");
        assert!(!e.has("bogus") && !e.has("version"));
        assert!(e.has("body") && e.has("body.storage"));
        assert!(e.has("metadata.properties.a"));
        assert_eq!(e.names_under("metadata.properties"), ["a", "a.b"]);
        assert!(!Expand::parse("").has("space"));
    }
}
