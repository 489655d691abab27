//! The shapes of what hangs off one piece of content besides its body:
//! content properties (`/content/{id}/property`, `metadata.properties`).
//!
//! Invariant: as in `shapes.rs`, a key that is sometimes absent is an
//! `Option` skipped when `None`, and nothing here is built as untyped JSON
//! (a property's `value` is the client's own JSON, stored as given).

use serde::Serialize;
use utoipa::ToSchema;

use super::{Content, Expandable, Links, Version};

/// A content property: a JSON value under a key, with its own version.
#[derive(Serialize, ToSchema, Debug)]
pub struct ContentProperty {
    pub id: String,
    pub key: String,
    /// Any JSON value, as the client stored it.
    pub value: serde_json::Value,
    pub version: Version,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(no_recursion)]
    pub content: Option<Box<Content>>,
    #[serde(rename = "_links")]
    pub links: Links,
    #[serde(rename = "_expandable")]
    pub expandable: Expandable,
}
