//! The task index (`task_index`, migration V18): every task of the current
//! body of each page and blog post — id, text, status, assignee, due date,
//! when it first appeared — so "My tasks" and the task report read rows
//! instead of parsing bodies.
//!
//! Invariants: [`reindex`] runs in the transaction of every save of a body
//! (`create`, `update`, hence ticks, restores and undo), so the index never
//! disagrees with a committed body; a task keeps its `created_at` across
//! saves as long as its id stays on the page. Trash and restore need no
//! upkeep because every reader joins `content` (current rows only) and
//! filters with the viewer's [`Viewer::content_filter`] in SQL; a purge
//! cascades. Pages saved before the index existed (or imported) are indexed
//! by [`backfill`].

use chrono::{DateTime, NaiveDate, Utc};
use deadpool_postgres::GenericClient;

use crate::error::Result;
use crate::perms::Viewer;

const MAX_TEXT: usize = 500;
const MAX_LIST: i64 = 1000;

/// Rewrites the index rows of page `page_id` from `body`. Call inside the
/// transaction that saves the body.
pub(crate) async fn reindex(tx: &impl GenericClient, page_id: i64, body: &str) -> Result<()> {
    // Saved bodies are well-formed (checked before saving); an old one that
    // is not simply has no indexed tasks.
    let mut tasks = cairn_render::tasks(body).unwrap_or_default();
    let mut seen = std::collections::HashSet::new();
    tasks.retain(|t| seen.insert(t.id.clone()));
    let ids: Vec<&str> = tasks.iter().map(|t| t.id.as_str()).collect();
    crate::db::execute(
        tx,
        "DELETE FROM task_index WHERE page_id = $1 AND NOT (task_id = ANY($2))",
        &[&page_id, &ids],
    )
    .await?;
    for (pos, t) in tasks.iter().enumerate() {
        let text: String = t.text.chars().take(MAX_TEXT).collect();
        let due = t
            .due
            .as_deref()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
        crate::db::execute(
            tx,
            "INSERT INTO task_index (page_id, task_id, position, body_text, complete, assignee_key,
                 assignee_id, due_date, completed_at)
             VALUES ($1, $2, $3, $4, $5, $6,
                 (SELECT id FROM users WHERE user_key = $6 OR lower(username) = lower($6)
                  ORDER BY user_key = $6 DESC LIMIT 1),
                 $7, CASE WHEN $5 THEN now() END)
             ON CONFLICT (page_id, task_id) DO UPDATE SET position = excluded.position,
                 body_text = excluded.body_text, complete = excluded.complete,
                 assignee_key = excluded.assignee_key, assignee_id = excluded.assignee_id,
                 due_date = excluded.due_date,
                 completed_at = CASE WHEN NOT excluded.complete THEN NULL
                     WHEN task_index.complete THEN task_index.completed_at ELSE now() END",
            &[
                &page_id,
                &t.id,
                &(pos as i32),
                &text,
                &t.complete,
                &t.assignee,
                &due,
            ],
        )
        .await?;
    }
    Ok(())
}

/// Indexes every current page or blog post that has tasks in its body but
/// none in the index (pages from before the index, imports). Idempotent; each
/// page is read and indexed under its row lock, so a concurrent save cannot
/// be overwritten by an older body. Returns how many pages it indexed.
pub(crate) async fn backfill(db: &mut deadpool_postgres::Object) -> Result<usize> {
    let ids: Vec<i64> = crate::db::query(
        &*db,
        "SELECT c.id FROM content c WHERE c.content_type IN ('page', 'blogpost')
           AND c.body LIKE '%<ac:task>%'
           AND NOT EXISTS (SELECT 1 FROM task_index t WHERE t.page_id = c.id)",
        &[],
    )
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect();
    let mut done = 0;
    for id in ids {
        let tx = db.transaction().await?;
        if let Some(r) = tx
            .query_opt("SELECT body FROM content WHERE id = $1 FOR UPDATE", &[&id])
            .await?
        {
            reindex(&tx, id, r.get(0)).await?;
            backdate(&tx, id).await?;
            done += 1;
        }
        tx.commit().await?;
    }
    Ok(done)
}

/// [`backfill`] inside a transaction that wrote bodies behind `create` and
/// `update` (an import).
pub(crate) async fn backfill_in(tx: &impl GenericClient) -> Result<()> {
    let rows = crate::db::query(
        tx,
        "SELECT c.id, c.body FROM content c WHERE c.content_type IN ('page', 'blogpost')
           AND c.body LIKE '%<ac:task>%'
           AND NOT EXISTS (SELECT 1 FROM task_index t WHERE t.page_id = c.id)",
        &[],
    )
    .await?;
    for r in rows {
        reindex(tx, r.get(0), r.get(1)).await?;
        backdate(tx, r.get(0)).await?;
    }
    Ok(())
}

/// Tasks indexed after the fact appeared no later than their page and were
/// completed no later than its last change: the best dates there are
/// without reading every version.
async fn backdate(tx: &impl GenericClient, page_id: i64) -> Result<()> {
    crate::db::execute(
        tx,
        "UPDATE task_index t SET created_at = c.created_at,
             completed_at = CASE WHEN t.complete THEN c.modified_at END
         FROM content c WHERE c.id = t.page_id AND t.page_id = $1",
        &[&page_id],
    )
    .await?;
    Ok(())
}

/// Which tasks to list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct TaskQuery {
    /// Space keys (upper case); empty: all.
    pub spaces: Vec<String>,
    /// Pages whose tasks, and whose descendants' tasks, are listed; empty: all.
    pub pages: Vec<i64>,
    /// Pages carrying any of these labels (lower case); empty: all.
    pub labels: Vec<String>,
    /// Assignees by user key or username; empty: anyone or no one.
    pub assignees: Vec<String>,
    /// Tasks that appeared on their page on or after this day.
    pub created_from: Option<NaiveDate>,
    /// `Some(true)`: complete only; `Some(false)`: open only.
    pub complete: Option<bool>,
    pub sort: TaskSort,
    pub descending: bool,
    pub limit: u32,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum TaskSort {
    #[default]
    DueDate,
    Created,
    Assignee,
    PageTitle,
    Completed,
}

impl TaskSort {
    pub(crate) fn parse(s: &str) -> Option<TaskSort> {
        Some(
            match s
                .trim()
                .to_lowercase()
                .replace([' ', '_', '-'], "")
                .as_str()
            {
                "" | "duedate" | "due" => TaskSort::DueDate,
                "created" | "createddate" => TaskSort::Created,
                "assignee" => TaskSort::Assignee,
                "pagetitle" | "page" | "location" => TaskSort::PageTitle,
                "completed" | "completeddate" => TaskSort::Completed,
                _ => return None,
            },
        )
    }
    fn order_by(self) -> &'static str {
        match self {
            TaskSort::DueDate => "t.due_date",
            TaskSort::Created => "t.created_at",
            TaskSort::Assignee => "lower(u.display_name)",
            TaskSort::PageTitle => "lower(c.title)",
            TaskSort::Completed => "t.completed_at",
        }
    }
}

/// One indexed task, with its page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IndexedTask {
    pub page_id: i64,
    pub page_title: String,
    pub space_key: String,
    pub page_url: String,
    pub task_id: String,
    pub text: String,
    pub complete: bool,
    /// (key, username, display name).
    pub assignee: Option<(String, String, String)>,
    pub due: Option<NaiveDate>,
    pub created: DateTime<Utc>,
    pub completed: Option<DateTime<Utc>>,
}

/// Tasks matching `q` on pages the viewer may see.
pub(crate) async fn query(
    db: &impl GenericClient,
    viewer: &Viewer,
    q: &TaskQuery,
) -> Result<Vec<IndexedTask>> {
    let dir = if q.descending { "DESC" } else { "ASC" };
    let order = q.sort.order_by();
    let sql = format!(
        "SELECT c.id, c.title, s.space_key, t.task_id, t.body_text, t.complete,
                u.user_key, u.username, u.display_name, t.due_date, t.created_at, t.completed_at
         FROM task_index t JOIN content c ON c.id = t.page_id JOIN spaces s ON s.id = c.space_id
         LEFT JOIN users u ON u.id = t.assignee_id
         WHERE c.status = 'current' AND {{visible}}
           AND (cardinality($5::text[]) = 0 OR upper(s.space_key) = ANY($5))
           AND (cardinality($6::bigint[]) = 0 OR c.id = ANY($6) OR c.ancestors && $6)
           AND (cardinality($7::text[]) = 0
                OR EXISTS (SELECT 1 FROM labels l WHERE l.content_id = c.id AND l.name = ANY($7)))
           AND (cardinality($8::text[]) = 0 OR u.user_key = ANY($8)
                OR lower(u.username) = ANY(SELECT lower(a) FROM unnest($8::text[]) a))
           AND ($9::date IS NULL OR t.created_at >= $9::date)
           AND ($10::boolean IS NULL OR t.complete = $10)
         ORDER BY {order} {dir} NULLS LAST, c.id, t.position
         LIMIT $1"
    );
    let limit = i64::from(q.limit).clamp(1, MAX_LIST);
    let rows = viewer
        .query_visible(
            db,
            &sql,
            &limit,
            &[
                &q.spaces,
                &q.pages,
                &q.labels,
                &q.assignees,
                &q.created_from,
                &q.complete,
            ],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let title: String = r.get(1);
            let space_key: String = r.get(2);
            let id: i64 = r.get(0);
            IndexedTask {
                page_id: id,
                page_url: crate::urls::page_url(&space_key, id, &title),
                page_title: title,
                space_key,
                task_id: r.get(3),
                text: r.get(4),
                complete: r.get(5),
                assignee: r
                    .get::<_, Option<String>>(6)
                    .map(|k| (k, r.get(7), r.get(8))),
                due: r.get(9),
                created: r.get(10),
                completed: r.get(11),
            }
        })
        .collect())
}

/// The tasks assigned to the user `user_key` on pages the viewer may see:
/// open ones by due date (none last), or completed ones most recent first.
pub(crate) async fn assigned_to(
    db: &impl GenericClient,
    viewer: &Viewer,
    user_key: &str,
    completed: bool,
    limit: u32,
) -> Result<Vec<IndexedTask>> {
    query(
        db,
        viewer,
        &TaskQuery {
            assignees: vec![user_key.to_owned()],
            complete: Some(completed),
            sort: if completed {
                TaskSort::Completed
            } else {
                TaskSort::DueDate
            },
            descending: completed,
            limit,
            ..TaskQuery::default()
        },
    )
    .await
}
