//! Reading the page properties out of a page's storage format: the first `details`
//! macro (or the one whose `id` matches), its table read as key–value pairs — a key in
//! each row's header cell and the value beside it, or a header row of keys over one row
//! of values.
//!
//! Invariant: pure and total — malformed or unexpected markup yields fewer properties,
//! never a panic.

/// Keys and their values as text, in table order.
pub(crate) type PropertyTable = Vec<(String, String)>;

/// The element starting at `start` (an opening tag named `name`) up to its matching
/// closing tag, counting nested elements of the same name.
fn element<'a>(s: &'a str, start: usize, name: &str) -> &'a str {
    let open = format!("<{name}");
    let close = format!("</{name}>");
    let mut depth = 0usize;
    let mut i = start;
    while i < s.len() {
        let next_open = s[i..].find(&open).map(|o| i + o);
        let next_close = s[i..].find(&close).map(|o| i + o);
        match (next_open, next_close) {
            (Some(o), Some(c)) if o < c => {
                let tag_end = s[o..].find('>').map_or(s.len(), |e| o + e + 1);
                if !s[o..tag_end].ends_with("/>") {
                    depth += 1;
                }
                i = tag_end;
            }
            (_, Some(c)) => {
                depth = depth.saturating_sub(1);
                i = c + close.len();
                if depth == 0 {
                    return &s[start..i];
                }
            }
            _ => return &s[start..],
        }
    }
    &s[start..]
}

fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let at = tag.find(&format!("{name}=\""))? + name.len() + 2;
    Some(&tag[at..at + tag[at..].find('"')?])
}

/// The `details` macros of a body, with their `id` parameter.
fn details_macros(body: &str) -> Vec<(String, &str)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(o) = body[from..].find("<ac:structured-macro") {
        let start = from + o;
        let tag_end = body[start..]
            .find('>')
            .map_or(body.len(), |e| start + e + 1);
        let tag = &body[start..tag_end];
        if attr(tag, "ac:name") == Some("details") {
            let el = element(body, start, "ac:structured-macro");
            let id = el
                .find("<ac:parameter ac:name=\"id\">")
                .map(|p| {
                    let v = &el[p + "<ac:parameter ac:name=\"id\">".len()..];
                    text(&v[..v.find("</ac:parameter>").unwrap_or(0)])
                })
                .unwrap_or_default();
            out.push((id, el));
            from = start + el.len().max(1);
        } else {
            from = tag_end;
        }
    }
    out
}

/// The properties of the page: those of the `details` macro whose id is `id` (any when
/// None; the first when several).
pub(crate) fn properties_of(body: &str, id: Option<&str>) -> PropertyTable {
    let Some((_, el)) = details_macros(body)
        .into_iter()
        .find(|(mid, _)| id.is_none_or(|want| mid.eq_ignore_ascii_case(want.trim())))
    else {
        return Vec::new();
    };
    let rows = table_rows(el);
    let pairs: PropertyTable = rows
        .iter()
        .filter_map(|cells| match cells.as_slice() {
            [(true, k), (false, v), ..] => Some((k.clone(), v.clone())),
            _ => None,
        })
        .filter(|(k, _)| !k.is_empty())
        .collect();
    if !pairs.is_empty() {
        return pairs;
    }
    // A header row of keys over a row of values.
    match rows.as_slice() {
        [keys, values, ..] if keys.iter().all(|(h, _)| *h) => keys
            .iter()
            .zip(values.iter())
            .map(|((_, k), (_, v))| (k.clone(), v.clone()))
            .filter(|(k, _)| !k.is_empty())
            .collect(),
        _ => Vec::new(),
    }
}

/// The rows of the first table: each cell as (is a header, its text).
fn table_rows(s: &str) -> Vec<Vec<(bool, String)>> {
    let mut rows = Vec::new();
    let mut from = 0;
    while let Some(o) = s[from..].find("<tr") {
        let start = from + o;
        let row = element(s, start, "tr");
        let mut cells = Vec::new();
        let mut i = 0;
        loop {
            let th = row[i..].find("<th").map(|p| i + p);
            let td = row[i..].find("<td").map(|p| i + p);
            let (at, header) = match (th, td) {
                (Some(h), Some(d)) if h < d => (h, true),
                (Some(h), None) => (h, true),
                (_, Some(d)) => (d, false),
                (None, None) => break,
            };
            // `<thead>`/`<tbody>` are not cells.
            let after = row.as_bytes().get(at + 3).copied().unwrap_or(b'>');
            if !(after == b'>' || after == b' ' || after == b'/') {
                i = at + 3;
                continue;
            }
            let name = if header { "th" } else { "td" };
            let cell = element(row, at, name);
            let inner_start = cell.find('>').map_or(cell.len(), |e| e + 1);
            let inner_end = cell.rfind(&format!("</{name}>")).unwrap_or(cell.len());
            cells.push((header, text(&cell[inner_start.min(inner_end)..inner_end])));
            i = at + cell.len().max(1);
        }
        rows.push(cells);
        from = start + row.len().max(1);
    }
    rows
}

/// A cell's text as a reader sees it: tags dropped, a status lozenge as its title, a
/// date as its value, a user as their name, entities decoded, white space collapsed.
pub(crate) fn text(s: &str) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < s.len() {
        let rest = &s[i..];
        if rest.starts_with("<![CDATA[") {
            let end = rest.find("]]>").unwrap_or(rest.len());
            out.push_str(&rest[9..end.max(9)]);
            i += (end + 3).min(rest.len());
        } else if rest.starts_with("<!--") {
            i += rest.find("-->").map_or(rest.len(), |e| e + 3);
        } else if rest.starts_with("<ac:parameter") {
            // Parameters are not text, but a status lozenge's title is.
            let el = element(s, i, "ac:parameter");
            if attr(el, "ac:name") == Some("title") {
                let end = el.rfind("</ac:parameter>").unwrap_or(el.len());
                let start = el.find('>').map_or(0, |e| e + 1).min(end);
                out.push_str(&text(&el[start..end]));
            }
            i += el.len().max(1);
        } else if rest.starts_with('<') {
            let end = rest.find('>').map_or(rest.len(), |e| e + 1);
            let tag = &rest[..end];
            if tag.starts_with("<time") {
                out.push_str(attr(tag, "datetime").unwrap_or(""));
            } else if tag.starts_with("<ri:user") {
                let who = attr(tag, "ri:username")
                    .or_else(|| attr(tag, "ri:userkey"))
                    .unwrap_or("");
                out.push('@');
                out.push_str(who);
            } else if tag.starts_with("<br") || tag.starts_with("</p") || tag.starts_with("</li") {
                out.push(' ');
            }
            i += end;
        } else if rest.starts_with('&') {
            let end = rest.find(';').filter(|e| *e <= 10);
            match end {
                Some(e) => {
                    let name = &rest[1..e];
                    let c = match name {
                        "amp" => Some('&'),
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "quot" => Some('"'),
                        "apos" => Some('\''),
                        "nbsp" => Some(' '),
                        n if n.starts_with("#x") => u32::from_str_radix(&n[2..], 16)
                            .ok()
                            .and_then(char::from_u32),
                        n if n.starts_with('#') => n[1..].parse().ok().and_then(char::from_u32),
                        _ => None,
                    };
                    match c {
                        Some(c) => out.push(c),
                        None => out.push_str(&rest[..=e]),
                    }
                    i += e + 1;
                }
                None => {
                    out.push('&');
                    i += 1;
                }
            }
        } else {
            let c = rest.chars().next().unwrap_or(' ');
            out.push(c);
            i += c.len_utf8();
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "<p>intro</p><ac:structured-macro ac:name=\"details\" ac:schema-version=\"1\"><ac:rich-text-body><table><tbody>\
        <tr><th>Status</th><td><ac:structured-macro ac:name=\"status\"><ac:parameter ac:name=\"colour\">Green</ac:parameter><ac:parameter ac:name=\"title\">Decided</ac:parameter></ac:structured-macro></td></tr>\
        <tr><th><p>Owner</p></th><td><p><ac:link><ri:user ri:username=\"ann\" /></ac:link></p></td></tr>\
        <tr><th>Due date</th><td><time datetime=\"2026-12-24\" /></td></tr>\
        <tr><th>Outcome</th><td>Ship &amp; tell</td></tr>\
        </tbody></table></ac:rich-text-body></ac:structured-macro>\
        <ac:structured-macro ac:name=\"details\"><ac:parameter ac:name=\"id\">risks</ac:parameter><ac:rich-text-body><table><tbody><tr><th>Risk</th><th>Level</th></tr><tr><td>Late</td><td>High</td></tr></tbody></table></ac:rich-text-body></ac:structured-macro>";

    #[test]
    fn rows_of_key_and_value_as_text() {
        assert_eq!(
            properties_of(PAGE, None),
            [
                ("Status".to_string(), "Decided".to_string()),
                ("Owner".into(), "@ann".into()),
                ("Due date".into(), "2026-12-24".into()),
                ("Outcome".into(), "Ship & tell".into()),
            ]
        );
    }

    #[test]
    fn a_header_row_over_values_and_the_id_choose_the_table() {
        assert_eq!(
            properties_of(PAGE, Some("risks")),
            [
                ("Risk".to_string(), "Late".to_string()),
                ("Level".into(), "High".into())
            ]
        );
        assert!(properties_of(PAGE, Some("nothing")).is_empty());
        assert!(properties_of("<p>no table</p><table>", None).is_empty());
        assert!(properties_of(
            "<ac:structured-macro ac:name=\"details\"><ac:rich-text-body><table><tr><th>unclosed",
            None
        )
        .is_empty());
        // A comment that looks like a tag does not trip the reader.
        let tricky = "<ac:structured-macro ac:name=\"details\"><ac:rich-text-body><table><tbody><tr><th>K</th><td><!-- > <ac:parameter ac:name=\"title\"</ac:parameter> -->v</td></tr></tbody></table></ac:rich-text-body></ac:structured-macro>";
        assert_eq!(
            properties_of(tricky, None),
            [("K".to_string(), "v".to_string())]
        );
        assert_eq!(text("<ac:parameter ac:name=\"title\"</ac:parameter>"), "");
    }
}
