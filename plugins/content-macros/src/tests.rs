//! The macros against a fake store holding the fixture of `plugins/cases/content-macros.txt`:
//! "Case page" (CASE) with children "Child A" (alpha) and "Child B" (alpha, beta),
//! "Grandchild" under "Child A", "notes.txt" (12 bytes) on "Case page", a page the viewer
//! may not see ("Secret", never returned) and "Elsewhere" (alpha) in space OTHER.

use super::*;
use cairn_plugin_sdk::content::{Attachment, ContentSummary, Page};

struct Fake {
    pages: Vec<(ContentSummary, Vec<String>)>,
}

fn summary(
    id: i64,
    title: &str,
    space: &str,
    parent: Option<i64>,
    created: &str,
    modified: &str,
    pos: i32,
) -> ContentSummary {
    ContentSummary {
        id,
        type_: "page".into(),
        title: title.into(),
        space_key: space.into(),
        url: format!("/spaces/{space}/pages/{id}/{}", title.replace(' ', "+")),
        version: 1,
        created: created.into(),
        last_modified: modified.into(),
        author: None,
        last_modifier: Some(User {
            key: "k".into(),
            username: "alice".into(),
            display_name: "Alice <A>".into(),
        }),
        parent_id: parent,
        position: Some(pos),
    }
}

fn fake() -> Fake {
    Fake {
        pages: vec![
            (
                summary(
                    1,
                    "Case page",
                    "CASE",
                    None,
                    "2024-01-01T00:00:00+00:00",
                    "2024-01-05T00:00:00+00:00",
                    0,
                ),
                vec![],
            ),
            (
                summary(
                    2,
                    "Child A",
                    "CASE",
                    Some(1),
                    "2024-01-02T00:00:00+00:00",
                    "2024-01-03T00:00:00+00:00",
                    0,
                ),
                vec!["alpha".into()],
            ),
            (
                summary(
                    3,
                    "Child B",
                    "CASE",
                    Some(1),
                    "2024-01-01T12:00:00+00:00",
                    "2024-01-04T00:00:00+00:00",
                    1,
                ),
                vec!["alpha".into(), "beta".into()],
            ),
            (
                summary(
                    4,
                    "Grandchild",
                    "CASE",
                    Some(2),
                    "2024-01-03T00:00:00+00:00",
                    "2024-01-02T00:00:00+00:00",
                    0,
                ),
                vec![],
            ),
            (
                summary(
                    6,
                    "Elsewhere",
                    "OTHER",
                    None,
                    "2024-01-03T00:00:00+00:00",
                    "2024-01-06T00:00:00+00:00",
                    0,
                ),
                vec!["alpha".into()],
            ),
        ],
    }
}

impl Fake {
    fn page(&self, s: &ContentSummary, labels: &[String]) -> Page {
        Page {
            summary: s.clone(),
            body: String::new(),
            labels: labels.to_vec(),
        }
    }
}

impl Store for Fake {
    fn get(&self, id: i64) -> Option<Page> {
        self.pages
            .iter()
            .find(|(s, _)| s.id == id)
            .map(|(s, l)| self.page(s, l))
    }
    fn find(&self, space_key: &str, title: &str) -> Option<Page> {
        self.pages
            .iter()
            .find(|(s, _)| {
                s.space_key.eq_ignore_ascii_case(space_key) && s.title.eq_ignore_ascii_case(title)
            })
            .map(|(s, l)| self.page(s, l))
    }
    fn children(&self, id: i64, limit: u32) -> Vec<ContentSummary> {
        let mut v: Vec<ContentSummary> = self
            .pages
            .iter()
            .filter(|(s, _)| s.parent_id == Some(id))
            .map(|(s, _)| s.clone())
            .collect();
        v.sort_by_key(|s| s.position);
        v.truncate(limit as usize);
        v
    }
    fn attachments(&self, id: i64) -> Vec<Attachment> {
        if id != 1 {
            return Vec::new();
        }
        let a = |id: i64, name: &str, size: u64, created: &str| Attachment {
            id,
            filename: name.into(),
            media_type: "text/plain".into(),
            size,
            version: 1,
            comment: String::new(),
            url: format!("/download/attachments/1/{name}"),
            created: created.into(),
            author: None,
        };
        vec![
            a(10, "notes.txt", 12, "2024-02-01T10:20:30+00:00"),
            a(11, "Big.PDF", 3 * 1024 * 1024, "2024-01-01T00:00:00+00:00"),
        ]
    }
    fn labels(&self, id: i64) -> Vec<String> {
        self.pages
            .iter()
            .find(|(s, _)| s.id == id)
            .map(|(_, l)| l.clone())
            .unwrap_or_default()
    }
    fn with_labels(
        &self,
        labels: &[String],
        space_keys: &[String],
        limit: u32,
    ) -> Vec<ContentSummary> {
        self.pages
            .iter()
            .filter(|(s, l)| {
                labels.iter().all(|w| l.contains(w))
                    && (space_keys.is_empty()
                        || space_keys
                            .iter()
                            .any(|k| k.eq_ignore_ascii_case(&s.space_key)))
            })
            .take(limit as usize)
            .map(|(s, _)| s.clone())
            .collect()
    }
    fn recently_updated(
        &self,
        space_keys: &[String],
        _types: &[String],
        limit: u32,
    ) -> Vec<ContentSummary> {
        let mut v: Vec<ContentSummary> = self
            .pages
            .iter()
            .filter(|(s, _)| {
                space_keys.is_empty()
                    || space_keys
                        .iter()
                        .any(|k| k.eq_ignore_ascii_case(&s.space_key))
            })
            .map(|(s, _)| s.clone())
            .collect();
        // Newest first, like the host.
        v.sort_by(|a, b| b.last_modified.cmp(&a.last_modified));
        v.truncate(limit as usize);
        v
    }
}

fn ctx(page: Option<i64>) -> RenderContext {
    RenderContext {
        page_id: page,
        page_title: "Case page".into(),
        page_type: "page".into(),
        space_key: "CASE".into(),
        page_version: 1,
        viewer: None,
        target: OutputTarget::View,
        headings: Vec::new(),
        base_url: "https://wiki.example.com".into(),
    }
}

fn call(name: &str, params: &[(&str, &str)]) -> MacroCall {
    MacroCall::new(name, params, BodyKind::None, "")
}

fn run(name: &str, params: &[(&str, &str)]) -> Result<String, RenderError> {
    render(&fake(), &call(name, params), &ctx(Some(1)))
}

fn ok(name: &str, params: &[(&str, &str)]) -> String {
    run(name, params).unwrap()
}

#[test]
fn children_default_is_one_level() {
    assert_eq!(
        ok("children", &[]),
        "<div class=\"children-macro\"><ul><li><a href=\"/spaces/CASE/pages/2/Child+A\">Child A</a></li><li><a href=\"/spaces/CASE/pages/3/Child+B\">Child B</a></li></ul></div>"
    );
}

#[test]
fn children_depth_all_sort_first_style() {
    let h = ok("children", &[("all", "true")]);
    assert!(h.contains(">Child A</a><ul><li><a href=\"/spaces/CASE/pages/4/Grandchild\">Grandchild</a></li></ul></li>"), "{h}");
    assert_eq!(h, ok("children", &[("depth", "2")]));
    let h = ok("children", &[("sort", "title"), ("reverse", "true")]);
    assert!(
        h.find("Child B").unwrap() < h.find("Child A").unwrap(),
        "{h}"
    );
    let h = ok("children", &[("sort", "creation")]);
    assert!(
        h.find("Child B").unwrap() < h.find("Child A").unwrap(),
        "{h}"
    );
    let h = ok("children", &[("first", "1")]);
    assert!(h.contains("Child A") && !h.contains("Child B"), "{h}");
    let h = ok("children", &[("style", "h3"), ("depth", "2")]);
    assert!(h.starts_with("<div class=\"children-macro\"><h3><a href=\"/spaces/CASE/pages/2/Child+A\">Child A</a></h3><ul><li>"), "{h}");
    // Bad numbers fall back.
    assert_eq!(ok("children", &[("depth", "lots")]), ok("children", &[]));
}

#[test]
fn children_of_another_page() {
    let h = ok("children", &[("page", "Child A")]);
    assert!(h.contains("Grandchild") && !h.contains("Child B"), "{h}");
    assert_eq!(ok("children", &[("", "CASE:Child A")]), h);
    assert_eq!(
        ok("children", &[("page", "Grandchild")]),
        "<p class=\"macro-empty\">No child pages.</p>"
    );
    match run("children", &[("page", "Secret")]) {
        Err(RenderError::NotFound(m)) => {
            assert!(m.contains("\"Secret\"") && m.contains("CASE"), "{m}")
        }
        other => panic!("{other:?}"),
    }
    match run("children", &[("page", "NOPE:Child A")]) {
        Err(RenderError::NotFound(m)) => assert!(m.contains("NOPE"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn unsaved_page_has_no_children() {
    let r = render(&fake(), &call("children", &[]), &ctx(None)).unwrap();
    assert_eq!(r, "<p class=\"macro-empty\">No child pages.</p>");
    let r = render(&fake(), &call("attachments", &[]), &ctx(None)).unwrap();
    assert_eq!(r, "<p class=\"macro-empty\">No files attached.</p>");
    let r = render(&fake(), &call("pagetree", &[]), &ctx(None)).unwrap();
    assert_eq!(r, "<p class=\"macro-empty\">No child pages.</p>");
}

#[test]
fn pagetree_roots() {
    assert_eq!(ok("pagetree", &[]), ok("children", &[]));
    assert_eq!(
        ok("pagetree", &[("startDepth", "3")]),
        ok("children", &[("all", "true")])
    );
    let from_grandchild =
        |root: &str| render(&fake(), &call("pagetree", &[("root", root)]), &ctx(Some(4))).unwrap();
    assert_eq!(
        from_grandchild("@parent"),
        ok("children", &[("page", "Child A")])
    );
    assert_eq!(from_grandchild("@home"), ok("children", &[]));
    assert_eq!(
        ok("pagetree", &[("root", "Child A")]),
        ok("children", &[("page", "Child A")])
    );
    assert!(matches!(
        run("pagetree", &[("root", "Nowhere")]),
        Err(RenderError::NotFound(_))
    ));
}

#[test]
fn content_by_label() {
    let h = ok("contentbylabel", &[("labels", "beta")]);
    assert_eq!(h, "<ul class=\"content-by-label\"><li><a href=\"/spaces/CASE/pages/3/Child+B\">Child B</a></li></ul>");
    // OR by default, newest first; all spaces.
    let h = ok("contentbylabel", &[("labels", "alpha, beta")]);
    assert!(
        h.find("Elsewhere").unwrap() < h.find("Child B").unwrap()
            && h.find("Child B").unwrap() < h.find("Child A").unwrap(),
        "{h}"
    );
    let h = ok(
        "contentbylabel",
        &[("labels", "alpha,beta"), ("operator", "AND")],
    );
    assert!(h.contains("Child B") && !h.contains("Child A"), "{h}");
    let h = ok(
        "contentbylabel",
        &[("labels", "alpha -beta"), ("spaces", "@self")],
    );
    assert!(
        h.contains("Child A") && !h.contains("Child B") && !h.contains("Elsewhere"),
        "{h}"
    );
    let h = ok(
        "contentbylabel",
        &[(
            "cql",
            "label = \"alpha\" and label = \"beta\" and space = \"CASE\"",
        )],
    );
    assert!(h.contains("Child B") && !h.contains("Child A"), "{h}");
    let h = ok(
        "contentbylabel",
        &[("cql", "label in (\"beta\", \"gamma\")")],
    );
    assert!(h.contains("Child B") && !h.contains("Child A"), "{h}");
    let h = ok(
        "contentbylabel",
        &[
            ("labels", "beta"),
            ("showLabels", "true"),
            ("showSpace", "true"),
            ("title", "<b>T</b>"),
        ],
    );
    assert_eq!(h, "<div class=\"macro-heading\">&lt;b&gt;T&lt;/b&gt;</div><ul class=\"content-by-label\"><li><a href=\"/spaces/CASE/pages/3/Child+B\">Child B</a> <span class=\"meta\">CASE</span> <span class=\"item-labels\"><span class=\"label\">alpha</span> <span class=\"label\">beta</span></span></li></ul>");
    let h = ok(
        "contentbylabel",
        &[("labels", "alpha"), ("max", "1"), ("sort", "title")],
    );
    assert!(h.contains("Child A") && !h.contains("Child B"), "{h}");
    assert_eq!(
        ok("contentbylabel", &[("labels", "nothing-has-this")]),
        "<p class=\"macro-empty\">No content found.</p>"
    );
    assert!(matches!(
        run("contentbylabel", &[]),
        Err(RenderError::InvalidParameter(_))
    ));
    assert_eq!(
        ok(
            "contentbylabel",
            &[("labels", "alpha"), ("type", "blogpost")]
        ),
        "<p class=\"macro-empty\">No content found.</p>"
    );
}

#[test]
fn recently_updated() {
    let h = ok("recently-updated", &[]);
    assert!(h.starts_with("<div class=\"macro-heading\">Recently updated</div><ul class=\"recently-updated\"><li><a href=\"/spaces/CASE/pages/1/Case+page\">Case page</a> <span class=\"meta\">Alice &lt;A&gt; · 2024-01-05</span></li>"), "{h}");
    assert!(!h.contains("Elsewhere"), "{h}");
    let h = ok(
        "recently-updated",
        &[("spaces", "@all"), ("hideHeading", "true"), ("max", "2")],
    );
    assert!(
        h.starts_with(
            "<ul class=\"recently-updated\"><li><a href=\"/spaces/OTHER/pages/6/Elsewhere\">"
        ),
        "{h}"
    );
    assert_eq!(h.matches("<li>").count(), 2);
    let h = ok("recently-updated", &[("labels", "beta")]);
    assert!(h.contains("Child B") && !h.contains("Child A"), "{h}");
    let h = ok(
        "recently-updated",
        &[("types", "attachment"), ("hideHeading", "true")],
    );
    assert_eq!(
        h,
        "<p class=\"macro-empty\">Nothing was updated recently.</p>"
    );
    assert_eq!(
        ok("recently-updated", &[("max", "many")]),
        ok("recently-updated", &[])
    );
}

#[test]
fn attachments() {
    let h = ok("attachments", &[]);
    assert_eq!(
        h,
        "<table class=\"attachments-macro\"><thead><tr><th>File</th><th>Size</th><th>Modified</th></tr></thead><tbody><tr><td><a href=\"/download/attachments/1/Big.PDF\">Big.PDF</a></td><td>3.0 MB</td><td>2024-01-01 00:00</td></tr><tr><td><a href=\"/download/attachments/1/notes.txt\">notes.txt</a></td><td>12 B</td><td>2024-02-01 10:20</td></tr></tbody></table>"
    );
    let h = ok("attachments", &[("patterns", "*.txt")]);
    assert!(h.contains("notes.txt") && !h.contains("Big.PDF"), "{h}");
    let h = ok("attachments", &[("patterns", ".*\\.pdf, nothing")]);
    assert!(!h.contains("notes.txt") && h.contains("Big.PDF"), "{h}");
    let h = ok("attachments", &[("sortBy", "size")]);
    assert!(
        h.find("Big.PDF").unwrap() < h.find("notes.txt").unwrap(),
        "{h}"
    );
    let h = ok(
        "attachments",
        &[("sortBy", "size"), ("sortOrder", "ascending")],
    );
    assert!(
        h.find("notes.txt").unwrap() < h.find("Big.PDF").unwrap(),
        "{h}"
    );
    let h = ok("attachments", &[("sortBy", "date")]);
    assert!(
        h.find("notes.txt").unwrap() < h.find("Big.PDF").unwrap(),
        "{h}"
    );
    assert_eq!(
        ok("attachments", &[("patterns", "*.doc")]),
        "<p class=\"macro-empty\">No files attached.</p>"
    );
    assert_eq!(
        ok("attachments", &[("page", "Child A")]),
        "<p class=\"macro-empty\">No files attached.</p>"
    );
    assert!(matches!(
        run("attachments", &[("page", "Secret")]),
        Err(RenderError::NotFound(_))
    ));
    // A hostile pattern is just a pattern.
    assert_eq!(
        ok("attachments", &[("patterns", "(((((")]),
        "<p class=\"macro-empty\">No files attached.</p>"
    );
}

#[test]
fn timestamps_and_sizes() {
    assert_eq!(util::timestamp("1970-01-01T00:00:00Z"), 0);
    assert_eq!(util::timestamp("1970-01-02T01:00:00+01:00"), 86_400);
    assert_eq!(
        util::timestamp("2024-02-29T12:00:00.123456+00:00"),
        1_709_208_000
    );
    assert_eq!(util::human_size(12), "12 B");
    assert_eq!(util::human_size(1536), "1.5 KB");
}

#[test]
fn describe_names() {
    let names: Vec<String> = specs().into_iter().map(|s| s.name).collect();
    assert_eq!(
        names,
        [
            "children",
            "pagetree",
            "contentbylabel",
            "recently-updated",
            "attachments"
        ]
    );
}

#[test]
fn manifest_matches_describe() {
    check_manifest(include_str!("../cairn-plugin.toml"), &specs()).unwrap();
}
