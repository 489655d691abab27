//! Loading index documents from PostgreSQL: a content item's current
//! state, its space and the read-restricted pages on its chain.
//!
//! Invariant: a document is loaded in one snapshot of the database, so it
//! never mixes two versions of a page.

use crate::error::Result;
use deadpool_postgres::GenericClient;

pub(super) struct IndexDoc {
    pub(super) id: i64,
    pub(super) version: i64,
    pub(super) kind: String,
    pub(super) space_id: i64,
    pub(super) space_key: String,
    pub(super) title: String,
    pub(super) body: String,
    pub(super) labels: Vec<String>,
    pub(super) creator: String,
    pub(super) contributors: Vec<String>,
    pub(super) created: chrono::DateTime<chrono::Utc>,
    pub(super) modified: chrono::DateTime<chrono::Utc>,
    pub(super) ancestors: Vec<i64>,
    pub(super) parent: Option<i64>,
    pub(super) container: Option<i64>,
    pub(super) rset: Vec<i64>,
    pub(super) mentions: Vec<String>,
}

/// The current, indexable state of `ids` (trashed or deleted ones are
/// simply absent, so applying removes them).
pub(super) async fn load_docs(
    db: &impl GenericClient,
    store: &crate::attach::Store,
    ids: &[i64],
) -> Result<Vec<IndexDoc>> {
    let rows = crate::db::query(
        db,
        "SELECT c.id, c.content_type, c.space_id, s.space_key, c.title, c.body, c.created_at, c.modified_at,
                c.ancestors, c.parent_id, c.container_id, coalesce(u.username, ''),
                coalesce((SELECT array_agg(name ORDER BY name) FROM labels l WHERE l.content_id = c.id), '{}'),
                coalesce((SELECT array_agg(DISTINCT a.username) FROM content_versions v JOIN users a ON a.id = v.author_id
                          WHERE v.content_id = c.id), '{}'),
                coalesce((SELECT array_agg(DISTINCT r.content_id) FROM content_restrictions r
                          WHERE r.operation = 'read' AND r.content_id = ANY(c.ancestors || c.id)), '{}'),
                v.media_type, v.file_sha256, v.file_size, c.version
         FROM content c JOIN spaces s ON s.id = c.space_id
         LEFT JOIN users u ON u.id = c.creator_id
         LEFT JOIN content_versions v ON v.content_id = c.id AND v.version = c.version
         WHERE c.id = ANY($1) AND c.status = 'current'",
        &[&ids],
    )
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let kind: String = r.get(1);
        let body: String = r.get(5);
        let title: String = r.get(4);
        let text = match kind.as_str() {
            "attachment" => {
                let mt: Option<String> = r.get(15);
                let sha: Option<String> = r.get(16);
                let size: Option<i64> = r.get(17);
                let textual = mt.as_deref().is_some_and(|m| {
                    m.starts_with("text/") || m == "application/json" || m == "application/xml"
                });
                match (textual, sha, size) {
                    (true, Some(sha), Some(n)) if n <= 1_000_000 => store
                        .read_verified(&sha)
                        .await
                        .map(|b| String::from_utf8_lossy(&b).into_owned())
                        .unwrap_or_default(),
                    _ => String::new(),
                }
            }
            _ => cairn_render::text(&body).unwrap_or_default(),
        };
        let ancestors: Vec<i64> = r.get(8);
        out.push(IndexDoc {
            id: r.get(0),
            version: r.get::<_, i32>(18) as i64,
            space_id: r.get(2),
            space_key: r.get(3),
            title,
            body: text,
            created: r.get(6),
            modified: r.get(7),
            parent: if kind == "page" { r.get(9) } else { None },
            container: r.get(10),
            creator: r.get(11),
            labels: r.get(12),
            contributors: r.get(13),
            rset: r.get(14),
            mentions: cairn_render::references(&body)
                .map(|refs| refs.users.into_iter().collect())
                .unwrap_or_default(),
            ancestors,
            kind,
        });
    }
    // Mentions are written as user keys (or usernames): index usernames.
    let written: Vec<String> = out
        .iter()
        .flat_map(|d| d.mentions.iter().cloned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if !written.is_empty() {
        let lower: Vec<String> = written.iter().map(|w| w.to_lowercase()).collect();
        let names: std::collections::HashMap<String, String> = crate::db::query(
            db,
            "SELECT user_key, lower(username) FROM users WHERE user_key = ANY($1) OR lower(username) = ANY($2)",
            &[&written, &lower],
        )
        .await?
        .iter()
        .flat_map(|r| {
            let (key, name): (String, String) = (r.get(0), r.get(1));
            [(key, name.clone()), (name.clone(), name)]
        })
        .collect();
        for d in &mut out {
            d.mentions = d
                .mentions
                .iter()
                .filter_map(|m| {
                    names
                        .get(m)
                        .or_else(|| names.get(&m.to_lowercase()))
                        .cloned()
                })
                .collect();
        }
    }
    Ok(out)
}
