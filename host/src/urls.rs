//! URLs of the UI: where a page, an attachment or a user lives, and how
//! a title becomes the slug in a page's path.
//!
//! Invariant: every URL the host writes into HTML, JSON or a redirect comes
//! from here, percent-encoded, so a title or file name can never end a path
//! segment, add a query, or break out of an attribute.

/// The path of a page in the UI (Confluence's modern URL form).
pub fn page_url(space_key: &str, id: i64, title: &str) -> String {
    format!("/spaces/{}/pages/{id}/{}", enc(space_key), slug(title))
}

/// What [`enc`] leaves as is: letters, digits and `-._~`.
const URL_KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A title in a page URL: spaces become `+`, and `+` stays `+`.
pub(crate) fn slug(title: &str) -> String {
    const SLUG_KEEP: &percent_encoding::AsciiSet = &URL_KEEP.remove(b'+');
    percent_encoding::utf8_percent_encode(&title.replace(' ', "+"), SLUG_KEEP).to_string()
}

pub fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, URL_KEEP).to_string()
}

pub(crate) fn download_url(page_id: i64, filename: &str, version: Option<i32>) -> String {
    match version {
        Some(v) => format!(
            "/download/attachments/{page_id}/{}?version={v}",
            enc(filename)
        ),
        None => format!("/download/attachments/{page_id}/{}", enc(filename)),
    }
}

pub(crate) fn user_url(username: &str) -> String {
    format!("/users/{}", enc(username))
}

pub(crate) fn human_size(n: i64) -> String {
    let n = n as f64;
    if n < 1024.0 {
        format!("{n} B")
    } else if n < 1024.0 * 1024.0 {
        format!("{:.1} KB", n / 1024.0)
    } else if n < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.1} MB", n / 1024.0 / 1024.0)
    } else {
        format!("{:.1} GB", n / 1024.0 / 1024.0 / 1024.0)
    }
}

/// The emoticons `host/assets/emoticons/` has an image for.
pub(crate) const EMOTICONS: [&str; 22] = [
    "smile",
    "sad",
    "cheeky",
    "laugh",
    "wink",
    "thumbs-up",
    "thumbs-down",
    "information",
    "tick",
    "cross",
    "warning",
    "plus",
    "minus",
    "question",
    "light-on",
    "light-off",
    "yellow-star",
    "red-star",
    "green-star",
    "blue-star",
    "heart",
    "broken-heart",
];

/// The image of emoticon `name`, if there is one.
pub(crate) fn emoticon_url(name: &str) -> Option<String> {
    EMOTICONS
        .contains(&name)
        .then(|| format!("/assets/emoticons/{name}.svg"))
}
