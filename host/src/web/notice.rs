//! What a form says once it worked. A form that succeeded redirects (303)
//! to its screen with the outcome in the address — `?done=CODE`, plus the
//! names the sentence mentions in `what` and `to` — and the screen shows the
//! sentence. So a reload never posts twice, `app.js` follows the redirect of
//! a form it sent itself, and a refused form answers with its error instead
//! of a redrawn screen that would drop what the user typed.
//!
//! Invariant: the sentence is one of [`Notice`]'s fixed texts; `what` and
//! `to` only fill its slots (escaped by the template, cut to
//! [`MAX_NAME`] characters), so a crafted link cannot make a screen say
//! anything else.

use axum::response::Response;

use super::see_other;

/// The longest name a notice repeats.
const MAX_NAME: usize = 100;

/// A form's outcome, as its screen reads it from the query.
#[derive(serde::Deserialize, Default)]
pub(crate) struct Notice {
    #[serde(default)]
    done: String,
    #[serde(default)]
    what: String,
    #[serde(default)]
    to: String,
}

impl Notice {
    /// The sentence for the outcome, or empty when there is none.
    pub(crate) fn message(&self) -> String {
        let what = cut(&self.what);
        let to = cut(&self.to);
        match self.done.as_str() {
            "saved" => "Saved.".into(),
            "unchanged" => "Nothing changed.".into(),
            "changes" => match what.parse::<u32>() {
                Ok(1) => "Saved 1 change.".into(),
                Ok(n) => format!("Saved {n} changes."),
                Err(_) => "Saved.".into(),
            },
            "group-created" => format!("Group {what} created."),
            "member-added" => format!("{what} added to {to}."),
            "member-removed" => format!("{what} removed from {to}."),
            "restrictions" => "Restrictions saved.".into(),
            "permissions" => "Permissions saved.".into(),
            "password" => "Your password was changed.".into(),
            "limits" => "Limits saved.".into(),
            "config" => "Configuration saved.".into(),
            "enabled" => "Enabled.".into(),
            "disabled" => "Disabled: its macros show as unavailable.".into(),
            "removed" => format!("Removed {what}."),
            "settings" => format!("Saved {what}; every node applies it within a second."),
            "reset" => format!("{what} is back to its default."),
            "shared" => format!("Shared with {what}."),
            "template-saved" => format!("Template {what} saved."),
            "template-deleted" => format!("Template {what} deleted."),
            "blueprint-on" => format!("{what} is offered in this space."),
            "blueprint-off" => format!("{what} is no longer offered in this space."),
            _ => String::new(),
        }
    }
}

fn cut(s: &str) -> &str {
    match s.char_indices().nth(MAX_NAME) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// The redirect after a form that worked: back to `path` saying `code`.
pub(crate) fn done(path: &str, code: &str) -> Response {
    done_with(path, code, "", "")
}

/// [`done`] with the names the sentence mentions.
pub(crate) fn done_with(path: &str, code: &str, what: &str, to: &str) -> Response {
    let enc = crate::urls::enc;
    let mut url = format!(
        "{path}{}done={}",
        if path.contains('?') { '&' } else { '?' },
        enc(code)
    );
    if !what.is_empty() {
        url.push_str(&format!("&what={}", enc(cut(what))));
    }
    if !to.is_empty() {
        url.push_str(&format!("&to={}", enc(cut(to))));
    }
    see_other(&url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(done: &str, what: &str, to: &str) -> String {
        Notice {
            done: done.into(),
            what: what.into(),
            to: to.into(),
        }
        .message()
    }

    #[test]
    fn only_the_fixed_sentences_are_said() {
        assert_eq!(shown("saved", "anything", ""), "Saved.");
        assert_eq!(shown("changes", "3", ""), "Saved 3 changes.");
        assert_eq!(shown("changes", "1", ""), "Saved 1 change.");
        assert_eq!(shown("changes", "pwned", ""), "Saved.");
        assert_eq!(
            shown("member-added", "ivan", "insiders"),
            "ivan added to insiders."
        );
        assert_eq!(shown("Your account is locked", "", ""), "");
        assert_eq!(shown("", "", ""), "");
    }

    #[test]
    fn names_are_cut() {
        let long = "x".repeat(500);
        assert_eq!(shown("group-created", &long, "").len(), MAX_NAME + 15);
    }
}
