//! First-party plugin `cairn.content-report`: an admin extension reporting stale pages,
//! orphaned pages and the largest attachments.
//!
//! It keeps its own summary of the content in the `kv` capability, updated by content
//! events and seeded (or repaired) by `POST /scan`:
//!
//! * `pages/NN` (NN = id mod 16): one line per page or blog post,
//!   `id␉type␉version␉last-modified␉parent-id␉space␉title␉url`;
//! * `atts/NN` (NN = container id mod 16): one line per attachment,
//!   `container-id␉attachment-id␉size␉created␉filename`;
//! * `scan/queue`: pages whose attachments a scan still has to read.
//!
//! Fields are tab separated with `\\`, `\t`, `\n` and `\r` escaped. Sharding keeps both the
//! report and each event within the host's bound on calls per plugin call.
//!
//! The plugin has no clock: the report takes "now" from the `now` query parameter or the
//! request's `date` header (HTTP-date / RFC 2822 or RFC 3339).

mod dates;
mod records;

wit_bindgen::generate!({
    path: "../../wit",
    world: "cairn:plugin/admin-extension@0.1.0",
    generate_all,
});

use exports::cairn::plugin::admin::{AdminPage, Guest as Admin, Request, Response};
use exports::cairn::plugin::events::{Event, Guest as Events};

mod summary;
mod view;

use summary::*;
use view::*;

/// Number of shards of each record kind.
const SHARDS: i64 = 16;
/// Pages whose attachments one `POST /scan` reads (the host bounds the calls per call).
const SCAN_BATCH: usize = 600;
/// Default age, in days, from which a page counts as stale.
const DEFAULT_STALE_DAYS: i64 = 180;
/// Rows shown in the stale and orphaned tables.
const MAX_ROWS: usize = 200;
/// Rows of the largest attachments table.
const TOP_ATTACHMENTS: usize = 20;
/// Pages searched for the container of an attachment not seen before.
const CONTAINER_SEARCH: u32 = 50;

struct Report;

export!(Report);

impl Admin for Report {
    fn pages() -> Vec<AdminPage> {
        vec![AdminPage {
            path: "/".into(),
            title: "Content report".into(),
        }]
    }

    fn handle(req: Request) -> Response {
        let path = req.path.trim_end_matches('/');
        match (req.method.to_ascii_uppercase().as_str(), path) {
            ("GET", "") | ("HEAD", "") => html(200, report(&req)),
            ("POST", "/scan") => {
                let restart = query_param(&req.query, "restart").is_some();
                scan(restart);
                Response {
                    status: 303,
                    headers: vec![("location".into(), "/".into())],
                    body: Vec::new(),
                }
            }
            (_, "") | (_, "/scan") => Response {
                status: 405,
                headers: vec![
                    (
                        "allow".into(),
                        if path.is_empty() { "GET" } else { "POST" }.into(),
                    ),
                    ("content-type".into(), "text/html".into()),
                ],
                body: b"<p>Method not allowed.</p>".to_vec(),
            },
            _ => html(
                404,
                "<p>There is no such page in the content report.</p>".into(),
            ),
        }
    }
}

impl Events for Report {
    fn on_event(event: Event) {
        match event {
            Event::ContentCreated(r) | Event::ContentUpdated(r) | Event::ContentMoved(r) => {
                upsert(&r)
            }
            Event::ContentDeleted(r) => remove(&r),
            Event::CommentAdded(_) | Event::UserCreated(_) => {}
        }
    }
}

fn html(status: u16, body: String) -> Response {
    Response {
        status,
        headers: vec![("content-type".into(), "text/html".into())],
        body: body.into_bytes(),
    }
}

// ---------------------------------------------------------------------------------------
// Storage

// ---------------------------------------------------------------------------------------
// Scan

// ---------------------------------------------------------------------------------------
// Report

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{AttRecord, PageRecord};

    #[test]
    fn query_and_escaping() {
        assert_eq!(
            query_param("a=1&now=2024-01-02T00%3A00%3A00Z", "now").as_deref(),
            Some("2024-01-02T00:00:00Z")
        );
        assert_eq!(
            query_param("now=Tue%2C+15+Nov+1994+08:12:31+GMT", "now").as_deref(),
            Some("Tue, 15 Nov 1994 08:12:31 GMT")
        );
        assert_eq!(query_param("x", "now"), None);
        assert_eq!(url_decode("%zz%4"), "%zz%4");
        assert_eq!(esc("<a href=\"x\">'"), "&lt;a href=&quot;x&quot;&gt;&#39;");
        assert_eq!(shard_key("pages", -3), "pages/13");
        assert_eq!(human_size(12), "12 B");
    }

    fn page(id: i64, kind: &str, parent: Option<i64>, modified: &str, title: &str) -> PageRecord {
        PageRecord {
            id,
            kind: kind.into(),
            version: 2,
            last_modified: modified.into(),
            parent,
            space: "DEV".into(),
            title: title.into(),
            url: format!("/spaces/DEV/pages/{id}/x"),
        }
    }

    #[test]
    fn report_tables() {
        let pages = vec![
            page(
                1,
                "page",
                None,
                "2020-01-01T00:00:00+00:00",
                "Home <script>",
            ),
            page(2, "page", Some(1), "2024-04-30T00:00:00+00:00", "Fresh"),
            page(3, "page", Some(1), "2023-01-01T00:00:00Z", "Old child"),
            page(4, "blogpost", None, "2019-01-01T00:00:00Z", "Old news"),
        ];
        let atts: Vec<AttRecord> = (0..25)
            .map(|i| AttRecord {
                container: 2,
                id: 100 + i,
                size: (i as u64 + 1) * 1000,
                created: "2024-01-01T00:00:00+00:00".into(),
                filename: format!("f{i}.bin"),
            })
            .collect();
        let now = dates::parse("Wed, 01 May 2024 12:00:00 GMT");
        let h = render_report(&pages, atts, 3, now, 180, None);
        let stale = &h[h.find("Stale pages").unwrap()..h.find("Orphaned pages").unwrap()];
        assert!(
            stale.contains("Home &lt;script&gt;") && stale.contains("Old child"),
            "{stale}"
        );
        assert!(
            !stale.contains("Fresh") && !stale.contains("Old news"),
            "{stale}"
        );
        assert!(
            stale.find("Home").unwrap() < stale.find("Old child").unwrap(),
            "oldest first"
        );
        let orphans = &h[h.find("Orphaned pages").unwrap()..h.find("Largest attachments").unwrap()];
        assert!(
            orphans.contains("Home &lt;script&gt;")
                && !orphans.contains("Old child")
                && !orphans.contains("Old news")
        );
        let largest = &h[h.find("Largest attachments").unwrap()..];
        assert!(largest.contains("<td>f24.bin</td><td>24.4 KB</td><td><a href=\"/spaces/DEV/pages/2/x\">Fresh</a></td>"), "{largest}");
        assert_eq!(largest.matches("<tr><td>").count(), 20);
        assert!(!largest.contains("f4.bin"));
        assert!(h.contains("the attachments of 3 more pages"));
        assert!(!h.contains("<script"));
        // Without a request time there is no stale table.
        let h = render_report(&pages, Vec::new(), 0, None, 180, Some("bad".into()));
        assert!(h.contains("The time of the request is unknown") && h.contains("bad"));
        assert!(h.contains("No attachments recorded."));
    }
}
