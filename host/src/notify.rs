//! Watching and notifications: who hears about a change, in the app and by
//! e-mail.
//!
//! The path of an event:
//! 1. a content change (`content::create`/`update`/`add_comment`) calls
//!    [`outbox::record`] inside its own transaction, so an event exists if
//!    and only if the change committed;
//! 2. the leader's `notify-delivery` job ([`fanout`]) turns each outbox row,
//!    in one transaction per event, into in-app `notifications` and
//!    `mail_queue` rows — unique per (event, user), so running it twice
//!    (a new leader, a crash) adds nothing;
//! 3. the same job sends the mail queue ([`deliver`]) through SMTP.
//!
//! Invariants: the actor never hears of their own action; a recipient is
//! checked against the page's permissions when the event is fanned out
//! *and again* when a mail is sent or an in-app notification listed — one
//! who lost access gets nothing and sees no title; no module here speaks
//! HTTP (`rest/watch.rs` and `web/notify.rs` do).

mod compose;
pub mod deliver;
pub mod fanout;
pub(crate) mod inapp;
pub(crate) mod mail;
pub(crate) mod outbox;
pub(crate) mod queue;
pub(crate) mod share;
pub(crate) mod watches;

pub use inapp::{EmailMode, Prefs};
pub use outbox::Event;

/// Why a user is told about an event (strongest first when several apply).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Reason {
    /// A task of the page was assigned to them by this version.
    TaskAssigned,
    Mention,
    Reply,
    /// Addressed to them: a page shared with them, a thread they are in
    /// resolved.
    Direct,
    Watch,
}

impl Reason {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Reason::TaskAssigned => "task-assigned",
            Reason::Mention => "mention",
            Reason::Reply => "reply",
            Reason::Direct => "direct",
            Reason::Watch => "watch",
        }
    }
    pub(crate) fn parse(s: &str) -> Reason {
        match s {
            "task-assigned" => Reason::TaskAssigned,
            "mention" => Reason::Mention,
            "reply" => Reason::Reply,
            "direct" => Reason::Direct,
            _ => Reason::Watch,
        }
    }
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Created,
    Updated,
    Commented,
    /// To another parent or space (not a reorder among siblings).
    Moved,
    /// An inline comment thread resolved (the subject is its first comment).
    Resolved,
    /// Shared with chosen people ("Share"), with a note as the message.
    Shared,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::Created => "created",
            Kind::Updated => "updated",
            Kind::Commented => "commented",
            Kind::Moved => "moved",
            Kind::Resolved => "resolved",
            Kind::Shared => "shared",
        }
    }
    pub(crate) fn parse(s: &str) -> Option<Kind> {
        match s {
            "created" => Some(Kind::Created),
            "updated" => Some(Kind::Updated),
            "commented" => Some(Kind::Commented),
            "moved" => Some(Kind::Moved),
            "resolved" => Some(Kind::Resolved),
            "shared" => Some(Kind::Shared),
            _ => None,
        }
    }
    /// "edited", "created", "commented on", for sentences.
    pub(crate) fn verb(self) -> &'static str {
        match self {
            Kind::Created => "created",
            Kind::Updated => "edited",
            Kind::Commented => "commented on",
            Kind::Moved => "moved",
            Kind::Resolved => "resolved a comment thread on",
            Kind::Shared => "shared with you:",
        }
    }
    /// Whether the page's and space's watchers hear of it (a share or a
    /// resolved thread is for the people it names).
    pub(crate) fn for_watchers(self) -> bool {
        !matches!(self, Kind::Resolved | Kind::Shared)
    }
    /// The comment a notification links to.
    pub(crate) fn has_comment(self) -> bool {
        matches!(self, Kind::Commented | Kind::Resolved)
    }
}

/// "mentioned you on", "replied to your comment on", "edited"…: what the
/// actor did, as a notification says it before the page's title.
pub(crate) fn verb(kind: Kind, reason: Reason) -> &'static str {
    match (kind, reason) {
        (Kind::Shared | Kind::Resolved, _) => kind.verb(),
        (_, Reason::TaskAssigned) => "assigned you a task on",
        (_, Reason::Mention) => "mentioned you on",
        (Kind::Commented, Reason::Reply) => "replied to your comment on",
        _ => kind.verb(),
    }
}
