//! The site administration screens: users, groups, global permissions
//! and the search index.
//!
//! Invariant: every handler here starts by requiring a system
//! administrator; nothing is read or changed before that check.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::Router;

use super::notice::{self, Notice};
use super::{fmt_time, grid, see_other, IntoHtml, Layout, OnField, Posted, UiResult, WithNext};
use crate::error::Error;
use crate::perms::Viewer;
use crate::users;
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(|| async { see_other("/admin/users") }))
        .route("/admin/users", get(admin_users).post(admin_create_user))
        .route("/admin/users/{id}/active", post(admin_user_active))
        .route(
            "/admin/users/{id}/edit",
            get(admin_user_edit).post(admin_user_edit_post),
        )
        .route("/admin/users/{id}/ratelimit", post(admin_user_ratelimit))
        .route("/admin/groups", get(admin_groups).post(admin_groups_post))
        .route(
            "/admin/permissions",
            get(admin_perms).post(admin_perms_post),
        )
        .route("/admin/search", get(admin_search).post(admin_search_post))
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    layout: Layout,
    users: Vec<users::UserRow>,
    message: String,
    q: String,
    total: i64,
    prev: String,
    next: String,
}

/// Users a page of the admin's list holds.
const USERS_PER_PAGE: i64 = 50;

#[derive(serde::Deserialize, Default)]
struct UsersQ {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: i64,
}

async fn users_page(app: &AppState, viewer: &Viewer, message: String) -> UiResult {
    users_page_for(app, viewer, message, &UsersQ::default()).await
}

async fn users_page_for(app: &AppState, viewer: &Viewer, message: String, q: &UsersQ) -> UiResult {
    viewer.require_admin().next("/admin/users")?;
    let db = app.pool.get().await?;
    let page = q.page.max(0);
    let (list, total) = users::list(&db, &q.q, page * USERS_PER_PAGE, USERS_PER_PAGE).await?;
    let link = |p: i64| {
        let mut s = form_urlencoded::Serializer::new(String::new());
        if !q.q.is_empty() {
            s.append_pair("q", &q.q);
        }
        s.append_pair("page", &p.to_string());
        format!("/admin/users?{}", s.finish())
    };
    Ok(UsersPage {
        layout: Layout::new("Users", viewer),
        users: list,
        message,
        q: q.q.clone(),
        total,
        prev: if page > 0 {
            link(page - 1)
        } else {
            String::new()
        },
        next: if (page + 1) * USERS_PER_PAGE < total {
            link(page + 1)
        } else {
            String::new()
        },
    }
    .into_html())
}

async fn admin_users(
    State(app): State<AppState>,
    viewer: Viewer,
    Query(q): Query<UsersQ>,
) -> UiResult {
    users_page_for(&app, &viewer, String::new(), &q).await
}

#[derive(Template)]
#[template(path = "admin_user.html")]
struct UserEditPage {
    layout: Layout,
    u: users::UserRow,
    /// (group, member) for every group.
    groups: Vec<(String, bool)>,
    message: String,
}

async fn user_edit_page(app: &AppState, viewer: &Viewer, id: i64, message: String) -> UiResult {
    viewer
        .require_admin()
        .next(&format!("/admin/users/{id}/edit"))?;
    let db = app.pool.get().await?;
    let u = users::row(&db, id).await?;
    let groups = users::groups(&db)
        .await?
        .into_iter()
        .map(|g| {
            let member = u.groups.contains(&g.name);
            (g.name, member)
        })
        .collect();
    Ok(UserEditPage {
        layout: Layout::new(format!("Edit {}", u.user.username), viewer),
        u,
        groups,
        message,
    }
    .into_html())
}

async fn admin_user_edit(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Query(n): Query<Notice>,
) -> UiResult {
    user_edit_page(&app, &viewer, id, n.message()).await
}

async fn admin_user_edit_post(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    Posted { viewer, form }: Posted,
) -> UiResult {
    viewer.require_admin()?;
    let groups: Vec<String> = form
        .0
        .iter()
        .filter(|(k, _)| k == "group")
        .map(|(_, v)| v.clone())
        .collect();
    // Checked first, so a refused password changes nothing else.
    let password = form.text("password");
    if !password.is_empty() {
        crate::auth::validate_password(password).on_field("password")?;
    }
    let mut db = app.pool.get().await?;
    let r = users::update_by_admin(
        &mut db,
        id,
        form.text("display_name"),
        form.text("email"),
        &groups,
    )
    .await;
    if let Err(Error::BadRequest(m)) = r {
        let field = if m.to_lowercase().contains("mail") {
            "email"
        } else if m.to_lowercase().contains("full name") {
            "display_name"
        } else {
            "group"
        };
        return Err(Error::BadRequest(m)).on_field(field);
    }
    r?;
    if !password.is_empty() {
        users::set_password(&db, id, password)
            .await
            .on_field("password")?;
    }
    Ok(notice::done(&format!("/admin/users/{id}/edit"), "saved"))
}

async fn admin_create_user(
    State(app): State<AppState>,
    Posted { viewer, form }: Posted,
) -> UiResult {
    viewer.require_admin()?;
    let mut db = app.pool.get().await?;
    let r = users::create(
        &mut db,
        users::NewUser {
            username: form.text("username").trim(),
            display_name: form.get("display_name"),
            email: form.get("email"),
            password: form.text("password"),
            admin: form.checked("admin"),
        },
    )
    .await;
    drop(db);
    match r {
        // The new user, found in the list (no message store needed).
        Ok(u) => Ok(see_other(&format!(
            "/admin/users?q={}",
            crate::urls::enc(&u.username)
        ))),
        // Refused: the form keeps what was typed (app.js shows the message
        // beside the field; without the script, the error page's way back).
        Err(Error::BadRequest(m)) => {
            let l = m.to_lowercase();
            let field = if l.contains("password") {
                "password"
            } else if l.contains("mail") {
                "email"
            } else if l.contains("display name") {
                "display_name"
            } else {
                "username"
            };
            Err(Error::BadRequest(m)).on_field(field)
        }
        Err(e) => Err(e.into()),
    }
}

async fn admin_user_active(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    Posted { viewer, form }: Posted,
) -> UiResult {
    viewer.require_admin()?;
    if viewer.user_id() == Some(id) {
        return users_page(&app, &viewer, "You cannot deactivate yourself.".into()).await;
    }
    let mut db = app.pool.get().await?;
    let r = users::set_active(&mut db, id, form.checked("active")).await;
    drop(db);
    match r {
        Ok(()) => Ok(see_other("/admin/users")),
        Err(Error::BadRequest(m)) => users_page(&app, &viewer, m).await,
        Err(e) => Err(e.into()),
    }
}

async fn admin_user_ratelimit(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    Posted { viewer, form }: Posted,
) -> UiResult {
    viewer.require_admin()?;
    let db = app.pool.get().await?;
    users::set_rate_limit_exempt(&db, id, form.checked("exempt")).await?;
    Ok(see_other("/admin/users"))
}

#[derive(Template)]
#[template(path = "admin_groups.html")]
struct GroupsPage {
    layout: Layout,
    groups: Vec<users::Group>,
    message: String,
}

async fn groups_page(app: &AppState, viewer: &Viewer, message: String) -> UiResult {
    viewer.require_admin().next("/admin/groups")?;
    let db = app.pool.get().await?;
    Ok(GroupsPage {
        layout: Layout::new("Groups", viewer),
        groups: users::groups(&db).await?,
        message,
    }
    .into_html())
}

async fn admin_groups(
    State(app): State<AppState>,
    viewer: Viewer,
    Query(n): Query<Notice>,
) -> UiResult {
    groups_page(&app, &viewer, n.message()).await
}

async fn admin_groups_post(
    State(app): State<AppState>,
    Posted { viewer, form }: Posted,
) -> UiResult {
    viewer.require_admin()?;
    let mut db = app.pool.get().await?;
    let (group, user) = (form.text("group"), form.text("username").trim());
    match form.text("action") {
        "create" => {
            let name = form.text("name").trim();
            users::create_group(&db, name, form.text("description"))
                .await
                .on_field("name")?;
            Ok(notice::done_with(
                "/admin/groups",
                "group-created",
                name,
                "",
            ))
        }
        "add" => {
            let field = if users::group_by_name(&db, group).await?.is_none() {
                "group"
            } else {
                "username"
            };
            users::add_member(&db, group, user).await.on_name(field)?;
            Ok(notice::done_with(
                "/admin/groups",
                "member-added",
                user,
                group,
            ))
        }
        "remove" => {
            users::remove_member(&mut db, group, user).await?;
            Ok(notice::done_with(
                "/admin/groups",
                "member-removed",
                user,
                group,
            ))
        }
        other => Err(Error::BadRequest(format!("unknown action {other:?}")).into()),
    }
}

#[derive(Template)]
#[template(path = "admin_permissions.html")]
struct PermsPage {
    layout: Layout,
    grid_rows: Vec<grid::GridRow>,
    grid_perms: Vec<(&'static str, &'static str)>,
    grid_action: String,
    message: String,
}

/// The global permissions, as the grid's columns.
const GLOBAL_PERMS: [(&str, &str); 3] = [
    ("use", "Use the wiki"),
    ("create_space", "Create spaces"),
    ("admin", "Administer the site"),
];

async fn perms_page(app: &AppState, viewer: &Viewer, message: String) -> UiResult {
    viewer.require_admin().next("/admin/permissions")?;
    let db = app.pool.get().await?;
    let values: Vec<&str> = GLOBAL_PERMS.iter().map(|p| p.0).collect();
    Ok(PermsPage {
        layout: Layout::new("Global permissions", viewer),
        grid_rows: grid::rows(&users::global_grants(&db).await?, &values),
        grid_perms: GLOBAL_PERMS.to_vec(),
        grid_action: "/admin/permissions".into(),
        message,
    }
    .into_html())
}

async fn admin_perms(
    State(app): State<AppState>,
    viewer: Viewer,
    Query(n): Query<Notice>,
) -> UiResult {
    perms_page(&app, &viewer, n.message()).await
}

async fn admin_perms_post(
    State(app): State<AppState>,
    Posted { viewer, form }: Posted,
) -> UiResult {
    viewer.require_admin()?;
    let mut db = app.pool.get().await?;
    if form.text("action") == "grid" {
        let values: Vec<&str> = GLOBAL_PERMS.iter().map(|p| p.0).collect();
        let grants = users::global_grants(&db).await?;
        let admins = admin_group(&db).await?;
        let mut changes = Vec::new();
        for (kind, name, perm, granted) in
            grid::changes(&form, &grants, &values).on_field("new_name")?
        {
            let who = grid::principal(&db, &form, &kind, &name).await?;
            if !granted && perm == "admin" && who == users::Principal::Group(admins) {
                return Err(Error::BadRequest(
                    "the administrators group keeps the admin permission".into(),
                )
                .into());
            }
            changes.push((who, perm, granted));
        }
        let n = changes.len();
        users::set_global_grants(&mut db, &changes).await?;
        return Ok(grid::saved("/admin/permissions", n));
    }
    let who = users::parse_principal(&db, form.text("kind"), form.text("name").trim())
        .await
        .on_name("name")?;
    if form.text("grant") != "1"
        && who == users::Principal::Group(admin_group(&db).await?)
        && form.text("permission") == "admin"
    {
        return Err(Error::BadRequest(
            "the administrators group keeps the admin permission".into(),
        )
        .into());
    }
    users::set_global_grant(
        &mut db,
        form.text("permission"),
        &who,
        form.text("grant") == "1",
    )
    .await?;
    Ok(notice::done("/admin/permissions", "saved"))
}

async fn admin_group(db: &impl deadpool_postgres::GenericClient) -> Result<i64, Error> {
    users::group_by_name(db, "cairn-administrators")
        .await?
        .ok_or_else(|| Error::Internal("the cairn-administrators group is missing".into()))
}

struct NodePosition {
    node: String,
    position: i64,
    lag: i64,
    docs: i64,
    updated: String,
}

#[derive(Template)]
#[template(path = "admin_search.html")]
struct SearchAdminPage {
    layout: Layout,
    head: i64,
    oldest: i64,
    local_position: i64,
    local_docs: u64,
    nodes: Vec<NodePosition>,
    snapshots: Vec<(i64, String)>,
    message: String,
    rebuild: String,
    /// Whether search is right on this node: degraded state, the last
    /// distrusted index or snapshot, the last drift check.
    integrity: Vec<String>,
}

async fn search_admin_page(app: &AppState, viewer: &Viewer, message: String) -> UiResult {
    viewer.require_admin().next("/admin/search")?;
    let db = app.pool.get().await?;
    let journal = crate::search::journal::status(&db).await?;
    let (head, oldest) = (journal.head, journal.oldest);
    let nodes = journal
        .nodes
        .into_iter()
        .map(|n| NodePosition {
            node: n.node_id,
            position: n.position,
            lag: n.lag,
            docs: n.docs,
            updated: fmt_time(&n.updated),
        })
        .collect();
    let snapshots: Vec<(i64, String)> = crate::search::snapshots(app.files.shared_home())
        .into_iter()
        .map(|(seq, path)| {
            let when = std::fs::metadata(&path)
                .and_then(|m| m.modified())
                .map(|t| fmt_time(&chrono::DateTime::<chrono::Utc>::from(t)))
                .unwrap_or_default();
            (seq, when)
        })
        .collect();
    let (local_position, local_docs) = app
        .search
        .as_ref()
        .map(|i| (i.position(), i.doc_count()))
        .unwrap_or((0, 0));
    Ok(SearchAdminPage {
        layout: Layout::new("Search index", viewer),
        head,
        oldest,
        local_position,
        local_docs,
        nodes,
        snapshots,
        message,
        integrity: app.search.as_ref().map_or_else(Vec::new, |i| {
            let h = i.health();
            let mut out = Vec::new();
            if let Some(d) = &h.degraded {
                out.push(format!("Search is degraded on this node: {d}."));
            }
            if let Some((at, why)) = &h.last_distrust {
                out.push(format!("Last index or snapshot not trusted ({}): {why}.", fmt_time(at)));
            }
            match &h.last_check {
                Some(c) => out.push(format!(
                    "Last drift check ({}): {c}. Checks: {}, documents repaired: {}, stale hits withheld: {}.",
                    fmt_time(&c.at),
                    h.drift_checks,
                    h.drift_repaired,
                    h.stale_hits
                )),
                None => out.push("No drift check has run on this node yet.".into()),
            }
            out
        }),
        rebuild: app.search.as_ref().map_or_else(String::new, |i| {
            let st = i.rebuild_state();
            if st.running {
                format!(
                    "Rebuilding beside the live index: {} of {} documents.",
                    st.done, st.total
                )
            } else {
                st.last
                    .map(|l| format!("Last rebuild: {l}."))
                    .unwrap_or_default()
            }
        }),
    }
    .into_html())
}

async fn admin_search(State(app): State<AppState>, viewer: Viewer) -> UiResult {
    search_admin_page(&app, &viewer, String::new()).await
}

async fn admin_search_post(
    State(app): State<AppState>,
    Posted { viewer, form }: Posted,
) -> UiResult {
    viewer.require_admin()?;
    let msg = match form.text("action") {
        "rebuild" => {
            let db = app.pool.get().await?;
            crate::search::journal::request_rebuild(&db).await?;
            "Rebuild requested: every node builds a new index beside its live one and swaps it in; search keeps answering.".to_string()
        }
        "snapshot" => match &app.search {
            Some(i) => {
                let seq = i
                    .snapshot_and_trim(&app.pool, app.files.shared_home())
                    .await?;
                format!("Snapshot written at journal position {seq}.")
            }
            None => "This node has no search index.".into(),
        },
        other => return Err(Error::BadRequest(format!("unknown action {other:?}")).into()),
    };
    search_admin_page(&app, &viewer, msg).await
}
