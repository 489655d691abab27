//! Online rebuild: a fresh index is built beside the live one from
//! PostgreSQL, caught up with the journal, and swapped in.
//!
//! Invariant: searches keep answering from the old index until the swap;
//! only one rebuild runs at a time on a node.

use super::{
    documents::load_docs,
    integrity,
    schema::{schema, SCHEMA_VERSION},
    tailer::BATCH,
    Live, SearchIndex,
};
use crate::error::{Error, Result};
use crate::search::failed;
use crate::sync::Recover;
use std::path::Path;
use std::sync::Arc;

/// Progress of `cairn index rebuild` on this node.
#[derive(Debug, Clone, Default)]
pub struct RebuildState {
    pub running: bool,
    pub done: u64,
    pub total: u64,
    pub last: Option<String>,
}

impl SearchIndex {
    /// `cairn index rebuild`: builds a new index from PostgreSQL beside the
    /// live one (which keeps answering and applying the journal), catches it
    /// up with the journal, swaps it in between two batches, and returns
    /// what it did. Progress is in [`SearchIndex::rebuild_state`] and the log.
    pub async fn rebuild_online(
        self: &Arc<Self>,
        pool: &deadpool_postgres::Pool,
        store: &crate::attach::Store,
    ) -> Result<String> {
        self.rebuild_guarded(pool, store, false).await
    }

    /// Like [`SearchIndex::rebuild_online`]; `fresh` when the live index is
    /// not trusted, so the new one's starting position comes from the
    /// database rather than from it.
    pub(super) async fn rebuild_guarded(
        self: &Arc<Self>,
        pool: &deadpool_postgres::Pool,
        store: &crate::attach::Store,
        fresh: bool,
    ) -> Result<String> {
        self.begin_rebuild()?;
        let r = self.rebuild_inner(pool, store, fresh).await;
        self.end_rebuild(&r);
        r
    }

    /// Marks a rebuild as running (one at a time per node).
    pub(super) fn begin_rebuild(&self) -> Result<()> {
        let mut st = self.rebuild.lock().recover();
        if st.running {
            return Err(Error::Conflict(
                "a rebuild of this node's index is already running".into(),
            ));
        }
        st.running = true;
        st.done = 0;
        st.total = 0;
        Ok(())
    }

    pub(super) fn end_rebuild(&self, r: &Result<String>) {
        {
            let mut st = self.rebuild.lock().recover();
            st.running = false;
            st.last = Some(match r {
                Ok(m) => m.clone(),
                Err(e) => format!("failed: {e}"),
            });
        }
    }

    pub(super) async fn rebuild_inner(
        self: &Arc<Self>,
        pool: &deadpool_postgres::Pool,
        store: &crate::attach::Store,
        fresh: bool,
    ) -> Result<String> {
        let started = std::time::Instant::now();
        let next_dir = self.local_home.join("index.next");
        let _ = std::fs::remove_dir_all(&next_dir);
        std::fs::create_dir_all(&next_dir)
            .map_err(|e| failed(format!("creating {}", next_dir.display()), e))?;
        let next = Arc::new(Live::open(&next_dir, Some(schema().0))?);
        let mut db = pool.get().await?;
        if self.identity().is_none() || fresh {
            let id = integrity::Identity::load(&db).await?;
            self.set_identity(id);
        }
        // Everything the live index has applied was committed before this
        // snapshot; whatever comes after is replayed from the journal below
        // (re-applying an entry is harmless: it writes the current state).
        let live_mark = self.live().payload().mark();
        let tx = db
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        // An untrusted live index says nothing: start a little behind the
        // journal head this snapshot sees, so entries of transactions still
        // open (numbered earlier, visible later) are replayed, not skipped.
        let start = if fresh {
            integrity::replay_start(&tx).await?
        } else {
            live_mark
        };
        let total: i64 = crate::db::query_one(&tx, "SELECT count(*) FROM content", &[])
            .await?
            .get(0);
        {
            let mut st = self.rebuild.lock().recover();
            st.total = total as u64;
        }
        tracing::info!(
            documents = total,
            position = start.seq,
            fresh,
            "index rebuild started beside the live index"
        );
        let mut after = 0i64;
        let mut done = 0u64;
        loop {
            let ids: Vec<i64> = crate::db::query(
                &tx,
                "SELECT id FROM content WHERE id > $1 ORDER BY id LIMIT $2",
                &[&after, &BATCH],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
            let Some(last) = ids.last().copied() else {
                break;
            };
            after = last;
            let docs = load_docs(&tx, store, &ids).await?;
            done += ids.len() as u64;
            let (me, target, mark) = (self.clone(), next.clone(), start.clone());
            tokio::task::spawn_blocking(move || me.apply(&target, &ids, docs, &mark))
                .await
                .map_err(|e| failed("applying rebuilt documents (task panicked)", e))??;
            {
                let mut st = self.rebuild.lock().recover();
                st.done = done;
            }
            if done % 10_000 < BATCH as u64 {
                tracing::info!(done, total, "index rebuild progress");
            }
        }
        tx.commit().await?;
        if done == 0 {
            let (me, target, mark) = (self.clone(), next.clone(), start.clone());
            tokio::task::spawn_blocking(move || me.apply(&target, &[], Vec::new(), &mark))
                .await
                .map_err(|e| failed("committing the rebuilt index (task panicked)", e))??;
        }
        // Catch up with what changed meanwhile, then once more with the
        // journal held still, and swap.
        self.catch_up_into(&next, &db, store).await?;
        let applying = self.apply_lock.lock().await;
        self.catch_up_into(&next, &db, store).await?;
        let docs = next.reader.searcher().num_docs();
        let pos = next.position();
        drop(next);
        self.swap_in(&next_dir)?;
        drop(applying);
        let msg = format!(
            "rebuilt {docs} documents beside the live index and swapped it in at journal position {pos} ({:.1} s)",
            started.elapsed().as_secs_f64()
        );
        tracing::info!("{msg}");
        Ok(msg)
    }

    /// Makes the index in `prepared` (closed, complete) the live one: the
    /// current directory is set aside (its open files keep serving until
    /// the pointer moves) and removed. The caller holds the apply lock or
    /// runs before the tailer.
    pub(super) fn swap_in(&self, prepared: &Path) -> Result<()> {
        std::fs::write(prepared.join("cairn-schema-version"), SCHEMA_VERSION).map_err(|e| {
            failed(
                format!("writing the schema version into {}", prepared.display()),
                e,
            )
        })?;
        let dir = self.local_home.join("index");
        let aside = self
            .local_home
            .join(format!("index.replaced-{}", crate::auth::random_token(6)));
        if dir.exists() {
            std::fs::rename(&dir, &aside).map_err(|e| {
                failed(
                    format!("moving {} aside to {}", dir.display(), aside.display()),
                    e,
                )
            })?;
        }
        std::fs::rename(prepared, &dir).map_err(|e| {
            failed(
                format!("moving {} to {}", prepared.display(), dir.display()),
                e,
            )
        })?;
        let fresh = Arc::new(Live::open(&dir, None)?);
        *self.live.write().recover() = fresh;
        self.placeholder
            .store(false, std::sync::atomic::Ordering::Release);
        let _ = std::fs::remove_dir_all(&aside);
        Ok(())
    }
}
