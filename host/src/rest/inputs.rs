//! The request bodies of the REST API as the OpenAPI document describes them.
//!
//! Invariant: handlers read bodies field by field from the JSON (`str_at`,
//! `id_value`, …) so that every 4xx names the field that is wrong and ids
//! may be numbers or strings, as Confluence's clients send them; these
//! types describe exactly the fields those readers accept.

// Never constructed: the readers above take the fields out of the JSON one
// by one (see the invariant); these types only describe the bodies.
#![allow(dead_code)]

use std::collections::BTreeMap;

use serde_json::Value;
use utoipa::ToSchema;

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
