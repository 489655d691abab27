//! The shapes of what belongs to one user: personal access tokens, likes,
//! watches, in-app notifications, and the answer to resolving an inline
//! comment.
//!
//! Invariant: as in `shapes.rs`, a key that may be `null` is an `Option`
//! without `skip_serializing_if`, and nothing here is built as untyped JSON.

use serde::Serialize;
use utoipa::ToSchema;

use super::User;

/// What every answer about a personal access token carries.
#[derive(Serialize, ToSchema, Debug)]
pub struct TokenBase {
    pub id: i64,
    pub name: String,
    #[serde(rename = "createdAt")]
    pub created_at: String,
    #[serde(rename = "expiringAt")]
    pub expiring_at: Option<String>,
}

/// A personal access token as listed.
#[derive(Serialize, ToSchema, Debug)]
pub struct Token {
    #[serde(flatten)]
    pub base: TokenBase,
    #[serde(rename = "lastAccessedAt")]
    pub last_accessed_at: Option<String>,
}

/// A new personal access token: the secret is shown this once.
#[derive(Serialize, ToSchema, Debug)]
pub struct TokenCreated {
    #[serde(flatten)]
    pub base: TokenBase,
    #[serde(rename = "rawToken")]
    pub raw_token: String,
}

/// Confluence Server's `/rest/likes/1.0` resource.
#[derive(Serialize, Debug)]
pub struct Likes {
    pub likes: Vec<Like>,
    pub content_id: i64,
    pub content_type: &'static str,
}

#[derive(Serialize, Debug)]
pub struct Like {
    pub user: LikeUser,
}

#[derive(Serialize, Debug)]
pub struct LikeUser {
    pub name: String,
    #[serde(rename = "fullName")]
    pub full_name: String,
    #[serde(rename = "userKey")]
    pub user_key: String,
    pub url: String,
}

/// `/user/watch/…` GET.
#[derive(Serialize, ToSchema, Debug)]
pub struct Watching {
    pub watching: bool,
}

/// One entry of `/notification/created` and `…/child-created`.
#[derive(Serialize, ToSchema, Debug)]
pub struct Watch {
    #[serde(rename = "type")]
    #[schema(value_type = String)]
    pub kind: &'static str,
    pub watcher: User,
    #[serde(rename = "contentId")]
    pub content_id: String,
}

/// `/rest/cairn/1.0/notifications`.
#[derive(Serialize, Debug)]
pub struct Notifications {
    pub results: Vec<Notification>,
    pub size: usize,
    pub unread: i64,
}

#[derive(Serialize, Debug)]
pub struct Notification {
    pub id: i64,
    #[serde(rename = "pageId")]
    pub page_id: String,
    pub title: String,
    #[serde(rename = "spaceKey")]
    pub space_key: String,
    pub event: &'static str,
    pub reason: &'static str,
    #[serde(rename = "commentId")]
    pub comment_id: Option<String>,
    pub version: Option<i32>,
    pub actor: String,
    pub text: String,
    pub url: String,
    pub created: chrono::DateTime<chrono::Utc>,
    pub read: bool,
}

/// `/rest/cairn/1.0/notifications/read`.
#[derive(Serialize, Debug)]
pub struct Marked {
    pub marked: u64,
}

/// `/rest/cairn/1.0/comments/{id}/resolution`.
#[derive(Serialize, Debug)]
pub struct ResolutionChange {
    pub id: String,
    #[serde(rename = "markerRef")]
    pub marker_ref: String,
    pub status: String,
}
