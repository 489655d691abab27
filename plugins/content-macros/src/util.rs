//! Small helpers: lists in parameters, dates, sizes, file name patterns, links.

use cairn_plugin_sdk::{escape_into, RenderContext};

/// `<a href="url">text</a>`, both escaped.
pub(crate) fn link(out: &mut String, url: &str, text: &str) {
    out.push_str("<a href=\"");
    escape_into(out, url);
    out.push_str("\">");
    escape_into(out, text);
    out.push_str("</a>");
}

/// Items of a comma separated list (and, with `spaces`, blank separated), trimmed.
pub(crate) fn split_list(v: &str, spaces: bool) -> Vec<String> {
    v.split(|c: char| c == ',' || (spaces && c.is_whitespace()))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Space keys of a `spaces` parameter: `@self`/`currentSpace()` is the current space;
/// `@all`, `*` (or nothing else) means every space (an empty list).
pub(crate) fn space_list(v: &str, ctx: &RenderContext) -> Vec<String> {
    let mut keys = Vec::new();
    for item in split_list(v, true) {
        let lower = item.to_ascii_lowercase();
        match lower.as_str() {
            "@all" | "*" | "@global" | "@personal" | "@favorite" | "@favourite" => {
                return Vec::new()
            }
            "@self" | "currentspace()" => keys.push(ctx.space_key.clone()),
            _ => keys.push(item),
        }
    }
    keys
}

/// Content type names as Cairn spells them ("blog post" → "blogpost").
pub(crate) fn normalize_type(t: &str) -> String {
    let t = t.trim().to_ascii_lowercase().replace([' ', '-', '_'], "");
    match t.as_str() {
        "blog" | "blogposts" | "news" => "blogpost".into(),
        "pages" => "page".into(),
        "comments" => "comment".into(),
        _ => t,
    }
}

/// Seconds since 1970 of an RFC 3339 timestamp (0 when unreadable), for ordering.
pub(crate) fn timestamp(s: &str) -> i64 {
    parse_rfc3339(s).unwrap_or(0)
}

fn parse_rfc3339(s: &str) -> Option<i64> {
    let s = s.trim();
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> { s.get(r)?.parse().ok() };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let (mut h, mut mi, mut sec, mut offset) = (0, 0, 0, 0);
    if b.len() > 10 {
        h = num(11..13)?;
        mi = num(14..16)?;
        sec = num(17..19).unwrap_or(0);
        let rest = &s[19.min(s.len())..];
        let rest = rest.trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
        if let Some(sign) = rest.chars().next().filter(|c| *c == '+' || *c == '-') {
            let oh: i64 = rest.get(1..3)?.parse().ok()?;
            let om: i64 = rest.get(4..6).and_then(|m| m.parse().ok()).unwrap_or(0);
            offset = (oh * 3600 + om * 60) * if sign == '-' { -1 } else { 1 };
        }
    }
    Some(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - offset)
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// "2024-05-01" of an RFC 3339 timestamp.
pub(crate) fn day(s: &str) -> &str {
    s.get(..10).unwrap_or(s)
}

/// "2024-05-01 12:34" of an RFC 3339 timestamp.
pub(crate) fn minute(s: &str) -> String {
    match (s.get(..10), s.get(11..16)) {
        (Some(d), Some(t)) => format!("{d} {t}"),
        _ => s.to_string(),
    }
}

/// Sizes as the attachment pages show them: "12 B", "3.4 KB", "1.2 MB".
pub(crate) fn human_size(n: u64) -> String {
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

/// A file name pattern of the attachments macro: it matches when the name matches it
/// as a glob (`*.pdf`, `report-?.txt`) or as a regular expression (`.*\.pdf`), ignoring
/// case, over the whole name.
pub(crate) struct Pattern {
    glob: regex_lite::Regex,
    re: Option<regex_lite::Regex>,
}

impl Pattern {
    pub(crate) fn new(p: &str) -> Pattern {
        let mut g = String::from("^");
        for c in p.chars() {
            match c {
                '*' => g.push_str(".*"),
                '?' => g.push('.'),
                c => g.push_str(&regex_lite::escape(&c.to_string())),
            }
        }
        g.push('$');
        let build = |s: &str| {
            regex_lite::RegexBuilder::new(s)
                .case_insensitive(true)
                .size_limit(1 << 20)
                .build()
        };
        Pattern {
            glob: build(&g).unwrap_or_else(|_| build("^$").expect("valid")),
            re: (p.len() <= 500)
                .then(|| build(&format!("^(?:{p})$")).ok())
                .flatten(),
        }
    }

    pub(crate) fn matches(&self, name: &str) -> bool {
        self.glob.is_match(name) || self.re.as_ref().is_some_and(|r| r.is_match(name))
    }
}
