//! First-party plugin `cairn.tasks-report`: Confluence's task report macro
//! (`tasks-report-macro`) — the tasks (`ac:task`) of pages, filtered by space,
//! page (with its descendants), label, assignee, created date and status.
//!
//! Everything is read as the viewing user: tasks through the `tasks` capability
//! (the host's task index, which never answers tasks of content the viewer may not
//! see) and the pages named in `pages` through `content`. Anyone could write this
//! plugin with the same interfaces. Cacheable: the output depends only on the call
//! and what it reads (no clock: overdue dates are not marked here).

use cairn_plugin_sdk::tasks::{self, Task, TaskQuery};
use cairn_plugin_sdk::*;

export_macros! {
    describe: specs(),
    render: |call, ctx| render(&Host, &call, &ctx),
}

/// Rows a report shows at most.
const MAX_PAGE_SIZE: u32 = 1000;

/// The columns a report can show, by Confluence's names.
const COLUMNS: [&str; 6] = [
    "description",
    "duedate",
    "assignee",
    "location",
    "completedate",
    "createddate",
];

fn specs() -> Vec<MacroSpec> {
    vec![MacroSpec::new("tasks-report-macro", "Task report")
        .cacheable(true)
        .description("Lists the tasks of pages, by space, page, label, assignee, created date and status")
        .param(ParamSpec::new("spaces", "Space keys, comma separated; @self for this space (default: all spaces)").of(ParamType::Space))
        .param(ParamSpec::new("pages", "Pages whose tasks (and whose descendants' tasks) are listed, comma separated; \"SPACE:Title\" for another space").of(ParamType::Page))
        .param(ParamSpec::new("labels", "Only pages with one of these labels, comma separated").of(ParamType::Label))
        .param(ParamSpec::new("assignees", "Only tasks assigned to these people (user keys or usernames), comma separated").of(ParamType::User))
        .param(ParamSpec::new("createddateFrom", "Only tasks created on or after this date (YYYY-MM-DD, DD-MM-YYYY or DD/MM/YYYY)"))
        .param(ParamSpec::new("status", "complete, incomplete (default) or all").values(&["complete", "incomplete", "all"]).default("incomplete"))
        .param(ParamSpec::new("pageSize", "Most tasks to list").of(ParamType::Int).default("20"))
        .param(ParamSpec::new("columns", "Columns, comma separated: description, duedate, assignee, location, completedate, createddate").default("description,duedate,assignee,location"))
        .param(ParamSpec::new("sortBy", "due date (default), assignee, page title, created, completed").values(&["due date", "assignee", "page title", "created", "completed"]).default("due date"))
        .param(ParamSpec::new("reverseSort", "Reverse the order").of(ParamType::Boolean).default("false"))]
}

/// What the report reads, behind a trait so the logic is testable natively.
trait Store {
    fn page_id(&self, space_key: &str, title: &str) -> Option<i64>;
    fn tasks(&self, q: &TaskQuery) -> Result<Vec<Task>, String>;
}

struct Host;

impl Store for Host {
    fn page_id(&self, space_key: &str, title: &str) -> Option<i64> {
        content::find(space_key, title).map(|p| p.summary.id)
    }
    fn tasks(&self, q: &TaskQuery) -> Result<Vec<Task>, String> {
        tasks::query(q)
    }
}

fn list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `YYYY-MM-DD` of a date written as Confluence's editor or a person writes it.
fn iso_date(v: &str) -> Option<String> {
    let v = v.trim();
    let parts: Vec<&str> = v.split(['-', '/', '.']).collect();
    let [a, b, c] = parts.as_slice() else {
        return None;
    };
    let num = |s: &str| s.parse::<u32>().ok();
    let (y, m, d) = if a.len() == 4 {
        (num(a)?, num(b)?, num(c)?)
    } else if c.len() == 4 {
        (num(c)?, num(b)?, num(a)?)
    } else {
        return None;
    };
    ((1..=12).contains(&m) && (1..=31).contains(&d)).then(|| format!("{y:04}-{m:02}-{d:02}"))
}

fn page_ids(s: &impl Store, ctx: &RenderContext, v: &str) -> Result<Vec<i64>, RenderError> {
    let mut ids = Vec::new();
    for item in list(v) {
        let (space, title) = match item.split_once(':') {
            Some((sp, t)) if !sp.trim().is_empty() && !sp.contains(' ') && !t.trim().is_empty() => {
                (sp.trim().to_owned(), t.trim().to_owned())
            }
            _ => (ctx.space_key.clone(), item.clone()),
        };
        let id = s
            .page_id(&space, &title)
            .or_else(|| s.page_id(&ctx.space_key, &item))
            .ok_or_else(|| {
                RenderError::NotFound(format!(
                    "pages: there is no page \"{title}\" in space {space}, or you may not view it"
                ))
            })?;
        ids.push(id);
    }
    Ok(ids)
}

fn render(s: &impl Store, call: &MacroCall, ctx: &RenderContext) -> Result<String, RenderError> {
    if !call.name.eq_ignore_ascii_case("tasks-report-macro") {
        return Err(fail(format!(
            "the tasks-report plugin has no macro \"{}\"",
            call.name
        )));
    }
    let bad = |p: &str, why: String| RenderError::InvalidParameter((p.into(), why));
    let spaces: Vec<String> = list(call.param("spaces").unwrap_or_default())
        .into_iter()
        .flat_map(|k| match k.to_ascii_lowercase().as_str() {
            "@self" | "currentspace()" => vec![ctx.space_key.clone()],
            "@all" | "*" => Vec::new(),
            _ => vec![k],
        })
        .collect();
    let pages = page_ids(s, ctx, call.param("pages").unwrap_or_default())?;
    let created_from = match call.param("createddateFrom").map(str::trim) {
        None | Some("") => None,
        Some(d) => Some(iso_date(d).ok_or_else(|| {
            bad(
                "createddateFrom",
                format!("{d:?} is not a date (YYYY-MM-DD)"),
            )
        })?),
    };
    let complete = match call
        .param("status")
        .unwrap_or("incomplete")
        .trim()
        .to_ascii_lowercase()
        .as_str()
    {
        "" | "incomplete" | "open" => Some(false),
        "complete" | "completed" | "done" => Some(true),
        "all" | "any" => None,
        other => {
            return Err(bad(
                "status",
                format!("{other:?}: use complete, incomplete or all"),
            ))
        }
    };
    let page_size = match call.param("pageSize").map(str::trim) {
        None | Some("") => 20,
        Some(n) => n
            .parse::<u32>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| bad("pageSize", format!("{n:?} is not a positive number")))?
            .min(MAX_PAGE_SIZE),
    };
    let columns: Vec<String> = match call.param("columns").map(list) {
        Some(c) if !c.is_empty() => c
            .iter()
            .map(|c| c.to_ascii_lowercase().replace(' ', ""))
            .collect(),
        _ => ["description", "duedate", "assignee", "location"]
            .map(String::from)
            .to_vec(),
    };
    if let Some(c) = columns.iter().find(|c| !COLUMNS.contains(&c.as_str())) {
        return Err(bad(
            "columns",
            format!("{c:?} is not a column ({})", COLUMNS.join(", ")),
        ));
    }
    let q = TaskQuery {
        space_keys: spaces,
        page_ids: pages,
        labels: list(call.param("labels").unwrap_or_default()),
        assignees: list(call.param("assignees").unwrap_or_default()),
        created_from,
        complete,
        sort_by: call.param("sortBy").unwrap_or_default().to_owned(),
        descending: call.flag("reverseSort"),
        limit: page_size,
    };
    let rows = s.tasks(&q).map_err(|e| bad("sortBy", e))?;
    Ok(table(&rows, &columns))
}

fn table(rows: &[Task], columns: &[String]) -> String {
    if rows.is_empty() {
        return "<p class=\"macro-empty tasks-report-empty\">No tasks found.</p>".into();
    }
    let mut out = String::from("<table class=\"tasks-report\"><thead><tr><th></th>");
    for c in columns {
        out.push_str("<th>");
        out.push_str(match c.as_str() {
            "description" => "Description",
            "duedate" => "Due date",
            "assignee" => "Assignee",
            "location" => "Location",
            "completedate" => "Completed",
            _ => "Created",
        });
        out.push_str("</th>");
    }
    out.push_str("</tr></thead><tbody>");
    for t in rows {
        out.push_str(if t.complete {
            "<tr class=\"task-complete\"><td><input type=\"checkbox\" disabled checked></td>"
        } else {
            "<tr><td><input type=\"checkbox\" disabled></td>"
        });
        for c in columns {
            out.push_str("<td>");
            match c.as_str() {
                "description" => escape_into(&mut out, &t.body),
                "duedate" => escape_into(&mut out, t.due_date.as_deref().unwrap_or_default()),
                "assignee" => {
                    if let Some(u) = &t.assignee {
                        out.push_str("<a class=\"user-mention\" href=\"/users/");
                        escape_into(&mut out, &u.username);
                        out.push_str("\">");
                        escape_into(&mut out, &u.display_name);
                        out.push_str("</a>");
                    }
                }
                "location" => {
                    out.push_str("<a href=\"");
                    escape_into(&mut out, &t.page_url);
                    out.push_str("\">");
                    escape_into(&mut out, &t.page_title);
                    out.push_str("</a>");
                }
                "completedate" => escape_into(&mut out, day(t.completed.as_deref())),
                _ => escape_into(&mut out, day(Some(&t.created))),
            }
            out.push_str("</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    out
}

/// The date part of an RFC 3339 time.
fn day(t: Option<&str>) -> &str {
    t.map(|t| t.get(..10).unwrap_or(t)).unwrap_or_default()
}

#[cfg(test)]
mod tests;
