//! Watches: a user watching a page or blog post, a space, or a space's blog.
//!
//! Invariants: a watch is only made for something its user may see (a
//! hidden page is "not found" here too, so watching cannot probe titles);
//! each watch has its own random unsubscribe token, so the link in one
//! mail removes exactly that watch; watching is idempotent.

use deadpool_postgres::GenericClient;

use crate::content::{self, Content};
use crate::error::{Error, Result};
use crate::perms::{User, Viewer};

/// A random, unguessable token (two UUIDv4s: 244 random bits).
const TOKEN_SQL: &str =
    "replace(gen_random_uuid()::text, '-', '') || replace(gen_random_uuid()::text, '-', '')";

/// What is watched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    Content(i64),
    /// A space: all its content, or (`blog_only`) its blog posts.
    Space {
        id: i64,
        blog_only: bool,
    },
}

/// The viewer of `user`, to check what they may see.
pub(crate) async fn viewer_of(db: &impl GenericClient, user: &User) -> Result<Viewer> {
    Viewer::load(db, Some(user.clone())).await
}

/// Resolves who a watch call is about: the caller, or (`username`, admins
/// only) someone else.
pub(crate) async fn subject(
    db: &impl GenericClient,
    caller: &Viewer,
    username: Option<&str>,
) -> Result<(User, Viewer)> {
    let me = caller.require_user()?;
    match username {
        None => Ok((me.clone(), caller.clone())),
        Some(u) if u.eq_ignore_ascii_case(&me.username) => Ok((me.clone(), caller.clone())),
        Some(u) => {
            caller.require_admin().map_err(|_| {
                Error::Forbidden(
                    "only system administrators may manage other users' watches".into(),
                )
            })?;
            let user = crate::users::by_name(db, u)
                .await?
                .ok_or_else(|| Error::NotFound(format!("no user named {u:?}")))?;
            let v = viewer_of(db, &user).await?;
            Ok((user, v))
        }
    }
}

/// The page or blog post a watch call names, as `viewer` sees it.
pub(crate) async fn watchable(
    db: &impl GenericClient,
    viewer: &Viewer,
    id: i64,
) -> Result<Content> {
    let c = content::get(db, viewer, id).await?;
    match c.content_type {
        content::ContentType::Page | content::ContentType::BlogPost => Ok(c),
        _ => Err(Error::BadRequest(format!(
            "content {id} is a {}; only pages and blog posts are watched",
            c.content_type.as_str()
        ))),
    }
}

pub(crate) async fn is_watching(db: &impl GenericClient, user_id: i64, t: Target) -> Result<bool> {
    let row = match t {
        Target::Content(id) => {
            crate::db::query_one(
                db,
                "SELECT EXISTS (SELECT 1 FROM watches WHERE user_id = $1 AND content_id = $2)",
                &[&user_id, &id],
            )
            .await?
        }
        Target::Space { id, blog_only } => {
            crate::db::query_one(
                db,
                "SELECT EXISTS (SELECT 1 FROM watches WHERE user_id = $1 AND space_id = $2 AND blog_only = $3)",
                &[&user_id, &id, &blog_only],
            )
            .await?
        }
    };
    Ok(row.get(0))
}

/// Starts watching (a no-op when already watching). The caller has checked
/// that the user may see the target.
pub(crate) async fn watch(db: &impl GenericClient, user_id: i64, t: Target) -> Result<()> {
    match t {
        Target::Content(id) => {
            crate::db::execute(
                db,
                &format!(
                    "INSERT INTO watches (user_id, content_id, token) VALUES ($1, $2, {TOKEN_SQL})
                     ON CONFLICT (content_id, user_id) WHERE content_id IS NOT NULL DO NOTHING"
                ),
                &[&user_id, &id],
            )
            .await?;
        }
        Target::Space { id, blog_only } => {
            crate::db::execute(
                db,
                &format!(
                    "INSERT INTO watches (user_id, space_id, blog_only, token) VALUES ($1, $2, $3, {TOKEN_SQL})
                     ON CONFLICT (space_id, user_id, blog_only) WHERE space_id IS NOT NULL DO NOTHING"
                ),
                &[&user_id, &id, &blog_only],
            )
            .await?;
        }
    }
    Ok(())
}

/// Stops watching; true when there was a watch.
pub(crate) async fn unwatch(db: &impl GenericClient, user_id: i64, t: Target) -> Result<bool> {
    let n = match t {
        Target::Content(id) => {
            crate::db::execute(
                db,
                "DELETE FROM watches WHERE user_id = $1 AND content_id = $2",
                &[&user_id, &id],
            )
            .await?
        }
        Target::Space { id, blog_only } => {
            crate::db::execute(
                db,
                "DELETE FROM watches WHERE user_id = $1 AND space_id = $2 AND blog_only = $3",
                &[&user_id, &id, &blog_only],
            )
            .await?
        }
    };
    Ok(n > 0)
}

/// Auto-watch on create, edit and comment, unless the user turned it off.
/// Runs in the change's transaction.
pub(crate) async fn auto_watch(tx: &impl GenericClient, user_id: i64, page_id: i64) -> Result<()> {
    crate::db::execute(
        tx,
        &format!(
            "INSERT INTO watches (user_id, content_id, token)
             SELECT $1, $2, {TOKEN_SQL}
             WHERE coalesce((SELECT auto_watch FROM notify_prefs WHERE user_id = $1), TRUE)
             ON CONFLICT (content_id, user_id) WHERE content_id IS NOT NULL DO NOTHING"
        ),
        &[&user_id, &page_id],
    )
    .await?;
    Ok(())
}

/// One line of the "watching" list.
#[derive(Debug, Clone)]
pub(crate) struct Watching {
    pub title: String,
    pub url: String,
    /// "page", "blog post", "space", "space blog".
    pub what: &'static str,
    pub space_key: String,
}

/// What `viewer` watches, as far as they can still see it.
pub(crate) async fn watching(db: &impl GenericClient, viewer: &Viewer) -> Result<Vec<Watching>> {
    let user = viewer.require_user()?;
    let rows = crate::db::query(
        db,
        "SELECT content_id, space_id, blog_only FROM watches WHERE user_id = $1 ORDER BY id",
        &[&user.id],
    )
    .await?;
    let ids: Vec<i64> = rows
        .iter()
        .filter_map(|r| r.get::<_, Option<i64>>(0))
        .collect();
    let mut out = Vec::new();
    for c in content::get_many_meta(db, viewer, &ids).await? {
        out.push(Watching {
            url: crate::urls::page_url(&c.space_key, c.id, &c.title),
            what: if c.content_type == content::ContentType::BlogPost {
                "blog post"
            } else {
                "page"
            },
            title: c.title,
            space_key: c.space_key,
        });
    }
    for r in &rows {
        let Some(sid) = r.get::<_, Option<i64>>(1) else {
            continue;
        };
        if !viewer.can_view_space(sid) {
            continue;
        }
        let s = crate::db::query_opt(
            db,
            "SELECT space_key, name FROM spaces WHERE id = $1",
            &[&sid],
        )
        .await?;
        if let Some(s) = s {
            let key: String = s.get(0);
            out.push(Watching {
                url: format!("/spaces/{}", crate::urls::enc(&key)),
                title: s.get(1),
                what: if r.get::<_, bool>(2) {
                    "space blog"
                } else {
                    "space"
                },
                space_key: key,
            });
        }
    }
    Ok(out)
}

/// Watchers of a page, or of its space (`space = true`), that `viewer`
/// may list: REST's `notification/created` and `notification/child-created`.
pub(crate) async fn watchers(
    db: &impl GenericClient,
    viewer: &Viewer,
    page_id: i64,
    space: bool,
) -> Result<Vec<crate::content::Person>> {
    let c = watchable(db, viewer, page_id).await?;
    let rows = if space {
        crate::db::query(
            db,
            "SELECT DISTINCT u.username, u.display_name, u.user_key FROM watches w JOIN users u ON u.id = w.user_id
             WHERE w.space_id = $1 AND (NOT w.blog_only OR $2) ORDER BY u.username",
            &[&c.space_id, &(c.content_type == content::ContentType::BlogPost)],
        )
        .await?
    } else {
        crate::db::query(
            db,
            "SELECT u.username, u.display_name, u.user_key FROM watches w JOIN users u ON u.id = w.user_id
             WHERE w.content_id = $1 ORDER BY u.username",
            &[&c.id],
        )
        .await?
    };
    Ok(rows
        .iter()
        .map(|r| crate::content::Person {
            username: r.get(0),
            display_name: r.get(1),
            user_key: r.get(2),
        })
        .collect())
}

/// What an unsubscribe token names, for the confirmation page.
pub(crate) async fn by_token(
    db: &impl GenericClient,
    token: &str,
) -> Result<Option<(i64, Target)>> {
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let row = crate::db::query_opt(
        db,
        "SELECT user_id, content_id, space_id, blog_only FROM watches WHERE token = $1",
        &[&token],
    )
    .await?;
    Ok(row.map(|r| {
        let t = match (r.get::<_, Option<i64>>(1), r.get::<_, Option<i64>>(2)) {
            (Some(c), _) => Target::Content(c),
            (None, s) => Target::Space {
                id: s.unwrap_or(0),
                blog_only: r.get(3),
            },
        };
        (r.get(0), t)
    }))
}

/// Removes the watch a mail's unsubscribe link names; true when it existed.
/// The token alone authorises it (it was sent only to the watcher).
pub(crate) async fn unsubscribe(db: &impl GenericClient, token: &str) -> Result<bool> {
    if by_token(db, token).await?.is_none() {
        return Ok(false);
    }
    Ok(crate::db::execute(db, "DELETE FROM watches WHERE token = $1", &[&token]).await? > 0)
}

/// The page view's two buttons: whether the viewer watches the page, and
/// its space (all content).
pub(crate) async fn page_buttons(
    db: &impl GenericClient,
    viewer: &Viewer,
    c: &Content,
) -> Result<(bool, bool)> {
    let Some(u) = &viewer.user else {
        return Ok((false, false));
    };
    let r = crate::db::query_one(
        db,
        "SELECT EXISTS (SELECT 1 FROM watches WHERE user_id = $1 AND content_id = $2),
                EXISTS (SELECT 1 FROM watches WHERE user_id = $1 AND space_id = $3 AND NOT blog_only)",
        &[&u.id, &c.id, &c.space_id],
    )
    .await?;
    Ok((r.get(0), r.get(1)))
}

/// The space blog page's buttons: whether the viewer watches the space
/// (all content) and its blog.
pub(crate) async fn space_buttons(
    db: &impl GenericClient,
    viewer: &Viewer,
    space_id: i64,
) -> Result<(bool, bool)> {
    let Some(u) = &viewer.user else {
        return Ok((false, false));
    };
    let r = crate::db::query_one(
        db,
        "SELECT EXISTS (SELECT 1 FROM watches WHERE user_id = $1 AND space_id = $2 AND NOT blog_only),
                EXISTS (SELECT 1 FROM watches WHERE user_id = $1 AND space_id = $2 AND blog_only)",
        &[&u.id, &space_id],
    )
    .await?;
    Ok((r.get(0), r.get(1)))
}
