//! Admin extensions: their pages (requests from administrators) and content
//! events, delivered once per cluster in commit order.

use std::time::Instant;

use super::runtime::{wit, wit_events};
use super::*;
use crate::error::{Error, Result};

pub use super::runtime::wit_admin::{Request as AdminRequest, Response as AdminResponse};

/// Events are delivered by the node holding this advisory lock.
const EVENTS_LOCK: i64 = 0x6361_6972_6e45_5654; // "cairnEVT"
const EVENT_BATCH: i64 = 100;

impl Plugins {
    /// Serves one admin-page request with plugin `id`. Runs the call on a
    /// blocking thread.
    pub(crate) async fn admin_request(
        &self,
        viewer: &Viewer,
        id: &str,
        request: AdminRequest,
    ) -> Result<AdminResponse> {
        if !viewer.is_admin {
            return Err(Error::Forbidden(
                "Only administrators may use plugin admin pages".into(),
            ));
        }
        let reg = self.registry();
        let l = reg
            .loaded
            .get(id)
            .filter(|l| l.has_admin())
            .cloned()
            .ok_or_else(|| Error::NotFound(format!("No enabled admin extension with id {id}")))?;
        let idx = l.admin.clone().expect("checked has_admin");
        let this = self.clone();
        let viewer = viewer.clone();
        let metrics = self.metrics(id);
        let resp = tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            let r = this.call(&l, viewer, |store, inst| {
                idx.load(&mut *store, inst)?
                    .call_handle(&mut *store, &request)
            });
            let r = r.and_then(|resp| {
                if resp.body.len() > runtime::MAX_OUTPUT_BYTES {
                    Err(Failure::OutputTooLarge(resp.body.len()))
                } else {
                    Ok(resp)
                }
            });
            metrics.record(started, r.as_ref().err().map(|f| f.to_string()).as_deref());
            r
        })
        .await
        .map_err(Error::internal)?;
        resp.map_err(|f| Error::Internal(format!("The plugin {id} failed: {f}")))
    }

    /// One round of event delivery: the leader's `plugin-events` job (and
    /// tests). Each plugin has its own position; a plugin installed later
    /// starts at the newest event. The round also holds an advisory lock, so
    /// two nodes can never deliver at once (e.g. during a leader change).
    pub async fn dispatch_events(&self) -> Result<usize> {
        let db = self.inner.pool.get().await?;
        let got: bool =
            crate::db::query_one(&db, "SELECT pg_try_advisory_lock($1)", &[&EVENTS_LOCK])
                .await?
                .get(0);
        if !got {
            return Ok(0);
        }
        let r = self.dispatch_round().await;
        let _ = crate::db::execute(&db, "SELECT pg_advisory_unlock($1)", &[&EVENTS_LOCK]).await;
        r
    }

    async fn dispatch_round(&self) -> Result<usize> {
        let db = self.inner.pool.get().await?;
        let reg = self.registry();
        let mut delivered = 0;
        // Hooks read as the system: every space, restrictions still apply.
        let mut system = system_viewer();
        system.view_spaces = Arc::new(
            crate::db::query(&db, "SELECT id FROM spaces", &[])
                .await?
                .iter()
                .map(|r| r.get(0))
                .collect(),
        );
        for l in reg.loaded.values().filter(|l| l.has_events()) {
            crate::db::execute(
                &db,
                "INSERT INTO plugin_event_positions (plugin_id, seq)
                 SELECT $1, coalesce(max(seq), 0) FROM plugin_events
                 ON CONFLICT (plugin_id) DO NOTHING",
                &[&l.row.id],
            )
            .await?;
            let rows = crate::db::query(
                &db,
                "SELECT e.seq, e.kind, c.id, c.content_type, c.title, s.space_key, c.version,
                        e.content_id, u.user_key, u.username, u.display_name
                 FROM plugin_events e
                 JOIN plugin_event_positions p ON p.plugin_id = $1
                 LEFT JOIN content c ON c.id = e.content_id
                 LEFT JOIN spaces s ON s.id = c.space_id
                 LEFT JOIN users u ON u.id = e.user_id
                 WHERE e.seq > p.seq ORDER BY e.seq LIMIT $2",
                &[&l.row.id, &EVENT_BATCH],
            )
            .await?;
            if rows.is_empty() {
                continue;
            }
            let mut last = 0i64;
            let mut events = Vec::new();
            for r in &rows {
                last = r.get(0);
                let kind: String = r.get(1);
                let cref = wit_events::ContentRef {
                    id: r.get::<_, Option<i64>>(7).unwrap_or_default(),
                    type_: r.get::<_, Option<String>>(3).unwrap_or_default(),
                    title: r.get::<_, Option<String>>(4).unwrap_or_default(),
                    space_key: r.get::<_, Option<String>>(5).unwrap_or_default(),
                    version: r.get::<_, Option<i32>>(6).unwrap_or_default(),
                };
                let ev = match kind.as_str() {
                    "content-created" => wit_events::Event::ContentCreated(cref),
                    "content-updated" => wit_events::Event::ContentUpdated(cref),
                    "content-moved" => wit_events::Event::ContentMoved(cref),
                    "content-deleted" => wit_events::Event::ContentDeleted(cref),
                    "comment-added" => wit_events::Event::CommentAdded(cref),
                    "user-created" => match r.get::<_, Option<String>>(8) {
                        Some(key) => wit_events::Event::UserCreated(wit::User {
                            key,
                            username: r.get::<_, Option<String>>(9).unwrap_or_default(),
                            display_name: r.get::<_, Option<String>>(10).unwrap_or_default(),
                        }),
                        None => continue,
                    },
                    _ => continue,
                };
                events.push(ev);
            }
            let this = self.clone();
            let system = system.clone();
            let l2 = l.clone();
            let idx = l.events.clone().expect("has_events");
            let metrics = self.metrics(&l.row.id);
            let n = events.len();
            tokio::task::spawn_blocking(move || {
                for ev in events {
                    let started = Instant::now();
                    let r = this.call(&l2, system.clone(), |store, inst| {
                        idx.load(&mut *store, inst)?.call_on_event(&mut *store, &ev)
                    });
                    if let Err(f) = &r {
                        tracing::warn!(plugin = %l2.row.id, "event hook failed: {f}");
                    }
                    metrics.record(started, r.err().map(|f| f.to_string()).as_deref());
                }
            })
            .await
            .map_err(Error::internal)?;
            delivered += n;
            crate::db::execute(
                &db,
                "UPDATE plugin_event_positions SET seq = $2 WHERE plugin_id = $1",
                &[&l.row.id, &last],
            )
            .await?;
        }
        // Events every subscriber has passed are no longer needed.
        crate::db::execute(
            &db,
            "DELETE FROM plugin_events WHERE seq <= (SELECT coalesce(min(seq), (SELECT max(seq) FROM plugin_events)) FROM plugin_event_positions)
             AND created_at < now() - interval '1 minute'",
            &[],
        )
        .await?;
        Ok(delivered)
    }
}
