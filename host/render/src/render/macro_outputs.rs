//! Macro output kept apart from the page until the page is sanitized.
//! Invariant: a marker is only ever written where content goes, and its nonce
//! never leaves the renderer, so no input can forge one.

/// Macro output, sanitized on its own, kept out of the page until the page has been
/// sanitized: the page holds a marker instead (an unguessable per-render nonce and an
/// index), so the output is parsed and sanitized once, not twice. The marker only ever
/// stands where content goes (markup built around a macro — a heading's text, a link
/// body, another macro's body — gets the output itself), and no one outside the
/// renderer sees the nonce, so no input can forge one into an attribute.
pub(crate) struct MacroOutputs {
    pub(super) nonce: String,
    pub(super) html: Vec<String>,
}

impl MacroOutputs {
    pub(super) fn new() -> MacroOutputs {
        use std::hash::{BuildHasher, Hasher};
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        MacroOutputs {
            nonce: format!("cairnmacro{:016x}n", h.finish()),
            html: Vec::new(),
        }
    }

    pub(super) fn push(&mut self, out: &mut String, clean: String) {
        out.push_str(&self.nonce);
        out.push_str(&self.html.len().to_string());
        out.push('_');
        self.html.push(clean);
    }

    /// `html` with every marker replaced by its macro's output.
    pub(crate) fn substitute(&self, html: &str) -> String {
        if self.html.is_empty() || !html.contains(&self.nonce) {
            return html.to_string();
        }
        let mut out =
            String::with_capacity(html.len() + self.html.iter().map(String::len).sum::<usize>());
        let mut rest = html;
        while let Some(at) = rest.find(&self.nonce) {
            out.push_str(&rest[..at]);
            let after = &rest[at + self.nonce.len()..];
            let digits = after.bytes().take_while(u8::is_ascii_digit).count();
            let index = after[..digits].parse::<usize>().ok();
            match (
                index.and_then(|i| self.html.get(i)),
                after[digits..].starts_with('_'),
            ) {
                (Some(h), true) => {
                    out.push_str(h);
                    rest = &after[digits + 1..];
                }
                _ => {
                    out.push_str(&self.nonce);
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }
}
