//! Task lists (`ac:task-list`) ticked in view mode.
//!
//! Invariants: ticking changes exactly the text of one task's
//! `ac:task-status` — every other byte of the body is kept; it saves through
//! [`update`] as a new minor version (so history shows who ticked, the
//! editor's stale-version check sees it, and watchers are not mailed for
//! it), based on the version it read and retried on a conflict — so two
//! people ticking different tasks of one page at once lose neither.

use super::*;

/// One task of a body, in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Task {
    pub id: String,
    pub complete: bool,
    /// The bytes to replace to change the status: the status text, or the
    /// whole element when it is empty (`<ac:task-status/>`).
    span: (usize, usize),
    whole_element: bool,
}

#[derive(Default)]
struct Frame {
    id: Option<String>,
    status: Option<(bool, (usize, usize), bool)>,
}

/// The tasks of a storage-format body, in document order.
///
/// # Errors
/// When the body is not well-formed.
pub(crate) fn tasks_of(body: &str) -> Result<Vec<Task>> {
    use quick_xml::events::Event;
    let mut r = quick_xml::Reader::from_str(body);
    r.config_mut().check_end_names = false;
    let bad = |e: quick_xml::Error| {
        Error::BadRequest(format!("the body is not well-formed storage format: {e}"))
    };
    let mut stack: Vec<Frame> = Vec::new();
    let mut out = Vec::new();
    // What the element being read is: 1 = task id, 2 = task status.
    let mut inside = 0u8;
    let mut status_start = 0usize;
    let mut text = String::new();
    loop {
        let before = r.buffer_position() as usize;
        match r.read_event().map_err(bad)? {
            Event::Eof => break,
            Event::Start(e) => match e.name().as_ref() {
                b"ac:task" => stack.push(Frame::default()),
                b"ac:task-id" => {
                    inside = 1;
                    text.clear();
                }
                b"ac:task-status" => {
                    inside = 2;
                    text.clear();
                    status_start = r.buffer_position() as usize;
                }
                _ => {}
            },
            Event::Empty(e) if e.name().as_ref() == b"ac:task-status" => {
                if let Some(f) = stack.last_mut() {
                    let end = r.buffer_position() as usize;
                    f.status = Some((false, (before, end), true));
                }
            }
            Event::Text(t) if inside != 0 => {
                text.push_str(&String::from_utf8_lossy(t.as_ref()));
            }
            Event::CData(t) if inside != 0 => {
                text.push_str(&String::from_utf8_lossy(t.as_ref()));
            }
            Event::End(e) => match e.name().as_ref() {
                b"ac:task-id" => {
                    inside = 0;
                    if let Some(f) = stack.last_mut() {
                        f.id = Some(text.trim().to_owned());
                    }
                }
                b"ac:task-status" => {
                    inside = 0;
                    if let Some(f) = stack.last_mut() {
                        f.status = Some((text.trim() == "complete", (status_start, before), false));
                    }
                }
                b"ac:task" => {
                    if let Some(Frame {
                        id: Some(id),
                        status: Some((complete, span, whole_element)),
                    }) = stack.pop()
                    {
                        out.push(Task {
                            id,
                            complete,
                            span,
                            whole_element,
                        });
                    }
                }
                _ => {}
            },
            _ => {}
        }
    }
    out.sort_by_key(|t| t.span.0);
    Ok(out)
}

/// `body` with task `id` set to `complete`; `None` when it has no such task.
pub(crate) fn with_task_status(body: &str, id: &str, complete: bool) -> Result<Option<String>> {
    let Some(t) = tasks_of(body)?.into_iter().find(|t| t.id == id) else {
        return Ok(None);
    };
    let word = if complete { "complete" } else { "incomplete" };
    let replacement = if t.whole_element {
        format!("<ac:task-status>{word}</ac:task-status>")
    } else {
        word.to_owned()
    };
    let mut s = String::with_capacity(body.len() + 4);
    s.push_str(&body[..t.span.0]);
    s.push_str(&replacement);
    s.push_str(&body[t.span.1..]);
    Ok(Some(s))
}

/// Ticks (or unticks) task `task_id` of a page the viewer may edit.
pub(crate) async fn set_task(
    db: &mut deadpool_postgres::Object,
    viewer: &Viewer,
    page_id: i64,
    task_id: &str,
    complete: bool,
) -> Result<Content> {
    for _ in 0..8 {
        let c = get(&*db, viewer, page_id).await?;
        if !matches!(c.content_type, ContentType::Page | ContentType::BlogPost) {
            return Err(Error::BadRequest(format!(
                "{page_id} is not a page or blog post"
            )));
        }
        let Some(body) = with_task_status(&c.body, task_id, complete)? else {
            return Err(Error::NotFound(format!("no task {task_id:?} on this page")));
        };
        let message = if complete {
            "Task completed"
        } else {
            "Task reopened"
        };
        match update(
            db,
            viewer,
            page_id,
            Update {
                title: None,
                body: Some(&body),
                base_version: c.version,
                message,
                minor_edit: true,
            },
        )
        .await
        {
            Ok(Saved::NewVersion(c) | Saved::Unchanged(c)) => return Ok(c),
            // Someone saved in between: apply the tick to their version.
            Err(Error::Conflict(_)) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(Error::Conflict(
        "the page is being changed by many people right now; retry".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = "<p>a&nbsp;b</p><ac:task-list><ac:task><ac:task-id>1</ac:task-id><ac:task-status>incomplete</ac:task-status><ac:task-body>one <ac:task-list><ac:task><ac:task-id>2</ac:task-id><ac:task-status>complete</ac:task-status><ac:task-body>nested</ac:task-body></ac:task></ac:task-list></ac:task-body></ac:task><ac:task><ac:task-id> 3 </ac:task-id><ac:task-status/><ac:task-body>x</ac:task-body></ac:task></ac:task-list>";

    #[test]
    fn tasks_in_document_order() {
        let t = tasks_of(BODY).unwrap();
        let ids: Vec<(&str, bool)> = t.iter().map(|t| (t.id.as_str(), t.complete)).collect();
        assert_eq!(ids, [("1", false), ("2", true), ("3", false)]);
    }

    #[test]
    fn ticking_changes_only_that_status() {
        let b = with_task_status(BODY, "1", true).unwrap().unwrap();
        assert_eq!(b, BODY.replacen("incomplete", "complete", 1));
        let b = with_task_status(BODY, "2", false).unwrap().unwrap();
        assert_eq!(
            b,
            BODY.replace(
                "<ac:task-status>complete</ac:task-status>",
                "<ac:task-status>incomplete</ac:task-status>"
            )
        );
        let b = with_task_status(BODY, "3", true).unwrap().unwrap();
        assert_eq!(
            b,
            BODY.replace(
                "<ac:task-status/>",
                "<ac:task-status>complete</ac:task-status>"
            )
        );
        assert_eq!(with_task_status(BODY, "9", true).unwrap(), None);
    }
}
