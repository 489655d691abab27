//! Deterministic contexts for the tests.

use cairn_render::{AttachmentRef, Context, Link, MacroCall, PageRef};

/// Some pages exist ("Home", "Design Notes" in DEV, blog post "Launch" of 2024/01/15),
/// others don't; one attachment ("diagram.png" on the current page) and one user ("u1").
pub struct TestContext;

impl Context for TestContext {
    fn current_space(&self) -> &str {
        "DOC"
    }

    fn today(&self) -> Option<String> {
        Some("2026-01-01".into())
    }

    fn page(&self, r: &PageRef) -> Option<Link> {
        let space = r.space_key.as_deref().unwrap_or("DOC");
        match (space, r.title.as_str(), r.posting_day.as_deref()) {
            ("DOC", "Home", None) => Some(Link {
                url: "/spaces/DOC/pages/1".into(),
                title: "Home".into(),
            }),
            ("DEV", "Design Notes", None) => Some(Link {
                url: "/spaces/DEV/pages/7".into(),
                title: "Design Notes".into(),
            }),
            ("DOC", "Launch", Some("2024/01/15")) => Some(Link {
                url: "/spaces/DOC/blog/2024/01/15/Launch".into(),
                title: "Launch".into(),
            }),
            _ => None,
        }
    }

    fn attachment(&self, r: &AttachmentRef) -> Option<Link> {
        (r.container.is_none() && r.filename == "diagram.png").then(|| Link {
            url: "/download/attachments/1/diagram.png".into(),
            title: "diagram.png".into(),
        })
    }

    fn user(&self, key: &str) -> Option<Link> {
        (key == "u1").then(|| Link {
            url: "/people/u1".into(),
            title: "Ada Lovelace".into(),
        })
    }

    fn content(&self, id: i64) -> Option<Link> {
        (id == 42).then(|| Link {
            url: "/pages/42".into(),
            title: "The Answer".into(),
        })
    }

    fn space(&self, key: &str) -> Option<Link> {
        (key == "DEV").then(|| Link {
            url: "/spaces/DEV".into(),
            title: "Development".into(),
        })
    }

    fn render_macro(&self, call: &MacroCall) -> Option<String> {
        // A host-rendered macro, to show that its output is used (and sanitized).
        (call.name == "host-greeting").then(|| {
            format!(
                "<div class=\"greeting\">Hello {}<script>alert(1)</script></div>",
                call.params.get("").map(String::as_str).unwrap_or("world")
            )
        })
    }
}

/// Answers everything, with the given hostile string as every title and URL.
pub struct HostileContext(pub String);

impl HostileContext {
    fn link(&self) -> Option<Link> {
        Some(Link {
            url: self.0.clone(),
            title: self.0.clone(),
        })
    }
}

impl Context for HostileContext {
    fn current_space(&self) -> &str {
        &self.0
    }
    fn page(&self, _: &PageRef) -> Option<Link> {
        self.link()
    }
    fn attachment(&self, _: &AttachmentRef) -> Option<Link> {
        self.link()
    }
    fn user(&self, _: &str) -> Option<Link> {
        self.link()
    }
    fn content(&self, _: i64) -> Option<Link> {
        self.link()
    }
    fn space(&self, _: &str) -> Option<Link> {
        self.link()
    }
    fn render_macro(&self, call: &MacroCall) -> Option<String> {
        (call.name == "hostile").then(|| self.0.clone())
    }
}
