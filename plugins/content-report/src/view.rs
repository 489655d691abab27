//! The report page: stale pages, orphaned pages and the largest
//! attachments, from the summary.
//!
//! Invariant: every text that comes from content is escaped ([`esc`]);
//! the page's "now" is the request's, never a clock the plugin does
//! not have.

use crate::*;

use cairn::plugin::config;
use exports::cairn::plugin::admin::Request;
use records::{AttRecord, PageRecord};
use std::collections::BTreeMap;

pub(super) fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (url_decode(k) == name).then(|| url_decode(v))
    })
}

pub(super) fn url_decode(s: &str) -> String {
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

pub(super) fn esc(s: &str) -> String {
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
pub(super) fn request_time(req: &Request) -> Option<i64> {
    if let Some(t) = query_param(&req.query, "now").and_then(|v| dates::parse(&v)) {
        return Some(t);
    }
    req.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("date"))
        .and_then(|(_, v)| dates::parse(v))
}

pub(super) fn stale_days() -> (i64, Option<String>) {
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

pub(super) fn page_link(p: &PageRecord) -> String {
    if p.url.is_empty() {
        esc(&p.title)
    } else {
        format!("<a href=\"{}\">{}</a>", esc(&p.url), esc(&p.title))
    }
}

pub(super) fn report(req: &Request) -> String {
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
pub(super) fn render_report(
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

pub(super) fn count_note(n: usize, which: &str) -> String {
    if n > MAX_ROWS {
        format!("<p class=\"muted\">{n} pages; the {which} {MAX_ROWS} are shown.</p>")
    } else {
        format!("<p class=\"muted\">{n} pages.</p>")
    }
}

pub(super) fn human_size(n: u64) -> String {
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
