//! Mentions as people write: `@` completes users (`/ui/users`, people who
//! can see the page first), and `@username` in Markdown becomes a mention
//! of that user (`ac:link` + `ri:user` with the user key).
//!
//! Invariant: the completion list names people by username and display
//! name only (never e-mail addresses), to signed-in users only.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use axum::Router;
use serde_json::json;

use crate::content;
use crate::error::Error;
use crate::perms::Viewer;
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/ui/users", get(complete))
}

/// Markdown to storage format, `@username` of existing users as mentions.
pub(crate) async fn storage_from_markdown(
    db: &impl deadpool_postgres::GenericClient,
    md: &str,
) -> Result<String, Error> {
    let names: Vec<String> = md
        .split('@')
        .skip(1)
        .map(|s| {
            s.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
                .collect::<String>()
                .trim_end_matches(['.', '-'])
                .to_lowercase()
        })
        .filter(|n| !n.is_empty())
        .collect();
    if names.is_empty() {
        return Ok(cairn_render::markdown_to_storage(md));
    }
    let keys = crate::users::keys_by_usernames(db, &names).await?;
    Ok(cairn_render::markdown_to_storage_with_mentions(md, &|n| {
        keys.get(&n.to_lowercase()).cloned()
    }))
}

#[derive(serde::Deserialize)]
struct Q {
    #[serde(default)]
    q: String,
    /// The page being written, so people who can see it come first.
    #[serde(default)]
    page: Option<i64>,
}

async fn complete(
    State(app): State<AppState>,
    viewer: Viewer,
    Query(q): Query<Q>,
) -> Result<Response, Error> {
    viewer.require_user()?;
    if !viewer.can_use {
        return Err(Error::Forbidden("you may not use the wiki".into()));
    }
    let db = app.pool.get().await?;
    let rows = crate::users::complete(&db, &q.q).await?;
    let page = match q.page {
        Some(id) => content::get(&db, &viewer, id).await.ok(),
        None => None,
    };
    let mut out = Vec::new();
    for r in rows {
        let sees = match &page {
            Some(p) => {
                let user = crate::notify::fanout::active_user(&db, r.id).await?;
                let theirs = Viewer::load(&db, user).await?;
                content::get(&db, &theirs, p.id).await.is_ok()
            }
            None => true,
        };
        out.push((
            !sees,
            json!({
                "username": r.username,
                "displayName": r.display_name,
                "userKey": r.user_key,
                "canSee": sees,
            }),
        ));
    }
    // Stable: those who can see the page first, each group in match order.
    out.sort_by_key(|(cannot, _)| *cannot);
    let list: Vec<_> = out.into_iter().take(8).map(|(_, v)| v).collect();
    Ok(Json(json!({ "results": list })).into_response())
}
