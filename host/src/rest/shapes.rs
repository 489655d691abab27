//! The JSON shapes of the REST API, each defined once: the handlers serialize
//! these structs and the OpenAPI document (`openapi.rs`) describes them.
//!
//! Invariant: a key that is sometimes absent is an `Option` skipped when
//! `None` (Confluence's expansions: an unexpanded property is absent and named
//! in `_expandable`); a key that is sometimes `null` is an `Option` without
//! `skip_serializing_if`. No response of `/rest/api` is built as untyped JSON.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

mod meta;
mod personal;
pub use meta::*;
pub use personal::*;

/// `_expandable`: each property that was not expanded, mapped to where to
/// get it (or `""`). The keys depend on the content type and on the
/// client's `expand`, so this is a map, not a struct.
pub type Expandable = BTreeMap<&'static str, String>;

/// `_links`. Which links an object carries depends on the object; the
/// absent ones are left out.
#[derive(Serialize, ToSchema, Default, Clone, Debug)]
pub struct Links {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webui: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tinyui: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub download: Option<String>,
    #[serde(rename = "self", skip_serializing_if = "Option::is_none")]
    pub self_: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// Lists: the next page, present only when more results exist.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prev: Option<String>,
}

impl Links {
    /// `{"base": …, "context": ""}`, what most top-level objects carry.
    pub fn base(base: &str) -> Links {
        Links {
            base: Some(base.to_owned()),
            context: Some(String::new()),
            ..Links::default()
        }
    }
    /// `{"self": …}`.
    pub fn to(path: String) -> Links {
        Links {
            self_: Some(path),
            ..Links::default()
        }
    }
    /// [`Links::base`] with `self`.
    pub fn base_and_self(base: &str, path: String) -> Links {
        Links {
            self_: Some(path),
            ..Links::base(base)
        }
    }
}

/// A page of results in Confluence's shape (`_links` on top-level lists,
/// absent on lists nested in an object).
#[derive(Serialize, ToSchema, Debug)]
pub struct List<T> {
    pub results: Vec<T>,
    pub start: i64,
    pub limit: i64,
    pub size: usize,
    #[serde(rename = "_links", skip_serializing_if = "Option::is_none")]
    pub links: Option<Links>,
}

impl<T> List<T> {
    /// All of `results` at once (`start` 0), without `_links`.
    pub fn all(results: Vec<T>, limit: i64) -> List<T> {
        List {
            size: results.len(),
            results,
            start: 0,
            limit,
            links: None,
        }
    }
    pub fn with_links(mut self, links: Links) -> List<T> {
        self.links = Some(links);
        self
    }
}

/// The lists of Cairn's own resources (`/rest/cairn/1.0/…`): every item,
/// and how many.
#[derive(Serialize, Debug)]
pub struct Results<T> {
    pub results: Vec<T>,
    pub size: usize,
}

impl<T> Results<T> {
    pub fn of(results: Vec<T>) -> Results<T> {
        Results {
            size: results.len(),
            results,
        }
    }
}

/// A user (`type` `known`), the anonymous user, or a user in brief (only
/// the keys the context has: restrictions name the user only).
#[derive(Serialize, ToSchema, Default, Clone, Debug)]
pub struct User {
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(rename = "userKey", skip_serializing_if = "Option::is_none")]
    pub user_key: Option<String>,
    #[serde(rename = "accountId", skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(rename = "displayName", skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(rename = "profilePicture", skip_serializing_if = "Option::is_none")]
    pub profile_picture: Option<Picture>,
    #[serde(rename = "_links", skip_serializing_if = "Option::is_none")]
    pub links: Option<Links>,
}

#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct Picture {
    pub path: &'static str,
    pub width: u32,
    pub height: u32,
    #[serde(rename = "isDefault")]
    pub is_default: bool,
}

impl User {
    /// The full shape of `/rest/api/user`.
    pub fn known(username: &str, display: &str, key: &str) -> User {
        User {
            account_id: Some(key.to_owned()),
            profile_picture: Some(Picture {
                path: "/images/icons/profilepics/default.svg",
                width: 48,
                height: 48,
                is_default: true,
            }),
            links: Some(Links::to(format!("/rest/api/user?key={key}"))),
            ..User::brief(username, key, display)
        }
    }
    /// `type`, `username`, `userKey`, `displayName`.
    pub fn brief(username: &str, key: &str, display: &str) -> User {
        User {
            kind: "known",
            username: Some(username.to_owned()),
            user_key: Some(key.to_owned()),
            display_name: Some(display.to_owned()),
            ..User::default()
        }
    }
    pub fn anonymous(display: &str) -> User {
        User {
            kind: "anonymous",
            display_name: Some(display.to_owned()),
            ..User::default()
        }
    }
    /// Only `type` and `username` (restrictions).
    pub fn named(username: &str) -> User {
        User {
            kind: "known",
            username: Some(username.to_owned()),
            ..User::default()
        }
    }
}

#[derive(Serialize, ToSchema, Debug)]
pub struct Group {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub name: String,
}

/// A page, blog post, comment or attachment (`id` is a string; attachments'
/// start with `att`). Expanded properties are present, the others are
/// named in `_expandable`.
#[derive(Serialize, ToSchema, Debug)]
pub struct Content {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub status: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub space: Option<Space>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<History>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<Version>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(no_recursion)]
    pub ancestors: Option<Vec<Content>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(no_recursion)]
    pub container: Option<Box<Content>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Body>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(no_recursion)]
    pub children: Option<Children>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    pub extensions: Extensions,
    #[serde(rename = "_links")]
    pub links: Links,
    #[serde(rename = "_expandable")]
    pub expandable: Expandable,
}

/// `body`: the representations asked for.
#[derive(Serialize, ToSchema, Default, Debug)]
pub struct Body {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage: Option<BodyValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub view: Option<BodyValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub export_view: Option<BodyValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub styled_view: Option<BodyValue>,
    #[serde(rename = "_expandable", skip_serializing_if = "Option::is_none")]
    pub expandable: Option<Expandable>,
}

/// One representation of a body (also the answer of `/contentbody/convert`
/// and a space's plain description).
#[derive(Serialize, ToSchema, Debug)]
pub struct BodyValue {
    pub value: String,
    pub representation: String,
    #[serde(rename = "_expandable", skip_serializing_if = "Option::is_none")]
    pub expandable: Option<Expandable>,
    #[serde(rename = "_links", skip_serializing_if = "Option::is_none")]
    pub links: Option<Links>,
}

impl BodyValue {
    pub fn new(value: String, representation: &str) -> BodyValue {
        BodyValue {
            value,
            representation: representation.to_owned(),
            expandable: None,
            links: None,
        }
    }
}

/// `children` of a content object, and `/content/{id}/child`: a list per
/// expanded type (`_expandable` and `_links` only on the latter).
#[derive(Serialize, ToSchema, Default, Debug)]
pub struct Children {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<List<Content>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<List<Content>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment: Option<List<Content>>,
    #[serde(rename = "_expandable", skip_serializing_if = "Option::is_none")]
    pub expandable: Option<Expandable>,
    #[serde(rename = "_links", skip_serializing_if = "Option::is_none")]
    pub links: Option<Links>,
}

impl Children {
    pub fn slot(&mut self, kind: &str) -> &mut Option<List<Content>> {
        match kind {
            "page" => &mut self.page,
            "comment" => &mut self.comment,
            _ => &mut self.attachment,
        }
    }
}

/// `metadata`: labels and properties (`metadata.properties.KEY`, by key)
/// when expanded; an attachment's media type and comment.
#[derive(Serialize, ToSchema, Default, Debug)]
pub struct Metadata {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<List<Label>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<BTreeMap<String, ContentProperty>>,
    #[serde(rename = "mediaType", skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(rename = "_expandable")]
    pub expandable: Expandable,
}

/// `extensions`: a page's or blog post's `position`; an attachment's file;
/// a comment's location and, inline, its marker and resolution.
#[derive(Serialize, ToSchema, Default, Debug)]
pub struct Extensions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<i32>,
    #[serde(rename = "mediaType", skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(rename = "fileSize", skip_serializing_if = "Option::is_none")]
    pub file_size: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<&'static str>,
    #[serde(rename = "inlineProperties", skip_serializing_if = "Option::is_none")]
    pub inline_properties: Option<InlineProperties>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolution: Option<Resolution>,
}

#[derive(Serialize, ToSchema, Debug)]
pub struct InlineProperties {
    #[serde(rename = "markerRef")]
    pub marker_ref: String,
    #[serde(rename = "originalSelection")]
    pub original_selection: String,
}

#[derive(Serialize, ToSchema, Debug)]
pub struct Resolution {
    /// open, resolved or reopened.
    pub status: String,
    #[serde(rename = "lastModifier", skip_serializing_if = "Option::is_none")]
    pub last_modifier: Option<User>,
    #[serde(rename = "lastModifiedDate", skip_serializing_if = "Option::is_none")]
    pub last_modified_date: Option<String>,
}

/// A version: the current one inside content (`version`, `lastUpdated`),
/// or one of `/version` (with `_links`, `_expandable`, and `content` for
/// `/version/{n}`).
#[derive(Serialize, ToSchema, Debug)]
pub struct Version {
    pub by: User,
    pub when: String,
    pub message: String,
    pub number: i32,
    #[serde(rename = "minorEdit")]
    pub minor_edit: bool,
    pub hidden: bool,
    #[serde(rename = "_links", skip_serializing_if = "Option::is_none")]
    pub links: Option<Links>,
    #[serde(rename = "_expandable", skip_serializing_if = "Option::is_none")]
    pub expandable: Option<Expandable>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(no_recursion)]
    pub content: Option<Box<Content>>,
}

#[derive(Serialize, ToSchema, Debug)]
pub struct History {
    pub latest: bool,
    #[serde(rename = "createdBy")]
    pub created_by: User,
    #[serde(rename = "createdDate")]
    pub created_date: String,
    #[serde(rename = "lastUpdated")]
    pub last_updated: Version,
    #[serde(rename = "_links")]
    pub links: Links,
}

/// A space (`id` is a number). Inside content its `type` is the space's
/// (`global`, `personal`); from `/space` it is `global`.
#[derive(Serialize, ToSchema, Debug)]
pub struct Space {
    pub id: i64,
    pub key: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<Description>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(no_recursion)]
    pub homepage: Option<Box<Content>>,
    /// `expand=icon`: the logo.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icon: Option<Icon>,
    /// `expand=metadata.labels`: the space's categories, as labels with
    /// the prefix `team` (as Confluence stores space categories).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    #[serde(rename = "_links")]
    pub links: Links,
    #[serde(rename = "_expandable")]
    pub expandable: Expandable,
}

/// A space's logo.
#[derive(Serialize, ToSchema, Debug)]
pub struct Icon {
    pub path: String,
    pub width: u32,
    pub height: u32,
    /// True when no logo was uploaded (the path draws the space's initials).
    #[serde(rename = "isDefault")]
    pub is_default: bool,
}

#[derive(Serialize, ToSchema, Debug)]
pub struct Description {
    pub plain: BodyValue,
}

/// `/space/{key}/content`: pages and blog posts.
#[derive(Serialize, ToSchema, Debug)]
pub struct SpaceContent {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<List<Content>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blogpost: Option<List<Content>>,
    #[serde(rename = "_links")]
    pub links: Links,
}

#[derive(Serialize, ToSchema, Debug)]
pub struct Label {
    pub prefix: &'static str,
    pub name: String,
    pub label: String,
    pub id: String,
}

impl Label {
    pub fn global(name: &str) -> Label {
        Label {
            prefix: "global",
            name: name.to_owned(),
            label: name.to_owned(),
            id: name.to_owned(),
        }
    }
}

/// `/restriction/byOperation`.
#[derive(Serialize, ToSchema, Debug)]
pub struct Restrictions {
    pub read: Restriction,
    pub update: Restriction,
    #[serde(rename = "_links")]
    pub links: Links,
}

#[derive(Serialize, ToSchema, Debug)]
pub struct Restriction {
    pub operation: &'static str,
    pub restrictions: Grants,
    #[serde(rename = "_links")]
    pub links: Links,
}

#[derive(Serialize, ToSchema, Debug)]
pub struct Grants {
    pub user: List<User>,
    pub group: List<Group>,
}

/// `/search`: a result wrapper around the content.
#[derive(Serialize, ToSchema, Debug)]
pub struct SearchResult {
    pub title: String,
    /// Escaped text with `<b>` highlights (see `search::excerpt`).
    pub excerpt: String,
    pub url: String,
    #[serde(rename = "resultGlobalContainer")]
    pub result_global_container: Container,
    #[serde(rename = "entityType")]
    pub entity_type: &'static str,
    #[serde(rename = "iconCssClass")]
    pub icon_css_class: String,
    #[serde(rename = "lastModified")]
    pub last_modified: String,
    #[serde(rename = "friendlyLastModified")]
    pub friendly_last_modified: String,
    /// f64, as the score always was on the wire.
    pub score: f64,
    pub content: Content,
}

#[derive(Serialize, ToSchema, Debug)]
pub struct Container {
    pub title: String,
    #[serde(rename = "displayUrl")]
    pub display_url: String,
}

/// `/search` and `/content/search`: a list with the query's totals.
#[derive(Serialize, ToSchema, Debug)]
pub struct SearchList<T> {
    #[serde(flatten)]
    pub list: List<T>,
    #[serde(rename = "totalSize")]
    pub total_size: usize,
    #[serde(rename = "cqlQuery")]
    pub cql_query: String,
    #[serde(rename = "searchDuration")]
    pub search_duration: u64,
}

#[cfg(test)]
mod tests {
    use serde_json::{json, to_value};

    use super::*;

    #[test]
    fn users_keep_confluence_keys() {
        assert_eq!(
            to_value(User::known("ann", "Ann", "k1")).unwrap(),
            json!({
                "type": "known",
                "username": "ann",
                "userKey": "k1",
                "accountId": "k1",
                "displayName": "Ann",
                "profilePicture": {"path": "/images/icons/profilepics/default.svg", "width": 48, "height": 48, "isDefault": true},
                "_links": {"self": "/rest/api/user?key=k1"},
            })
        );
        assert_eq!(
            to_value(User::anonymous("Anonymous")).unwrap(),
            json!({"type": "anonymous", "displayName": "Anonymous"})
        );
        assert_eq!(
            to_value(User::named("bob")).unwrap(),
            json!({"type": "known", "username": "bob"})
        );
    }

    #[test]
    fn lists_carry_links_only_when_given() {
        let l = List::all(vec![Label::global("x")], 200);
        assert_eq!(
            to_value(&l).unwrap(),
            json!({"results": [{"prefix": "global", "name": "x", "label": "x", "id": "x"}],
                   "start": 0, "limit": 200, "size": 1})
        );
        let l = List::all(Vec::<Label>::new(), 25).with_links(Links::base("http://b"));
        assert_eq!(
            to_value(&l).unwrap(),
            json!({"results": [], "start": 0, "limit": 25, "size": 0,
                   "_links": {"base": "http://b", "context": ""}})
        );
    }

    #[test]
    fn tokens_keep_their_nulls() {
        let t = Token {
            base: TokenBase {
                id: 1,
                name: "t".into(),
                created_at: "c".into(),
                expiring_at: None,
            },
            last_accessed_at: None,
        };
        assert_eq!(
            to_value(t).unwrap(),
            json!({"id": 1, "name": "t", "createdAt": "c", "expiringAt": null, "lastAccessedAt": null})
        );
    }
}
