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

use std::collections::{BTreeMap, HashSet};

use records::{AttRecord, PageRecord};

wit_bindgen::generate!({
    path: "../../wit",
    world: "cairn:plugin/admin-extension@0.1.0",
    generate_all,
});

use cairn::plugin::{config, content, kv, log};
use exports::cairn::plugin::admin::{AdminPage, Guest as Admin, Request, Response};
use exports::cairn::plugin::events::{ContentRef, Event, Guest as Events};

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

fn shard_key(kind: &str, id: i64) -> String {
    format!("{kind}/{:02}", id.rem_euclid(SHARDS))
}

fn load(key: &str) -> String {
    kv::get(key)
        .map(|v| String::from_utf8_lossy(&v).into_owned())
        .unwrap_or_default()
}

fn store(key: &str, value: &str) {
    let result = if value.is_empty() {
        kv::delete(key);
        Ok(())
    } else {
        kv::set(key, value.as_bytes())
    };
    if let Err(e) = result {
        log::log(
            log::Level::Error,
            &format!("content-report: could not store {key}: {e}"),
        );
    }
}

/// Rewrites one shard: drops the lines `drop` selects, then appends `add`.
fn update_shard(key: &str, drop: impl Fn(&str) -> bool, add: &[String]) {
    let old = load(key);
    let mut out = String::with_capacity(old.len() + 128);
    for line in old.lines().filter(|l| !l.is_empty() && !drop(l)) {
        out.push_str(line);
        out.push('\n');
    }
    for line in add {
        out.push_str(line);
        out.push('\n');
    }
    if out != old {
        store(key, &out);
    }
}

fn first_field(line: &str) -> Option<i64> {
    line.split('\t').next()?.parse().ok()
}

fn second_field(line: &str) -> Option<i64> {
    line.split('\t').nth(1)?.parse().ok()
}

fn page_record(s: &content::ContentSummary) -> PageRecord {
    PageRecord {
        id: s.id,
        kind: s.type_.clone(),
        version: s.version,
        last_modified: s.last_modified.clone(),
        parent: s.parent_id,
        space: s.space_key.clone(),
        title: s.title.clone(),
        url: s.url.clone(),
    }
}

fn att_lines(container: i64, list: &[content::Attachment]) -> Vec<String> {
    list.iter()
        .map(|a| {
            AttRecord {
                container,
                id: a.id,
                size: a.size,
                created: a.created.clone(),
                filename: a.filename.clone(),
            }
            .encode()
        })
        .collect()
}

/// Records the current attachments of a page; returns their ids.
fn refresh_attachments(container: i64) -> Vec<i64> {
    let list = content::attachments(container);
    let lines = att_lines(container, &list);
    update_shard(
        &shard_key("atts", container),
        |l| first_field(l) == Some(container),
        &lines,
    );
    list.iter().map(|a| a.id).collect()
}

/// The container of an attachment already recorded.
fn recorded_container(att: i64) -> Option<i64> {
    (0..SHARDS).find_map(|n| {
        load(&shard_key("atts", n))
            .lines()
            .find(|l| second_field(l) == Some(att))
            .and_then(first_field)
    })
}

fn upsert(r: &ContentRef) {
    match r.type_.as_str() {
        "page" | "blogpost" => match content::get(r.id) {
            Some(p) => {
                let line = page_record(&p.summary).encode();
                update_shard(
                    &shard_key("pages", r.id),
                    |l| first_field(l) == Some(r.id),
                    &[line],
                );
                refresh_attachments(r.id);
            }
            // Not current any more (trashed, a draft): not part of the report.
            None => remove(r),
        },
        "attachment" => {
            // Known: refresh its page (an update, or a move away from it).
            if let Some(c) = recorded_container(r.id) {
                if refresh_attachments(c).contains(&r.id) {
                    return;
                }
            }
            // New (or moved): look for it on the space's recently changed pages.
            let spaces = vec![r.space_key.clone()];
            let kinds = vec!["page".to_string(), "blogpost".to_string()];
            let found = content::recently_updated(&spaces, &kinds, CONTAINER_SEARCH)
                .into_iter()
                .find(|p| content::attachments(p.id).iter().any(|a| a.id == r.id));
            match found {
                Some(p) => {
                    refresh_attachments(p.id);
                }
                None => log::log(
                    log::Level::Info,
                    &format!(
                        "content-report: page of attachment {} ({}) not found; the next scan records it",
                        r.id, r.title
                    ),
                ),
            }
        }
        _ => {}
    }
}

fn remove(r: &ContentRef) {
    match r.type_.as_str() {
        "page" | "blogpost" => {
            update_shard(
                &shard_key("pages", r.id),
                |l| first_field(l) == Some(r.id),
                &[],
            );
            update_shard(
                &shard_key("atts", r.id),
                |l| first_field(l) == Some(r.id),
                &[],
            );
        }
        "attachment" => {
            if let Some(c) = recorded_container(r.id) {
                update_shard(
                    &shard_key("atts", c),
                    |l| second_field(l) == Some(r.id),
                    &[],
                );
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------
// Scan

/// Records every page and blog post (newest first, as many as the host lists) and, a
/// batch per request, their attachments. A scan in progress is continued unless
/// `restart`.
fn scan(restart: bool) {
    let queue = load("scan/queue");
    let mut pending: Vec<i64> = if restart || queue.trim().is_empty() {
        let kinds = vec!["page".to_string(), "blogpost".to_string()];
        let list = content::recently_updated(&[], &kinds, 10_000);
        let mut shards: BTreeMap<i64, String> = (0..SHARDS).map(|n| (n, String::new())).collect();
        for s in &list {
            if let Some(text) = shards.get_mut(&s.id.rem_euclid(SHARDS)) {
                text.push_str(&page_record(s).encode());
                text.push('\n');
            }
        }
        for (n, text) in &shards {
            store(&shard_key("pages", *n), text);
            store(&shard_key("atts", *n), "");
        }
        list.iter().map(|s| s.id).collect()
    } else {
        queue
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect()
    };
    let rest = pending.split_off(pending.len().min(SCAN_BATCH));
    let mut by_shard: BTreeMap<i64, (HashSet<i64>, Vec<String>)> = BTreeMap::new();
    for id in pending {
        let lines = att_lines(id, &content::attachments(id));
        let entry = by_shard.entry(id.rem_euclid(SHARDS)).or_default();
        entry.0.insert(id);
        entry.1.extend(lines);
    }
    for (n, (containers, lines)) in &by_shard {
        update_shard(
            &shard_key("atts", *n),
            |l| first_field(l).is_some_and(|c| containers.contains(&c)),
            lines,
        );
    }
    let queue: String = rest.iter().map(|id| format!("{id}\n")).collect();
    store("scan/queue", &queue);
}

// ---------------------------------------------------------------------------------------
// Report

fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (url_decode(k) == name).then(|| url_decode(v))
    })
}

fn url_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(b[i + 1]), hex(b[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// "Now" for the report: the `now` query parameter, else the `date` header.
fn request_time(req: &Request) -> Option<i64> {
    if let Some(t) = query_param(&req.query, "now").and_then(|v| dates::parse(&v)) {
        return Some(t);
    }
    req.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("date"))
        .and_then(|(_, v)| dates::parse(v))
}

fn stale_days() -> (i64, Option<String>) {
    match config::get("stale-days") {
        None => (DEFAULT_STALE_DAYS, None),
        Some(v) => match v.trim().parse::<i64>() {
            Ok(n) if (1..=36_500).contains(&n) => (n, None),
            _ => (
                DEFAULT_STALE_DAYS,
                Some(format!(
                    "The configured stale-days value \"{}\" is not a number of days from 1 to 36500; using {DEFAULT_STALE_DAYS}.",
                    esc(&v)
                )),
            ),
        },
    }
}

fn page_link(p: &PageRecord) -> String {
    if p.url.is_empty() {
        esc(&p.title)
    } else {
        format!("<a href=\"{}\">{}</a>", esc(&p.url), esc(&p.title))
    }
}

fn report(req: &Request) -> String {
    let mut pages: Vec<PageRecord> = Vec::new();
    let mut atts: Vec<AttRecord> = Vec::new();
    for n in 0..SHARDS {
        pages.extend(
            load(&shard_key("pages", n))
                .lines()
                .filter_map(PageRecord::decode),
        );
        atts.extend(
            load(&shard_key("atts", n))
                .lines()
                .filter_map(AttRecord::decode),
        );
    }
    let pending = load("scan/queue")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count();
    let (days, note) = stale_days();
    render_report(&pages, atts, pending, request_time(req), days, note)
}

/// The report page from the recorded content; `now` in seconds since 1970.
fn render_report(
    pages: &[PageRecord],
    mut atts: Vec<AttRecord>,
    pending: usize,
    now: Option<i64>,
    days: i64,
    config_note: Option<String>,
) -> String {
    let by_id: BTreeMap<i64, &PageRecord> = pages.iter().map(|p| (p.id, p)).collect();

    let mut out = String::with_capacity(16 * 1024);
    out.push_str("<div class=\"content-report\">");
    out.push_str(&format!(
        "<p class=\"muted\">{} pages and blog posts and {} attachments recorded.</p>",
        pages.len(),
        atts.len()
    ));
    if pages.is_empty() {
        out.push_str("<p class=\"flash info\">Nothing is recorded yet: run a scan (POST /scan) to read the existing content. From then on, content events keep the report up to date.</p>");
    }
    if pending > 0 {
        out.push_str(&format!(
            "<p class=\"flash info\">A scan is in progress: the attachments of {pending} more pages are still to be read. Scan again to continue.</p>"
        ));
    }
    out.push_str("<form method=\"post\" action=\"scan\"><button type=\"submit\" class=\"button\">Scan all content</button></form>");

    // Stale pages
    out.push_str(&format!("<h2>Stale pages</h2><p class=\"muted\">Not modified for {days} days or more (configuration key <code>stale-days</code>).</p>"));
    if let Some(note) = config_note {
        out.push_str(&format!("<p class=\"flash error\">{note}</p>"));
    }
    match now {
        None => out.push_str("<p class=\"flash error\">The time of the request is unknown (no <code>date</code> header and no <code>now</code> parameter), so stale pages cannot be told.</p>"),
        Some(now) => {
            let cutoff = now - days * 86_400;
            let mut stale: Vec<(&PageRecord, i64)> = pages
                .iter()
                .filter(|p| p.kind == "page")
                .filter_map(|p| dates::parse(&p.last_modified).map(|t| (p, t)))
                .filter(|(_, t)| *t <= cutoff)
                .collect();
            stale.sort_by_key(|(p, t)| (*t, p.id));
            if stale.is_empty() {
                out.push_str("<p>No stale pages.</p>");
            } else {
                out.push_str(&count_note(stale.len(), "oldest"));
                out.push_str("<table class=\"grid stale-pages\"><thead><tr><th>Page</th><th>Space</th><th>Last modified</th><th>Days</th><th>Version</th></tr></thead><tbody>");
                for (p, t) in stale.iter().take(MAX_ROWS) {
                    out.push_str(&format!(
                        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                        page_link(p),
                        esc(&p.space),
                        esc(p.last_modified.get(..10).unwrap_or(&p.last_modified)),
                        (now - t) / 86_400,
                        p.version
                    ));
                }
                out.push_str("</tbody></table>");
            }
        }
    }

    // Orphaned pages
    out.push_str("<h2>Orphaned pages</h2><p class=\"muted\">Pages without a parent page. A space's home page has none either, so each space's home page is listed too.</p>");
    let mut orphans: Vec<&PageRecord> = pages
        .iter()
        .filter(|p| p.kind == "page" && p.parent.is_none())
        .collect();
    orphans.sort_by(|a, b| {
        (a.space.as_str(), a.title.to_lowercase()).cmp(&(b.space.as_str(), b.title.to_lowercase()))
    });
    if orphans.is_empty() {
        out.push_str("<p>No orphaned pages.</p>");
    } else {
        out.push_str(&count_note(orphans.len(), "first"));
        out.push_str("<table class=\"grid orphaned-pages\"><thead><tr><th>Page</th><th>Space</th><th>Last modified</th></tr></thead><tbody>");
        for p in orphans.iter().take(MAX_ROWS) {
            out.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                page_link(p),
                esc(&p.space),
                esc(p.last_modified.get(..10).unwrap_or(&p.last_modified))
            ));
        }
        out.push_str("</tbody></table>");
    }

    // Largest attachments
    out.push_str(&format!(
        "<h2>Largest attachments</h2><p class=\"muted\">The {TOP_ATTACHMENTS} largest files.</p>"
    ));
    atts.sort_by(|a, b| b.size.cmp(&a.size).then(a.id.cmp(&b.id)));
    if atts.is_empty() {
        out.push_str("<p>No attachments recorded.</p>");
    } else {
        out.push_str("<table class=\"grid largest-attachments\"><thead><tr><th>File</th><th>Size</th><th>Page</th><th>Space</th><th>Uploaded</th></tr></thead><tbody>");
        for a in atts.iter().take(TOP_ATTACHMENTS) {
            let (page, space) = match by_id.get(&a.container) {
                Some(p) => (page_link(p), esc(&p.space)),
                None => (format!("page {}", a.container), String::new()),
            };
            out.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&a.filename),
                human_size(a.size),
                page,
                space,
                esc(a.created.get(..10).unwrap_or(&a.created))
            ));
        }
        out.push_str("</tbody></table>");
    }
    out.push_str("</div>");
    out
}

fn count_note(n: usize, which: &str) -> String {
    if n > MAX_ROWS {
        format!("<p class=\"muted\">{n} pages; the {which} {MAX_ROWS} are shown.</p>")
    } else {
        format!("<p class=\"muted\">{n} pages.</p>")
    }
}

fn human_size(n: u64) -> String {
    let f = n as f64;
    if f < 1024.0 {
        format!("{n} B")
    } else if f < 1024.0 * 1024.0 {
        format!("{:.1} KB", f / 1024.0)
    } else if f < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.1} MB", f / 1024.0 / 1024.0)
    } else {
        format!("{:.1} GB", f / 1024.0 / 1024.0 / 1024.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
