//! JSON shapes of the REST API: content, spaces, versions, history, users,
//! labels, with Confluence's `expand`, `_links` and `_expandable`.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde_json::{json, Map, Value};

use crate::content::{self, Content, ContentType, Person, Space, VersionInfo};
use crate::error::{Error, Result};
use crate::perms::Viewer;
use crate::urls::{download_url, page_url};
use crate::AppState;

/// The requested expansions (`expand=a,b.c`). Asking for `b.c` implies `b`.
#[derive(Debug, Default, Clone)]
pub struct Expand(BTreeSet<String>);

/// First segments an expansion may start with; anything else is a 400.
const KNOWN: &[&str] = &[
    "body",
    "version",
    "space",
    "ancestors",
    "history",
    "children",
    "descendants",
    "container",
    "metadata",
    "restrictions",
    "operations",
    "extensions",
    "childTypes",
    "description",
    "homepage",
    "icon",
    "permissions",
    "settings",
    "theme",
    "lookAndFeel",
    "status",
    "labels",
    "page",
    "comment",
    "attachment",
    "blogpost",
    "content",
    "likes",
];

impl Expand {
    pub fn parse(s: &str) -> Result<Expand> {
        let mut set = BTreeSet::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let first = part.split('.').next().unwrap_or("");
            if !KNOWN.contains(&first) || part.split('.').any(str::is_empty) {
                return Err(Error::BadRequest(format!(
                    "unknown expansion {part:?}; expandable properties include body.storage, body.view, version, space, ancestors, history, children.page, container, metadata.labels"
                )));
            }
            let mut prefix = String::new();
            for seg in part.split('.') {
                if !prefix.is_empty() {
                    prefix.push('.');
                }
                prefix.push_str(seg);
                set.insert(prefix.clone());
            }
        }
        Ok(Expand(set))
    }
    pub fn has(&self, k: &str) -> bool {
        self.0.contains(k)
    }
    /// The top-level rendered representations asked for (body.view,
    /// body.export_view, body.styled_view), and whether any rendering is
    /// asked for below the top level (e.g. children.page.body.view).
    pub fn renders(&self) -> (bool, bool) {
        const TOP: [&str; 3] = ["body.view", "body.export_view", "body.styled_view"];
        let top = TOP.iter().any(|t| self.0.contains(*t));
        let nested = self
            .0
            .iter()
            .any(|e| e.ends_with("view") && !TOP.contains(&e.as_str()));
        (top, nested)
    }
    /// The expansions below `prefix.` (for nested objects).
    pub fn sub(&self, prefix: &str) -> Expand {
        let p = format!("{prefix}.");
        Expand(
            self.0
                .iter()
                .filter_map(|e| e.strip_prefix(&p).map(str::to_owned))
                .collect(),
        )
    }
}

pub fn base(app: &AppState) -> String {
    app.base_url.clone()
}

pub fn when(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub fn user_json(username: &str, display: &str, key: &str) -> Value {
    json!({
        "type": "known",
        "username": username,
        "userKey": key,
        "accountId": key,
        "displayName": display,
        "profilePicture": {"path": "/images/icons/profilepics/default.svg", "width": 48, "height": 48, "isDefault": true},
        "_links": {"self": format!("/rest/api/user?key={key}")},
    })
}

fn person(p: &Person) -> Value {
    if p.username.is_empty() {
        json!({"type": "anonymous", "displayName": p.display_name})
    } else {
        user_json(&p.username, &p.display_name, &p.user_key)
    }
}

pub fn label(name: &str) -> Value {
    json!({"prefix": "global", "name": name, "label": name, "id": name})
}

fn ctype(c: &Content) -> &'static str {
    c.content_type.as_str()
}

fn content_id(c: &Content) -> String {
    match c.content_type {
        ContentType::Attachment => format!("att{}", c.id),
        _ => c.id.to_string(),
    }
}

fn webui(c: &Content) -> String {
    match c.content_type {
        ContentType::Page | ContentType::BlogPost => page_url(&c.space_key, c.id, &c.title),
        ContentType::Comment => format!(
            "/pages/viewpage.action?pageId={}#comment-{}",
            c.container_id.unwrap_or(0),
            c.id
        ),
        ContentType::Attachment => format!("/pages/{}/attachments", c.container_id.unwrap_or(0)),
    }
}

pub fn version(v: &VersionInfo, c: &Content) -> Value {
    json!({
        "by": person(&v.author),
        "when": when(&v.created_at),
        "message": v.message,
        "number": v.number,
        "minorEdit": v.minor_edit,
        "hidden": false,
        "_links": {"self": format!("/rest/api/content/{}/version/{}", content_id(c), v.number)},
        "_expandable": {"content": format!("/rest/api/content/{}", content_id(c))},
    })
}

fn current_version(c: &Content) -> Value {
    json!({
        "by": person(&c.modifier),
        "when": when(&c.modified_at),
        "message": c.version_message,
        "number": c.version,
        "minorEdit": c.minor_edit,
        "hidden": false,
    })
}

pub async fn history(db: &impl GenericClient, c: &Content, app: &AppState) -> Result<Value> {
    let _ = db;
    Ok(json!({
        "latest": c.status == "current",
        "createdBy": person(&c.creator),
        "createdDate": when(&c.created_at),
        "lastUpdated": current_version(c),
        "_links": {"self": format!("/rest/api/content/{}/history", content_id(c)), "base": base(app), "context": ""},
    }))
}

async fn space_brief(db: &impl GenericClient, c: &Content) -> Result<Value> {
    let s = content::space_of(db, c).await?;
    let key = s.key;
    Ok(json!({
        "id": s.id,
        "key": key,
        "name": s.name,
        "type": s.space_type,
        "status": "current",
        "_links": {"webui": format!("/spaces/{key}"), "self": format!("/rest/api/space/{key}")},
        "_expandable": {"homepage": "", "description": "", "metadata": "", "icon": ""},
    }))
}

/// A content object for the viewer with the requested expansions.
pub fn content<'a, D: GenericClient>(
    db: &'a D,
    viewer: &'a Viewer,
    c: &'a Content,
    ex: &'a Expand,
    app: &'a AppState,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Value>> + Send + 'a>> {
    Box::pin(async move {
        let id = content_id(c);
        let mut o = Map::new();
        let mut exp = Map::new();
        o.insert("id".into(), json!(id));
        o.insert("type".into(), json!(ctype(c)));
        o.insert("status".into(), json!(c.status));
        o.insert("title".into(), json!(c.title));
        if ex.has("space") {
            o.insert("space".into(), space_brief(db, c).await?);
        } else {
            exp.insert(
                "space".into(),
                json!(format!("/rest/api/space/{}", c.space_key)),
            );
        }
        if ex.has("history") {
            o.insert("history".into(), history(db, c, app).await?);
        } else {
            exp.insert(
                "history".into(),
                json!(format!("/rest/api/content/{id}/history")),
            );
        }
        if ex.has("version") {
            o.insert("version".into(), current_version(c));
        } else {
            exp.insert("version".into(), json!(""));
        }
        if matches!(c.content_type, ContentType::Page | ContentType::BlogPost) {
            if ex.has("ancestors") {
                let crumbs = content::breadcrumbs(db, c).await?;
                let ids: Vec<i64> = crumbs.iter().map(|(i, _)| *i).collect();
                let sub = ex.sub("ancestors");
                let mut list = Vec::new();
                for a in content::get_many(db, viewer, &ids).await? {
                    list.push(content(db, viewer, &a, &sub, app).await?);
                }
                o.insert("ancestors".into(), Value::Array(list));
            } else {
                exp.insert("ancestors".into(), json!(""));
            }
        }
        if matches!(
            c.content_type,
            ContentType::Comment | ContentType::Attachment
        ) {
            if ex.has("container") {
                if let Some(cid) = c.container_id {
                    if let Ok(parent) = content::get_any(db, viewer, cid).await {
                        o.insert(
                            "container".into(),
                            content(db, viewer, &parent, &Expand::default(), app).await?,
                        );
                    }
                }
            } else {
                exp.insert("container".into(), json!(""));
            }
        }
        if ex.has("body") && c.content_type != ContentType::Attachment {
            let mut body = Map::new();
            let mut bexp = Map::new();
            if ex.has("body.storage") {
                body.insert(
                    "storage".into(),
                    json!({"value": c.body, "representation": "storage",
                    "_expandable": {"content": format!("/rest/api/content/{id}")}}),
                );
            } else {
                bexp.insert("storage".into(), json!(""));
            }
            for rep in ["view", "export_view", "styled_view"] {
                if ex.has(&format!("body.{rep}")) {
                    let html = app
                        .presenter
                        .render_content(db, viewer, c)
                        .await?
                        .html
                        .clone();
                    body.insert(rep.into(), json!({"value": html, "representation": rep}));
                } else {
                    bexp.insert(rep.into(), json!(""));
                }
            }
            bexp.insert("editor".into(), json!(""));
            bexp.insert("anonymous_export_view".into(), json!(""));
            body.insert("_expandable".into(), Value::Object(bexp));
            o.insert("body".into(), Value::Object(body));
        } else if c.content_type != ContentType::Attachment {
            exp.insert("body".into(), json!(""));
        }
        if ex.has("children") {
            let sub = ex.sub("children");
            let mut ch = Map::new();
            for (k, t) in [
                ("page", ContentType::Page),
                ("comment", ContentType::Comment),
                ("attachment", ContentType::Attachment),
            ] {
                if sub.has(k) {
                    let f = content::ListFilter {
                        types: vec![t],
                        parent: (t == ContentType::Page).then_some(c.id),
                        container: (t != ContentType::Page).then_some(c.id),
                        ..content::ListFilter::default()
                    };
                    let (rows, more) = content::list(db, viewer, &f, 0, 25).await?;
                    let inner = sub.sub(k);
                    let mut res = Vec::new();
                    for r in &rows {
                        res.push(content(db, viewer, r, &inner, app).await?);
                    }
                    let mut links = json!({"self": format!("/rest/api/content/{id}/child/{k}")});
                    if more {
                        links["next"] = json!(format!(
                            "/rest/api/content/{id}/child/{k}?limit=25&start=25"
                        ));
                    }
                    ch.insert(k.into(), json!({"results": res, "start": 0, "limit": 25, "size": rows.len(), "_links": links}));
                }
            }
            o.insert("children".into(), Value::Object(ch));
        } else {
            exp.insert(
                "children".into(),
                json!(format!("/rest/api/content/{id}/child")),
            );
        }
        exp.insert(
            "descendants".into(),
            json!(format!("/rest/api/content/{id}/descendant")),
        );
        exp.insert(
            "restrictions".into(),
            json!(format!("/rest/api/content/{id}/restriction/byOperation")),
        );
        let mut meta = Map::new();
        if ex.has("metadata.labels") {
            let names = content::labels(db, c.id).await?;
            let res: Vec<Value> = names.iter().map(|n| label(n)).collect();
            meta.insert(
                "labels".into(),
                json!({"results": res, "start": 0, "limit": 200, "size": names.len()}),
            );
        }
        let mut extensions = Map::new();
        let mut links = Map::new();
        if c.content_type == ContentType::Attachment {
            let f = content::file_version(db, c.id, c.version).await?;
            meta.insert("mediaType".into(), json!(f.media_type));
            meta.insert("comment".into(), json!(f.comment));
            extensions.insert("mediaType".into(), json!(f.media_type));
            extensions.insert("fileSize".into(), json!(f.size));
            extensions.insert("comment".into(), json!(f.comment));
            let page = c.container_id.unwrap_or(0);
            links.insert(
                "download".into(),
                json!(format!(
                    "{}&modificationDate={}&api=v2",
                    download_url(page, &c.title, Some(c.version)),
                    c.modified_at.timestamp_millis()
                )),
            );
        }
        if ex.has("metadata") || c.content_type == ContentType::Attachment {
            meta.insert(
                "_expandable".into(),
                json!({"currentuser": "", "properties": "", "frontend": "", "editorHtml": ""}),
            );
            o.insert("metadata".into(), Value::Object(meta));
        } else {
            exp.insert("metadata".into(), json!(""));
        }
        if c.content_type == ContentType::Comment {
            comment_extensions(db, c, &mut extensions).await?;
        }
        if !extensions.is_empty() {
            o.insert("extensions".into(), Value::Object(extensions));
        }
        links.insert("webui".into(), json!(webui(c)));
        links.insert("tinyui".into(), json!(format!("/x/{}", to_base36(c.id))));
        links.insert(
            "self".into(),
            json!(format!("{}/rest/api/content/{id}", base(app))),
        );
        links.insert("base".into(), json!(base(app)));
        links.insert("context".into(), json!(""));
        o.insert(
            "extensions".into(),
            o.get("extensions")
                .cloned()
                .unwrap_or_else(|| json!({"position": c.position})),
        );
        o.insert("_links".into(), Value::Object(links));
        o.insert("_expandable".into(), Value::Object(exp));
        Ok(Value::Object(o))
    })
}

/// A historical version of content (GET …?version=N).
pub async fn historical<D: GenericClient>(
    db: &D,
    viewer: &Viewer,
    c: &Content,
    v: &VersionInfo,
    ex: &Expand,
    app: &AppState,
) -> Result<Value> {
    let mut old = c.clone();
    old.title = v.title.clone();
    old.body = v.body.clone();
    old.version = v.number;
    old.modifier = v.author.clone();
    old.modified_at = v.created_at;
    old.version_message = v.message.clone();
    old.minor_edit = v.minor_edit;
    old.status = "historical".into();
    let mut out = content(
        db,
        viewer,
        &old,
        &Expand(
            ex.0.iter()
                .filter(|e| !e.starts_with("body.view"))
                .cloned()
                .collect(),
        ),
        app,
    )
    .await?;
    if ex.has("body.view") {
        let html = app
            .presenter
            .render_source(db, viewer, &c.space_key, Some(c), &v.body)
            .await?
            .html;
        out["body"]["view"] = json!({"value": html, "representation": "view"});
    }
    Ok(out)
}

pub async fn space<D: GenericClient>(
    db: &D,
    viewer: &Viewer,
    s: &Space,
    ex: &Expand,
    app: &AppState,
) -> Result<Value> {
    let mut o = json!({
        "id": s.id,
        "key": s.key,
        "name": s.name,
        "type": "global",
        "status": "current",
        "_links": {"webui": format!("/spaces/{}", s.key), "self": format!("{}/rest/api/space/{}", base(app), s.key),
                   "base": base(app), "context": ""},
    });
    let mut exp = Map::new();
    if ex.has("description") {
        o["description"] = json!({"plain": {"value": s.description, "representation": "plain"}});
    } else {
        exp.insert("description".into(), json!(""));
    }
    if ex.has("homepage") {
        if let Some(h) = s.homepage_id {
            if let Ok(c) = content::get(db, viewer, h).await {
                o["homepage"] = content(db, viewer, &c, &ex.sub("homepage"), app).await?;
            }
        }
    } else {
        exp.insert(
            "homepage".into(),
            json!(s
                .homepage_id
                .map(|h| format!("/rest/api/content/{h}"))
                .unwrap_or_default()),
        );
    }
    exp.insert("metadata".into(), json!(""));
    exp.insert("icon".into(), json!(""));
    o["_expandable"] = Value::Object(exp);
    Ok(o)
}

/// `space.key` in a convert request, when a client sends one.
pub fn space_key_hint(b: &Value) -> Option<String> {
    b.get("space")?.get("key")?.as_str().map(str::to_owned)
}

pub fn to_base36(mut n: i64) -> String {
    const D: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    if n <= 0 {
        return "0".into();
    }
    let mut s = Vec::new();
    while n > 0 {
        s.push(D[(n % 36) as usize]);
        n /= 36;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

/// A comment's `extensions`: `location` (inline or footer) and, for inline
/// comments, `inlineProperties` and `resolution`, as Confluence sends them.
async fn comment_extensions(
    db: &impl deadpool_postgres::GenericClient,
    c: &content::Content,
    ext: &mut Map<String, Value>,
) -> Result<()> {
    match content::inline_of(db, c.id).await? {
        None => {
            ext.insert("location".into(), json!("footer"));
        }
        Some(i) => {
            ext.insert("location".into(), json!("inline"));
            ext.insert(
                "inlineProperties".into(),
                json!({"markerRef": i.marker_ref, "originalSelection": i.original_selection}),
            );
            let mut r = json!({"status": i.resolution});
            if let Some(by) = &i.resolved_by {
                r["lastModifier"] = json!({"type": "known", "username": by.username,
                    "userKey": by.user_key, "displayName": by.display_name});
            }
            if let Some(t) = i.resolved_at {
                r["lastModifiedDate"] =
                    json!(t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
            }
            ext.insert("resolution".into(), r);
        }
    }
    Ok(())
}
