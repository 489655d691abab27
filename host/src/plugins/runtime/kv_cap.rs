//! Capability `kv`: a plugin's own key-value store in `plugin_kv`.
//!
//! Invariants: a plugin reaches only its own keys; keys and values together
//! stay within [`KV_QUOTA_BYTES`] per plugin (the check and the write are
//! one statement); a call that wrote is never replayed by the output cache.

use super::bindings::cairn::plugin::kv::Host;
use super::reads::Read;
use super::{HostState, KV_QUOTA_BYTES};

const MAX_KV_KEY: usize = 256;
const MAX_KV_VALUE: usize = 1024 * 1024;

impl Host for HostState {
    fn get(&mut self, key: String) -> wasmtime::Result<Option<Vec<u8>>> {
        self.read(Read::KvGet(key))
    }
    fn set(&mut self, key: String, value: Vec<u8>) -> wasmtime::Result<Result<(), String>> {
        if key.is_empty() || key.len() > MAX_KV_KEY {
            self.tick()?;
            return Ok(Err(format!("keys are 1 to {MAX_KV_KEY} bytes")));
        }
        if value.len() > MAX_KV_VALUE {
            self.tick()?;
            return Ok(Err(format!("values are at most {MAX_KV_VALUE} bytes")));
        }
        self.env.unreplayable();
        let id = self.env.plugin_id.clone();
        self.db(async move |db, _| {
            // The quota counts keys and values; the check and the write are
            // one statement (two concurrent writes may overshoot it by one
            // value at most).
            let n = crate::db::execute(
                db,
                "INSERT INTO plugin_kv (plugin_id, key, value)
                 SELECT $1::text, $2::text, $3::bytea
                 WHERE (SELECT coalesce(sum(octet_length(key) + octet_length(value)), 0)
                        FROM plugin_kv WHERE plugin_id = $1::text AND key <> $2::text)
                       + octet_length($2::text) + octet_length($3::bytea) <= $4::bigint
                 ON CONFLICT (plugin_id, key) DO UPDATE SET value = EXCLUDED.value",
                &[&id, &key, &value, &KV_QUOTA_BYTES],
            )
            .await?;
            if n == 0 {
                return Ok(Err(format!(
                    "the key-value store is full: a plugin may keep {KV_QUOTA_BYTES} bytes of keys and values"
                )));
            }
            Ok(Ok(()))
        })
    }
    fn delete(&mut self, key: String) -> wasmtime::Result<()> {
        self.env.unreplayable();
        let id = self.env.plugin_id.clone();
        self.db(async move |db, _| {
            crate::db::execute(
                db,
                "DELETE FROM plugin_kv WHERE plugin_id = $1 AND key = $2",
                &[&id, &key],
            )
            .await?;
            Ok(())
        })
    }
    fn keys(&mut self, prefix: String, limit: u32) -> wasmtime::Result<Vec<String>> {
        self.read(Read::KvKeys(prefix, limit))
    }
}
