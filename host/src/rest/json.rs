//! Builds the REST API's content, space, version and history objects
//! (`shapes.rs`) for a viewer, with Confluence's `expand`, `_links` and
//! `_expandable`.
//!
//! Invariant: an object holds only what its viewer may see (ancestors,
//! container, homepage and children are looked up as that viewer and left
//! out when hidden); nested objects see only the expansions below their
//! own name.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde_json::Value;

use super::shapes::{
    self, Body, BodyValue, Children, Description, Expandable, Extensions, History,
    InlineProperties, Label, Links, List, Metadata, Resolution, User,
};
use crate::content::{self, Content, ContentType, Person, Space, VersionInfo};
use crate::error::Result;
use crate::perms::Viewer;
use crate::urls::{download_url, page_url};
use crate::AppState;

pub use super::expand::Expand;

pub fn base(app: &AppState) -> String {
    app.base_url.clone()
}

pub fn when(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn person(p: &Person) -> User {
    if p.username.is_empty() {
        User::anonymous(&p.display_name)
    } else {
        User::known(&p.username, &p.display_name, &p.user_key)
    }
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

/// `_expandable` from its entries.
fn expandable<const N: usize>(entries: [(&'static str, String); N]) -> Expandable {
    entries.into_iter().collect()
}

/// One version of `/content/{id}/version`.
pub fn version(v: &VersionInfo, c: &Content) -> shapes::Version {
    let id = content_id(c);
    shapes::Version {
        links: Some(Links::to(format!(
            "/rest/api/content/{id}/version/{}",
            v.number
        ))),
        expandable: Some(expandable([("content", format!("/rest/api/content/{id}"))])),
        ..version_of(&v.author, &v.created_at, &v.message, v.number, v.minor_edit)
    }
}

fn version_of(
    by: &Person,
    at: &DateTime<Utc>,
    message: &str,
    number: i32,
    minor_edit: bool,
) -> shapes::Version {
    shapes::Version {
        by: person(by),
        when: when(at),
        message: message.to_owned(),
        number,
        minor_edit,
        hidden: false,
        links: None,
        expandable: None,
        content: None,
    }
}

fn current_version(c: &Content) -> shapes::Version {
    version_of(
        &c.modifier,
        &c.modified_at,
        &c.version_message,
        c.version,
        c.minor_edit,
    )
}

pub fn history(c: &Content, app: &AppState) -> History {
    History {
        latest: c.status == "current",
        created_by: person(&c.creator),
        created_date: when(&c.created_at),
        last_updated: current_version(c),
        links: Links::base_and_self(
            &base(app),
            format!("/rest/api/content/{}/history", content_id(c)),
        ),
    }
}

/// The content's space as content carries it (`type` is the space's).
async fn space_brief(db: &impl GenericClient, c: &Content) -> Result<shapes::Space> {
    let s = content::space_of(db, c).await?;
    let key = s.key;
    Ok(shapes::Space {
        id: s.id,
        name: s.name,
        kind: s.space_type,
        status: "current",
        description: None,
        homepage: None,
        icon: None,
        metadata: None,
        links: Links {
            webui: Some(format!("/spaces/{key}")),
            self_: Some(format!("/rest/api/space/{key}")),
            ..Links::default()
        },
        expandable: expandable([
            ("homepage", String::new()),
            ("description", String::new()),
            ("metadata", String::new()),
            ("icon", String::new()),
        ]),
        key,
    })
}

/// A content object for the viewer with the requested expansions.
pub fn content<'a, D: GenericClient>(
    db: &'a D,
    viewer: &'a Viewer,
    c: &'a Content,
    ex: &'a Expand,
    app: &'a AppState,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<shapes::Content>> + Send + 'a>> {
    Box::pin(async move {
        let id = content_id(c);
        let mut exp = Expandable::new();
        let mut o = shapes::Content {
            id: id.clone(),
            kind: c.content_type.as_str(),
            status: c.status.clone(),
            title: c.title.clone(),
            space: None,
            history: None,
            version: None,
            ancestors: None,
            container: None,
            body: None,
            children: None,
            metadata: None,
            extensions: Extensions::default(),
            links: Links::default(),
            expandable: Expandable::new(),
        };
        if ex.has("space") {
            o.space = Some(space_brief(db, c).await?);
        } else {
            exp.insert("space", format!("/rest/api/space/{}", c.space_key));
        }
        if ex.has("history") {
            o.history = Some(history(c, app));
        } else {
            exp.insert("history", format!("/rest/api/content/{id}/history"));
        }
        if ex.has("version") {
            o.version = Some(current_version(c));
        } else {
            exp.insert("version", String::new());
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
                o.ancestors = Some(list);
            } else {
                exp.insert("ancestors", String::new());
            }
        }
        if matches!(
            c.content_type,
            ContentType::Comment | ContentType::Attachment
        ) {
            if ex.has("container") {
                if let Some(cid) = c.container_id {
                    if let Ok(parent) = content::get_any(db, viewer, cid).await {
                        o.container = Some(Box::new(
                            content(db, viewer, &parent, &Expand::default(), app).await?,
                        ));
                    }
                }
            } else {
                exp.insert("container", String::new());
            }
        }
        if ex.has("body") && c.content_type != ContentType::Attachment {
            o.body = Some(body(&Env { db, viewer, app }, c, ex).await?);
        } else if c.content_type != ContentType::Attachment {
            exp.insert("body", String::new());
        }
        if ex.has("children") {
            let env = Env { db, viewer, app };
            o.children = Some(children(&env, c, &ex.sub("children")).await?);
        } else {
            exp.insert("children", format!("/rest/api/content/{id}/child"));
        }
        exp.insert("descendants", format!("/rest/api/content/{id}/descendant"));
        exp.insert(
            "restrictions",
            format!("/rest/api/content/{id}/restriction/byOperation"),
        );
        let mut meta = Metadata::default();
        if ex.has("metadata.labels") {
            let names = content::labels(db, c.id).await?;
            meta.labels = Some(List::all(
                names.iter().map(|n| Label::global(n)).collect(),
                200,
            ));
        }
        if c.content_type == ContentType::Attachment {
            let f = content::file_version(db, c.id, c.version).await?;
            meta.media_type = Some(f.media_type.clone());
            meta.comment = Some(f.comment.clone());
            o.extensions.media_type = Some(f.media_type);
            o.extensions.file_size = Some(f.size);
            o.extensions.comment = Some(f.comment);
            let page = c.container_id.unwrap_or(0);
            o.links.download = Some(format!(
                "{}&modificationDate={}&api=v2",
                download_url(page, &c.title, Some(c.version)),
                c.modified_at.timestamp_millis()
            ));
        }
        if ex.has("metadata.properties") {
            let keys = ex.names_under("metadata.properties");
            let mut map = std::collections::BTreeMap::new();
            for p in content::properties_named(db, c, &keys).await? {
                let key = p.key.clone();
                map.insert(
                    key,
                    property(db, viewer, c, &p, &Expand::default(), app).await?,
                );
            }
            meta.properties = Some(map);
        }
        if ex.has("metadata") || c.content_type == ContentType::Attachment {
            meta.expandable = expandable([
                ("currentuser", String::new()),
                ("properties", String::new()),
                ("frontend", String::new()),
                ("editorHtml", String::new()),
            ]);
            if meta.properties.is_some() {
                meta.expandable.remove("properties");
            }
            o.metadata = Some(meta);
        } else {
            exp.insert("metadata", String::new());
        }
        match c.content_type {
            ContentType::Comment => comment_extensions(db, c, &mut o.extensions).await?,
            ContentType::Page | ContentType::BlogPost => o.extensions.position = Some(c.position),
            ContentType::Attachment => {}
        }
        o.links.webui = Some(webui(c));
        o.links.tinyui = Some(format!("/x/{}", to_base36(c.id)));
        o.links.self_ = Some(format!("{}/rest/api/content/{id}", base(app)));
        o.links.base = Some(base(app));
        o.links.context = Some(String::new());
        o.expandable = exp;
        Ok(o)
    })
}

/// A content property of `c` (`expand=content` embeds `c`).
pub(crate) async fn property<D: GenericClient>(
    db: &D,
    viewer: &Viewer,
    c: &Content,
    p: &content::Property,
    ex: &Expand,
    app: &AppState,
) -> Result<shapes::ContentProperty> {
    let id = content_id(c);
    let by = version_of(&p.by, &p.at, &p.message, p.version, p.minor_edit);
    let path = format!(
        "/rest/api/content/{id}/property/{}",
        crate::urls::enc(&p.key)
    );
    let mut exp = Expandable::new();
    let embedded = if ex.has("content") {
        Some(Box::new(
            content(db, viewer, c, &ex.sub("content"), app).await?,
        ))
    } else {
        exp.insert("content", format!("/rest/api/content/{id}"));
        None
    };
    exp.insert("additionalProperties", String::new());
    Ok(shapes::ContentProperty {
        id: p.id.to_string(),
        key: p.key.clone(),
        value: p.value.clone(),
        version: shapes::Version {
            expandable: Some(expandable([("content", format!("/rest/api/content/{id}"))])),
            ..by
        },
        content: embedded,
        links: Links::base_and_self(&base(app), format!("{}{path}", base(app))),
        expandable: exp,
    })
}

/// Content objects for `rows`, each with the expansions `ex`.
pub async fn contents<D: GenericClient>(
    db: &D,
    viewer: &Viewer,
    rows: &[Content],
    ex: &Expand,
    app: &AppState,
) -> Result<Vec<shapes::Content>> {
    let mut out = Vec::with_capacity(rows.len());
    for c in rows {
        out.push(content(db, viewer, c, ex, app).await?);
    }
    Ok(out)
}

/// What the builders of nested objects need besides the content.
struct Env<'a, D> {
    db: &'a D,
    viewer: &'a Viewer,
    app: &'a AppState,
}

/// `body` with the representations `ex` asks for.
async fn body<D: GenericClient>(env: &Env<'_, D>, c: &Content, ex: &Expand) -> Result<Body> {
    let Env { db, viewer, app } = *env;
    let id = content_id(c);
    let mut body = Body::default();
    let mut bexp = Expandable::new();
    if ex.has("body.storage") {
        body.storage = Some(BodyValue {
            expandable: Some(expandable([("content", format!("/rest/api/content/{id}"))])),
            ..BodyValue::new(c.body.clone(), "storage")
        });
    } else {
        bexp.insert("storage", String::new());
    }
    // The three views are the same HTML: render it once.
    let mut html: Option<String> = None;
    for rep in ["view", "export_view", "styled_view"] {
        if ex.has(&format!("body.{rep}")) {
            let html = match &html {
                Some(h) => h.clone(),
                None => {
                    let h = app
                        .presenter
                        .render_content(db, viewer, c)
                        .await?
                        .html
                        .clone();
                    html.insert(h).clone()
                }
            };
            let slot = match rep {
                "view" => &mut body.view,
                "export_view" => &mut body.export_view,
                _ => &mut body.styled_view,
            };
            *slot = Some(BodyValue::new(html, rep));
        } else {
            bexp.insert(rep, String::new());
        }
    }
    bexp.insert("editor", String::new());
    bexp.insert("anonymous_export_view", String::new());
    body.expandable = Some(bexp);
    Ok(body)
}

/// `children`: the first 25 of each child type `sub` names.
async fn children<D: GenericClient>(
    env: &Env<'_, D>,
    c: &Content,
    sub: &Expand,
) -> Result<Children> {
    let Env { db, viewer, app } = *env;
    let id = content_id(c);
    let mut ch = Children::default();
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
            let res = contents(db, viewer, &rows, &sub.sub(k), app).await?;
            let mut links = Links::to(format!("/rest/api/content/{id}/child/{k}"));
            if more {
                links.next = Some(format!(
                    "/rest/api/content/{id}/child/{k}?limit=25&start=25"
                ));
            }
            *ch.slot(k) = Some(List::all(res, 25).with_links(links));
        }
    }
    Ok(ch)
}

/// A historical version of content (GET …?version=N).
pub async fn historical<D: GenericClient>(
    db: &D,
    viewer: &Viewer,
    c: &Content,
    v: &VersionInfo,
    ex: &Expand,
    app: &AppState,
) -> Result<shapes::Content> {
    let mut old = c.clone();
    old.title = v.title.clone();
    old.body = v.body.clone();
    old.version = v.number;
    old.modifier = v.author.clone();
    old.modified_at = v.created_at;
    old.version_message = v.message.clone();
    old.minor_edit = v.minor_edit;
    old.status = "historical".into();
    let mut out = content(db, viewer, &old, &ex.without("body.view"), app).await?;
    if ex.has("body.view") {
        let html = app
            .presenter
            .render_source(db, viewer, &c.space_key, Some(c), &v.body)
            .await?
            .html;
        // `_expandable.view` stays: the old view is rendered apart.
        out.body.get_or_insert_with(Body::default).view = Some(BodyValue::new(html, "view"));
    }
    Ok(out)
}

pub async fn space<D: GenericClient>(
    db: &D,
    viewer: &Viewer,
    s: &Space,
    ex: &Expand,
    app: &AppState,
) -> Result<shapes::Space> {
    let mut o = shapes::Space {
        id: s.id,
        key: s.key.clone(),
        name: s.name.clone(),
        kind: if s.space_type == "personal" {
            "personal".into()
        } else {
            "global".into()
        },
        status: "current",
        description: None,
        homepage: None,
        icon: None,
        metadata: None,
        links: Links {
            webui: Some(format!("/spaces/{}", s.key)),
            ..Links::base_and_self(
                &base(app),
                format!("{}/rest/api/space/{}", base(app), s.key),
            )
        },
        expandable: Expandable::new(),
    };
    let mut exp = Expandable::new();
    if ex.has("description") {
        o.description = Some(Description {
            plain: BodyValue::new(s.description.clone(), "plain"),
        });
    } else {
        exp.insert("description", String::new());
    }
    if ex.has("homepage") {
        if let Some(h) = s.homepage_id {
            if let Ok(c) = content::get(db, viewer, h).await {
                o.homepage = Some(Box::new(
                    content(db, viewer, &c, &ex.sub("homepage"), app).await?,
                ));
            }
        }
    } else {
        exp.insert(
            "homepage",
            s.homepage_id
                .map(|h| format!("/rest/api/content/{h}"))
                .unwrap_or_default(),
        );
    }
    if ex.has("metadata") {
        let mut m = Metadata::default();
        if ex.sub("metadata").has("labels") {
            let cats: Vec<Label> = content::categories(db, s.id)
                .await?
                .iter()
                .map(|c| Label {
                    prefix: "team",
                    ..Label::global(c)
                })
                .collect();
            m.labels = Some(List::all(cats, 200));
        } else {
            m.expandable.insert("labels", String::new());
        }
        o.metadata = Some(m);
    } else {
        exp.insert("metadata", String::new());
    }
    if ex.has("icon") {
        o.icon = Some(shapes::Icon {
            path: format!("/spaces/{}/logo", crate::urls::enc(&s.key)),
            width: 48,
            height: 48,
            is_default: !s.has_logo,
        });
    } else {
        exp.insert("icon", String::new());
    }
    o.expandable = exp;
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
    db: &impl GenericClient,
    c: &Content,
    ext: &mut Extensions,
) -> Result<()> {
    match content::inline_of(db, c.id).await? {
        None => ext.location = Some("footer"),
        Some(i) => {
            ext.location = Some("inline");
            ext.inline_properties = Some(InlineProperties {
                marker_ref: i.marker_ref,
                original_selection: i.original_selection,
            });
            ext.resolution = Some(Resolution {
                status: i.resolution,
                last_modifier: i
                    .resolved_by
                    .map(|by| User::brief(&by.username, &by.user_key, &by.display_name)),
                last_modified_date: i.resolved_at.map(|t| when(&t)),
            });
        }
    }
    Ok(())
}
