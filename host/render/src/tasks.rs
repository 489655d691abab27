//! Task lists (`ac:task-list`) read as data: what the host's task index
//! stores and what the renderer shows beside each task (assignee, due date).

use crate::render::user_key;
use crate::tree::{Element, Node};

/// One task of a body, in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskItem {
    /// `ac:task-id`, trimmed.
    pub id: String,
    pub complete: bool,
    /// The body as plain text, whitespace normalized, without nested task lists,
    /// users (`ri:user`) and dates (`<time>`): those are shown apart.
    pub text: String,
    /// The first `ri:user` of the body (key, or username as written).
    pub assignee: Option<String>,
    /// The first `<time datetime="YYYY-MM-DD">` of the body, when it is a date.
    pub due: Option<String>,
}

pub(crate) fn collect(nodes: &[Node], out: &mut Vec<TaskItem>) {
    for n in nodes {
        if let Node::Element(e) = n {
            if e.name == "ac:task" {
                task(e, out);
            } else {
                collect(&e.children, out);
            }
        }
    }
}

fn task(e: &Element, out: &mut Vec<TaskItem>) {
    let id = e
        .child("ac:task-id")
        .map(|i| i.text_content().trim().to_owned())
        .unwrap_or_default();
    let complete = e
        .child("ac:task-status")
        .is_some_and(|s| s.text_content().trim() == "complete");
    let mut item = TaskItem {
        id,
        complete,
        text: String::new(),
        assignee: None,
        due: None,
    };
    let mut nested = Vec::new();
    if let Some(body) = e.child("ac:task-body") {
        let mut text = String::new();
        body_parts(&body.children, &mut item, &mut text, &mut nested);
        item.text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    }
    let has_id = !item.id.is_empty() && e.child("ac:task-status").is_some();
    if has_id {
        out.push(item);
    }
    out.extend(nested);
    for child in e.child_elements() {
        if child.name == "ac:task-list" {
            collect(&child.children, out);
        }
    }
}

fn body_parts(nodes: &[Node], item: &mut TaskItem, text: &mut String, nested: &mut Vec<TaskItem>) {
    for n in nodes {
        match n {
            Node::Text(t) => text.push_str(t),
            Node::Element(e) => match e.name.as_str() {
                "ac:task-list" => collect(&e.children, nested),
                "ri:user" => {
                    let key = user_key(e);
                    // Shown apart (by name); a key is no text for a reader.
                    if item.assignee.is_none() && !key.is_empty() {
                        item.assignee = Some(key);
                    }
                    text.push(' ');
                }
                "time" => {
                    // Shown apart, as the due date.
                    if let Some(d) = e.attr("datetime").and_then(iso_day) {
                        if item.due.is_none() {
                            item.due = Some(d);
                        }
                    }
                    text.push(' ');
                    body_parts(&e.children, item, text, nested);
                }
                "ac:parameter" | "ac:task-id" | "ac:task-status" => {}
                _ => {
                    body_parts(&e.children, item, text, nested);
                    text.push(' ');
                }
            },
        }
    }
}

/// `YYYY-MM-DD` (the date part of a `datetime` value), when it is one.
pub(crate) fn iso_day(v: &str) -> Option<String> {
    let d = v.trim().get(..10)?;
    let b = d.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let ok = digits(0..4) && b[4] == b'-' && digits(5..7) && b[7] == b'-' && digits(8..10);
    let month: u32 = d[5..7].parse().ok()?;
    let day: u32 = d[8..10].parse().ok()?;
    (ok && (1..=12).contains(&month) && (1..=31).contains(&day)).then(|| d.to_owned())
}

/// "5 Jan 2026" for `2026-01-05`.
pub(crate) fn readable_day(iso: &str) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month: usize = iso[5..7].parse().unwrap_or(1);
    let day: u32 = iso[8..10].parse().unwrap_or(1);
    format!("{day} {} {}", MONTHS[month.clamp(1, 12) - 1], &iso[..4])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignee_due_date_and_text_of_each_task() {
        let body = r#"<ac:task-list><ac:task><ac:task-id>1</ac:task-id><ac:task-status>incomplete</ac:task-status><ac:task-body>Ship <strong>it</strong> <ac:link><ri:user ri:userkey="k1"/></ac:link> by <time datetime="2026-01-05"/><ac:task-list><ac:task><ac:task-id>2</ac:task-id><ac:task-status>complete</ac:task-status><ac:task-body>inner <ac:link><ri:user ri:username="bob"/></ac:link></ac:task-body></ac:task></ac:task-list></ac:task-body></ac:task><ac:task><ac:task-id>3</ac:task-id><ac:task-status/><ac:task-body>x <time datetime="soon"/></ac:task-body></ac:task></ac:task-list>"#;
        let t = crate::tasks(body).unwrap();
        assert_eq!(
            t,
            [
                TaskItem {
                    id: "1".into(),
                    complete: false,
                    text: "Ship it by".into(),
                    assignee: Some("k1".into()),
                    due: Some("2026-01-05".into()),
                },
                TaskItem {
                    id: "2".into(),
                    complete: true,
                    text: "inner".into(),
                    assignee: Some("bob".into()),
                    due: None,
                },
                TaskItem {
                    id: "3".into(),
                    complete: false,
                    text: "x".into(),
                    assignee: None,
                    due: None,
                },
            ]
        );
        assert_eq!(readable_day("2026-01-05"), "5 Jan 2026");
        assert_eq!(iso_day("2026-13-01"), None);
    }
}
