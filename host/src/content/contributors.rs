//! Who contributed to a set of pages: versions written, comments, watches —
//! what the `contributors` macro lists (through the `people` capability).
//!
//! Invariant: the set is filtered for the viewer in SQL before anything is
//! counted, so a hidden page adds nobody and no count.

use super::*;

/// Which content, and what counts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ContributorQuery {
    pub pages: Vec<i64>,
    pub scope: Scope,
    /// Upper-case keys; used when `pages` is empty.
    pub spaces: Vec<String>,
    /// Lower-case names.
    pub labels: Vec<String>,
    pub edits: bool,
    pub comments: bool,
    pub watches: bool,
    pub limit: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    Pages,
    Children,
    Descendants,
}

impl Scope {
    pub fn parse(s: &str) -> Option<Scope> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "page" | "pages" => Some(Scope::Pages),
            "children" => Some(Scope::Children),
            "descendants" => Some(Scope::Descendants),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Contributor {
    pub user_key: String,
    pub username: String,
    pub display_name: String,
    pub edits: i64,
    pub comments: i64,
    pub watches: i64,
    pub last_active: Option<DateTime<Utc>>,
}

/// Contributors to the content `q` names that the viewer may see, most
/// contributions first.
pub(crate) async fn contributors(
    db: &impl GenericClient,
    viewer: &Viewer,
    q: &ContributorQuery,
) -> Result<Vec<Contributor>> {
    if q.pages.is_empty() && q.spaces.is_empty() {
        return Ok(Vec::new());
    }
    let filter = Viewer::content_filter(1, 2, 3);
    let sql = format!(
        "WITH base AS (
             SELECT c.id FROM content c JOIN spaces s ON s.id = c.space_id
             WHERE c.content_type IN ('page', 'blogpost') AND c.status = 'current'
               AND CASE WHEN cardinality($4::bigint[]) > 0 THEN
                     c.id = ANY($4) OR ($5 = 'children' AND c.parent_id = ANY($4))
                     OR ($5 = 'descendants' AND c.ancestors && $4)
                   ELSE upper(s.space_key) = ANY($6) END
               AND (cardinality($7::text[]) = 0 OR EXISTS (SELECT 1 FROM labels l
                     WHERE l.content_id = c.id AND lower(l.name) = ANY($7)))
               AND {filter}),
         edits AS (
             SELECT v.author_id AS uid, count(*) AS n, max(v.created_at) AS at
             FROM content_versions v WHERE $8 AND v.content_id IN (SELECT id FROM base)
               AND v.author_id IS NOT NULL GROUP BY 1),
         comments AS (
             SELECT k.creator_id AS uid, count(*) AS n, max(k.created_at) AS at
             FROM content k WHERE $9 AND k.content_type = 'comment' AND k.status = 'current'
               AND k.container_id IN (SELECT id FROM base) AND k.creator_id IS NOT NULL GROUP BY 1),
         watching AS (
             SELECT w.user_id AS uid, count(*) AS n FROM watches w
             WHERE $10 AND (w.content_id IN (SELECT id FROM base)
               OR w.space_id IN (SELECT space_id FROM content WHERE id IN (SELECT id FROM base)))
             GROUP BY 1)
         SELECT u.user_key, u.username, u.display_name,
                coalesce(e.n, 0), coalesce(m.n, 0), coalesce(w.n, 0),
                greatest(e.at, m.at)
         FROM users u
         LEFT JOIN edits e ON e.uid = u.id LEFT JOIN comments m ON m.uid = u.id
         LEFT JOIN watching w ON w.uid = u.id
         WHERE e.uid IS NOT NULL OR m.uid IS NOT NULL OR w.uid IS NOT NULL
         ORDER BY coalesce(e.n, 0) + coalesce(m.n, 0) + coalesce(w.n, 0) DESC,
                  greatest(e.at, m.at) DESC NULLS LAST, lower(u.display_name)
         LIMIT $11"
    );
    let scope = match q.scope {
        Scope::Pages => "",
        Scope::Children => "children",
        Scope::Descendants => "descendants",
    };
    let limit = i64::from(q.limit.min(1000));
    let rows = crate::db::query(
        db,
        &sql,
        &[
            &viewer.user_id(),
            &*viewer.groups,
            &*viewer.view_spaces,
            &q.pages,
            &scope,
            &q.spaces,
            &q.labels,
            &q.edits,
            &q.comments,
            &q.watches,
            &limit,
        ],
    )
    .await?;
    Ok(rows
        .iter()
        .map(|r| Contributor {
            user_key: r.get(0),
            username: r.get(1),
            display_name: r.get(2),
            edits: r.get(3),
            comments: r.get(4),
            watches: r.get(5),
            last_active: r.get(6),
        })
        .collect())
}
