//! The viewer's filter: spaces the viewer may read and the restricted
//! pages they fail, cached per data generation.
//!
//! Invariant: a cached filter is used only for the generation it was
//! computed in, so a permission change is seen by the next search.

use super::SearchIndex;
use crate::error::Result;
use crate::perms::Viewer;
use deadpool_postgres::GenericClient;
use std::sync::Arc;

/// (data generation, user, groups)
pub(super) type BlockedKey = (u64, Option<i64>, Vec<i64>);

impl SearchIndex {
    /// Caches [`blocked_restrictions`] per viewer until the data generation
    /// moves (restrictions and group memberships both move it).
    pub(crate) fn set_generation(&self, g: crate::generation::Generation) {
        let _ = self.generation.set(g);
    }

    pub(super) async fn blocked_for(
        &self,
        db: &impl GenericClient,
        viewer: &Viewer,
    ) -> Result<Arc<ViewerFilter>> {
        // Read before the query, so a change racing it moves the key.
        let generation = self.generation.get().and_then(|g| g.current());
        let Some(generation) = generation else {
            return Ok(Arc::new(ViewerFilter::load(db, viewer).await?));
        };
        let key = (generation, viewer.user_id(), (*viewer.groups).clone());
        if let Some(hit) = self.blocked.get(&key) {
            return Ok(hit);
        }
        let v = Arc::new(ViewerFilter::load(db, viewer).await?);
        self.blocked.insert(key, v.clone());
        Ok(v)
    }
}

/// What a viewer's searches are filtered by.
pub(super) struct ViewerFilter {
    /// Read-restriction sets the viewer does not pass.
    pub(super) blocked: Vec<i64>,
    /// Whether the viewer may view every space, so results need no space
    /// filter (intersecting with it was a quarter of a search's CPU).
    pub(super) every_space: bool,
}

impl ViewerFilter {
    async fn load(db: &impl GenericClient, viewer: &Viewer) -> Result<ViewerFilter> {
        let every_space = crate::db::query_one(
            db,
            "SELECT NOT EXISTS (SELECT 1 FROM spaces WHERE id <> ALL($1))",
            &[&*viewer.view_spaces],
        )
        .await?
        .get(0);
        Ok(ViewerFilter {
            blocked: blocked_restrictions(db, viewer).await?,
            every_space,
        })
    }
}

/// Read-restricted pages this viewer does not pass.
pub(super) async fn blocked_restrictions(
    db: &impl GenericClient,
    viewer: &Viewer,
) -> Result<Vec<i64>> {
    let rows = crate::db::query(
        db,
        "SELECT content_id FROM content_restrictions WHERE operation = 'read' GROUP BY content_id
         HAVING NOT bool_or((user_id = $1) IS TRUE OR (group_id = ANY($2)) IS TRUE)",
        &[&viewer.user_id(), &*viewer.groups],
    )
    .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}
