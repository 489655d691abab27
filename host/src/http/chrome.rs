//! The page chrome: what the frame of every HTML page shows (site title,
//! banners), set per request by the request gate and read by the layout.
//!
//! Invariant: the chrome is part of the response cache's key, so a page
//! cached under one banner is never served under another.

/// What the frame of every HTML page shows, from live settings and the
/// node's state.
#[derive(Debug, Clone, Default, Hash)]
pub(crate) struct Chrome {
    pub site_title: String,
    /// (kind, message): kind is `info`, `warning` or `error`.
    pub banners: Vec<(String, String)>,
}

tokio::task_local! {
    /// Set by the request gate (`http/gate.rs`) around every request.
    pub(crate) static CHROME: Chrome;
}

/// The chrome of the current request (defaults outside one).
pub(crate) fn chrome() -> Chrome {
    CHROME.try_with(Clone::clone).unwrap_or_else(|_| Chrome {
        site_title: "Cairn".into(),
        banners: Vec::new(),
    })
}
