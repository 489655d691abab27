//! Where live settings are kept: etcd under the cluster prefix, or (a
//! standalone node) PostgreSQL. Changes are audited in PostgreSQL either way.

use std::collections::BTreeMap;
use std::time::Duration;

use etcd_client::{Client, Compare, CompareOp, GetOptions, Txn, TxnOp};

use super::settings;
use crate::error::{Error, Result};

#[derive(Clone)]
pub enum Store {
    Etcd { client: Box<Client>, prefix: String },
    Pg(deadpool_postgres::Pool),
}

const CALL: Duration = Duration::from_secs(3);

fn unavailable(e: impl std::fmt::Display) -> Error {
    Error::Unavailable(format!("etcd: {e}"))
}

impl Store {
    /// Every explicitly set value, by key.
    pub async fn load(&self) -> Result<BTreeMap<String, String>> {
        match self {
            Store::Etcd { client, prefix } => {
                let mut c = (**client).clone();
                let p = format!("{prefix}config/");
                let resp = tokio::time::timeout(
                    CALL,
                    c.get(p.clone(), Some(GetOptions::new().with_prefix())),
                )
                .await
                .map_err(|_| unavailable("no answer"))?
                .map_err(unavailable)?;
                Ok(resp
                    .kvs()
                    .iter()
                    .filter_map(|kv| {
                        let k = String::from_utf8_lossy(kv.key());
                        Some((
                            k.strip_prefix(&p)?.to_owned(),
                            String::from_utf8_lossy(kv.value()).into_owned(),
                        ))
                    })
                    .collect())
            }
            Store::Pg(pool) => {
                let db = pool.get().await?;
                Ok(
                    crate::db::query(&db, "SELECT key, value FROM settings", &[])
                        .await?
                        .iter()
                        .map(|r| (r.get(0), r.get(1)))
                        .collect(),
                )
            }
        }
    }

    /// Validates and stores `value` for `key` (`None`: back to the
    /// default), then audits it. Returns the old and new stored values.
    pub async fn set(
        &self,
        pool: &deadpool_postgres::Pool,
        key: &str,
        value: Option<&str>,
        by: &str,
        node: &str,
    ) -> Result<(Option<String>, Option<String>)> {
        let new = match value {
            Some(v) => Some(settings::validate(key, v)?),
            None => {
                settings::def(key)
                    .ok_or_else(|| Error::BadRequest(format!("unknown setting {key:?}")))?;
                None
            }
        };
        let old = match self {
            Store::Etcd { client, prefix } => {
                let mut c = (**client).clone();
                let k = format!("{prefix}config/{key}");
                // Compare-and-swap on the revision read, so two admins
                // changing one key at once cannot lose an audit entry.
                for _ in 0..5 {
                    let cur = tokio::time::timeout(CALL, c.get(k.clone(), None))
                        .await
                        .map_err(|_| unavailable("no answer"))?
                        .map_err(unavailable)?;
                    let (old, rev) = cur
                        .kvs()
                        .first()
                        .map(|kv| {
                            (
                                Some(String::from_utf8_lossy(kv.value()).into_owned()),
                                kv.mod_revision(),
                            )
                        })
                        .unwrap_or((None, 0));
                    let op = match &new {
                        Some(v) => TxnOp::put(k.clone(), v.clone(), None),
                        None => TxnOp::delete(k.clone(), None),
                    };
                    let txn = Txn::new()
                        .when([Compare::mod_revision(k.clone(), CompareOp::Equal, rev)])
                        .and_then([op]);
                    let r = tokio::time::timeout(CALL, c.txn(txn))
                        .await
                        .map_err(|_| unavailable("no answer"))?
                        .map_err(unavailable)?;
                    if r.succeeded() {
                        let db = pool.get().await?;
                        settings::audit(&db, key, old.as_deref(), new.as_deref(), by, node).await?;
                        return Ok((settings::shown(key, old), settings::shown(key, new)));
                    }
                }
                return Err(Error::Conflict(format!(
                    "{key} is being changed by someone else right now; retry"
                )));
            }
            Store::Pg(pool) => {
                let mut db = pool.get().await?;
                let tx = db.transaction().await?;
                let old: Option<String> = crate::db::query_opt(
                    &tx,
                    "SELECT value FROM settings WHERE key = $1 FOR UPDATE",
                    &[&key],
                )
                .await?
                .map(|r| r.get(0));
                match &new {
                    Some(v) => {
                        crate::db::execute(
                            &tx,
                            "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, now())
                             ON CONFLICT (key) DO UPDATE SET value = $2, updated_at = now()",
                            &[&key, v],
                        )
                        .await?;
                    }
                    None => {
                        crate::db::execute(&tx, "DELETE FROM settings WHERE key = $1", &[&key])
                            .await?;
                    }
                }
                settings::audit(&tx, key, old.as_deref(), new.as_deref(), by, node).await?;
                tx.commit().await?;
                old
            }
        };
        // What callers print or return: secrets masked.
        Ok((settings::shown(key, old), settings::shown(key, new)))
    }
}
