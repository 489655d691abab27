//! The OpenAPI document of the REST surface, generated from the handlers'
//! `#[utoipa::path]` annotations and the schemas below. Served at
//! `/rest/api/openapi.json`; the test suite fuzzes it with schemathesis.
//! The schemas describe what every response carries at least; objects may
//! hold more (expansions), as in Confluence.

#![allow(dead_code)]

use std::collections::BTreeMap;

use serde_json::Value;
use utoipa::{OpenApi, ToSchema};

/// Confluence's error envelope.
#[derive(ToSchema)]
pub struct ErrorEnvelope {
    #[schema(rename = "statusCode")]
    status_code: i32,
    message: String,
    reason: String,
    data: BTreeMap<String, Value>,
}

#[derive(ToSchema)]
pub struct Links {
    #[schema(nullable = false)]
    base: Option<String>,
    context: Option<String>,
    #[schema(rename = "self")]
    self_: Option<String>,
    next: Option<String>,
    prev: Option<String>,
}

/// A page, blog post, comment or attachment (`id` is a string).
#[derive(ToSchema)]
pub struct Content {
    id: String,
    #[schema(rename = "type")]
    kind: String,
    status: String,
    title: String,
    #[schema(rename = "_links")]
    links: BTreeMap<String, Value>,
    #[schema(rename = "_expandable")]
    expandable: BTreeMap<String, Value>,
}

#[derive(ToSchema)]
pub struct ContentList {
    results: Vec<Content>,
    start: i64,
    limit: i64,
    size: i64,
    #[schema(rename = "_links")]
    links: BTreeMap<String, Value>,
}

/// A space (`id` is a number).
#[derive(ToSchema)]
pub struct Space {
    id: i64,
    key: String,
    name: String,
    #[schema(rename = "type")]
    kind: String,
    #[schema(rename = "_links")]
    links: BTreeMap<String, Value>,
}

#[derive(ToSchema)]
pub struct SpaceList {
    results: Vec<Space>,
    start: i64,
    limit: i64,
    size: i64,
    #[schema(rename = "_links")]
    links: BTreeMap<String, Value>,
}

#[derive(ToSchema)]
pub struct Label {
    prefix: String,
    name: String,
    id: String,
    label: String,
}

#[derive(ToSchema)]
pub struct LabelList {
    results: Vec<Label>,
    start: i64,
    limit: i64,
    size: i64,
}

#[derive(ToSchema)]
pub struct VersionInfo {
    by: BTreeMap<String, Value>,
    when: String,
    message: String,
    number: i64,
    #[schema(rename = "minorEdit")]
    minor_edit: bool,
}

#[derive(ToSchema)]
pub struct VersionList {
    results: Vec<VersionInfo>,
    start: i64,
    limit: i64,
    size: i64,
}

#[derive(ToSchema)]
pub struct History {
    latest: bool,
    #[schema(rename = "createdBy")]
    created_by: BTreeMap<String, Value>,
    #[schema(rename = "createdDate")]
    created_date: String,
    #[schema(rename = "lastUpdated")]
    last_updated: VersionInfo,
}

#[derive(ToSchema)]
pub struct User {
    #[schema(rename = "type")]
    kind: String,
    #[schema(rename = "displayName")]
    display_name: String,
}

#[derive(ToSchema)]
pub struct Restrictions {
    read: BTreeMap<String, Value>,
    update: BTreeMap<String, Value>,
}

#[derive(ToSchema)]
pub struct ConvertedBody {
    value: String,
    representation: String,
}

#[derive(ToSchema)]
pub struct TokenCreated {
    id: i64,
    name: String,
    #[schema(rename = "createdAt")]
    created_at: String,
    #[schema(rename = "rawToken")]
    raw_token: String,
}

#[derive(ToSchema)]
pub struct Token {
    id: i64,
    name: String,
}

// ---------------------------------------------------------------- inputs

#[derive(ToSchema)]
pub struct SpaceKeyRef {
    key: String,
}

#[derive(ToSchema)]
pub struct StorageBody {
    value: String,
    representation: Option<String>,
}

#[derive(ToSchema)]
pub struct BodyInput {
    storage: Option<StorageBody>,
}

#[derive(ToSchema)]
pub struct IdRef {
    id: Value,
}

#[derive(ToSchema)]
pub struct VersionInput {
    number: Option<i64>,
    message: Option<String>,
    #[schema(rename = "minorEdit")]
    minor_edit: Option<bool>,
}

/// Create or update content (`version.number` is required on update).
#[derive(ToSchema)]
pub struct ContentInput {
    #[schema(rename = "type")]
    kind: Option<String>,
    title: Option<String>,
    status: Option<String>,
    space: Option<SpaceKeyRef>,
    body: Option<BodyInput>,
    ancestors: Option<Vec<IdRef>>,
    container: Option<IdRef>,
    version: Option<VersionInput>,
    metadata: Option<BTreeMap<String, Value>>,
}

#[derive(ToSchema)]
pub struct SpaceInput {
    key: String,
    name: String,
    description: Option<BTreeMap<String, Value>>,
}

#[derive(ToSchema)]
pub struct LabelInput {
    prefix: Option<String>,
    name: String,
}

#[derive(ToSchema)]
pub struct ConvertInput {
    value: String,
    representation: Option<String>,
}

#[derive(ToSchema)]
pub struct TokenInput {
    name: String,
    #[schema(rename = "expirationDuration")]
    expiration_duration: Option<i64>,
}

/// A multipart upload: one or more `file` parts, optional `comment`,
/// `minorEdit`. Needs `X-Atlassian-Token: no-check`.
#[derive(ToSchema)]
pub struct Upload {
    #[schema(format = Binary, value_type = String)]
    file: Vec<u8>,
    comment: Option<String>,
    #[schema(rename = "minorEdit")]
    minor_edit: Option<String>,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Cairn REST API", description = "Confluence Server/Data Center REST API v1, as served by Cairn."),
    paths(
        super::spaces_list, super::space_create, super::space_get, super::space_delete,
        super::space_content, super::space_content_typed,
        super::content_list, super::content_create, super::content_get, super::content_update,
        super::content_delete, super::content_history, super::content_versions, super::content_version,
        super::attachment_download, super::child_all, super::child_pages, super::child_comments,
        super::child_attachments, super::attachment_create, super::attachment_data,
        super::descendant_pages, super::labels_get, super::labels_post, super::label_delete_q,
        super::label_delete, super::restrictions, super::properties, super::convert, super::search,
        super::content_search, super::user_get, super::user_current, super::pat_create, super::pat_list,
        super::pat_delete,
    ),
    components(schemas(ErrorEnvelope, Content, ContentList, Space, SpaceList, Label, LabelList,
        VersionInfo, VersionList, History, User, Restrictions, ConvertedBody, TokenCreated, Token,
        ContentInput, SpaceInput, LabelInput, ConvertInput, TokenInput, Upload)),
    modifiers(&Security),
    security(("basic" = []), ("bearer" = [])),
)]
pub struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
        let c = openapi.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "basic",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)),
        );
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

pub fn document() -> Value {
    serde_json::to_value(ApiDoc::openapi()).unwrap_or(Value::Null)
}
