//! Two versions of a page compared as readers see them: blocks added and
//! removed shown rendered, a changed paragraph with its words marked, tables
//! and macros compared as whole blocks (`cairn_render::block_changes`).
//!
//! Invariant: every block is rendered by the same path as a page view (for
//! this viewer, with plugins), so a diff never shows what the page would
//! not; the blocks of both versions are rendered in one pass, split apart
//! again at separators carrying a per-diff nonce no body can forge.

use cairn_render::BlockChange;
use deadpool_postgres::GenericClient;

use super::Presenter;
use crate::content::Content;
use crate::error::{Error, Result};
use crate::perms::Viewer;

/// How many unchanged blocks side-by-side mode keeps around each change.
const CONTEXT: usize = 1;

impl Presenter {
    /// The rendered comparison of `old` and `new` (storage bodies of `c`):
    /// inline (the newer page with changes marked) or side by side (changed
    /// blocks with their context).
    pub(crate) async fn render_diff(
        &self,
        db: &impl GenericClient,
        viewer: &Viewer,
        c: &Content,
        old: &str,
        new: &str,
        side_by_side: bool,
    ) -> Result<String> {
        let (old_blocks, new_blocks) = (
            cairn_render::storage_blocks(old),
            cairn_render::storage_blocks(new),
        );
        let changes = cairn_render::block_changes(&old_blocks, &new_blocks);
        // Render every block once: old ones, then new ones.
        let nonce = format!("{:016x}{:016x}", rand_u64(), rand_u64());
        let separator = format!("<p>cairn-diff-{nonce}</p>");
        let mut body = String::new();
        for b in old_blocks.iter().chain(new_blocks.iter()) {
            body.push_str(b);
            body.push_str(&separator);
        }
        let rendered = self
            .render_source(db, viewer, &c.space_key, Some(c), &body)
            .await?
            .html;
        let parts: Vec<&str> = rendered.split(separator.as_str()).collect();
        if parts.len() != old_blocks.len() + new_blocks.len() + 1 {
            return Err(Error::Internal(format!(
                "rendered diff of content {}: {} parts for {} blocks",
                c.id,
                parts.len(),
                old_blocks.len() + new_blocks.len()
            )));
        }
        let (old_html, new_html) = parts.split_at(old_blocks.len());
        let block = |class: &str, label: &str, html: &str| {
            format!(
                "<div class=\"diff-block {class}\"><span class=\"diff-label\">{label}</span>{html}</div>"
            )
        };
        let mut out = String::new();
        if side_by_side {
            out.push_str("<table class=\"diff diff-rendered\"><thead><tr><th>Older</th><th>Newer</th></tr></thead><tbody>");
            let changed: Vec<bool> = changes
                .iter()
                .map(|ch| !matches!(ch, BlockChange::Same { .. }))
                .collect();
            let near = |i: usize| {
                (i.saturating_sub(CONTEXT)..=(i + CONTEXT).min(changes.len().saturating_sub(1)))
                    .any(|j| changed[j])
            };
            let mut skipped = 0usize;
            for (i, ch) in changes.iter().enumerate() {
                let row = match *ch {
                    BlockChange::Same { old, new } => {
                        if !near(i) {
                            skipped += 1;
                            continue;
                        }
                        format!(
                            "<tr class=\"diff-eq\"><td>{}</td><td>{}</td></tr>",
                            old_html[old], new_html[new]
                        )
                    }
                    BlockChange::Removed(o) => format!(
                        "<tr class=\"diff-change\"><td>{}</td><td></td></tr>",
                        block("diff-removed", "Removed", old_html[o])
                    ),
                    BlockChange::Added(n) => format!(
                        "<tr class=\"diff-change\"><td></td><td>{}</td></tr>",
                        block("diff-added", "Added", new_html[n])
                    ),
                    BlockChange::Changed { old, new } => format!(
                        "<tr class=\"diff-change\"><td>{}</td><td>{}</td></tr>",
                        block("diff-changed", "Changed", old_html[old]),
                        block(
                            "diff-changed",
                            "Changed",
                            &cairn_render::word_diff_html(old_html[old], new_html[new])
                        )
                    ),
                };
                if skipped > 0 {
                    out.push_str(&skipped_row(skipped));
                    skipped = 0;
                }
                out.push_str(&row);
            }
            if skipped > 0 {
                out.push_str(&skipped_row(skipped));
            }
            if !changed.iter().any(|c| *c) {
                out.push_str("<tr><td colspan=\"2\" class=\"muted\">The two versions look the same.</td></tr>");
            }
            out.push_str("</tbody></table>");
        } else {
            out.push_str("<div class=\"diff-rendered wiki-content\">");
            for ch in &changes {
                match *ch {
                    BlockChange::Same { new, .. } => out.push_str(new_html[new]),
                    BlockChange::Removed(o) => {
                        out.push_str(&block("diff-removed", "Removed", old_html[o]))
                    }
                    BlockChange::Added(n) => {
                        out.push_str(&block("diff-added", "Added", new_html[n]))
                    }
                    BlockChange::Changed { old, new } => out.push_str(&block(
                        "diff-changed",
                        "Changed",
                        &cairn_render::word_diff_html(old_html[old], new_html[new]),
                    )),
                }
            }
            out.push_str("</div>");
        }
        Ok(out)
    }
}

fn skipped_row(n: usize) -> String {
    let blocks = if n == 1 { "block" } else { "blocks" };
    format!("<tr class=\"diff-skipped\"><td colspan=\"2\" class=\"muted\">… {n} unchanged {blocks} …</td></tr>")
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish()
}
