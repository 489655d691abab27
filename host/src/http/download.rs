//! The one response that hands out a stored file (attachments through the
//! UI and REST; plugin downloads follow the same rules).
//!
//! Invariant: a file a user uploaded never runs as a page of this origin:
//! only types that cannot script (images, PDF, plain text) are shown inline;
//! every download says `nosniff` and carries a sandboxing CSP, so even an
//! HTML or SVG file served inline by a mistake cannot run script here.

use axum::body::Body;
use axum::http::{header, HeaderValue};
use axum::response::Response;

/// A file download: `media_type` as stored (unknown types become
/// `application/octet-stream`), the file name for the browser's save
/// dialog, and the length when it is known.
pub(crate) fn file(
    body: impl Into<Body>,
    media_type: &str,
    filename: Option<&str>,
    size: Option<u64>,
) -> Response {
    let mut resp = Response::new(body.into());
    let h = resp.headers_mut();
    let ctype = HeaderValue::from_str(media_type)
        .ok()
        .filter(|_| !media_type.is_empty())
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    h.insert(header::CONTENT_TYPE, ctype);
    let disposition = if crate::attach::inline_safe(media_type) {
        "inline"
    } else {
        "attachment"
    };
    let disposition = match filename {
        Some(name) => format!("{disposition}; filename*=UTF-8''{}", crate::urls::enc(name)),
        None => disposition.to_owned(),
    };
    if let Ok(d) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, d);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=0"),
    );
    if let Some(s) = size {
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(s));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn active_types_are_attachments_and_every_download_is_sandboxed() {
        for (mt, inline) in [
            ("text/html", false),
            ("image/svg+xml", false),
            ("application/xhtml+xml", false),
            ("", false),
            ("image/png", true),
            ("application/pdf", true),
        ] {
            let r = file(Vec::new(), mt, Some("a b.html"), Some(0));
            let h = r.headers();
            let d = h[header::CONTENT_DISPOSITION].to_str().unwrap();
            assert_eq!(d.starts_with("inline"), inline, "{mt}: {d}");
            assert!(d.ends_with("filename*=UTF-8''a%20b.html"), "{d}");
            assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
            assert_eq!(
                h[header::CONTENT_SECURITY_POLICY],
                "sandbox; default-src 'none'"
            );
        }
    }
}
