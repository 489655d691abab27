//! Calls to etcd with the node's time limit, and the facts every member
//! record carries (build, timestamps).
//!
//! Invariant: no etcd call of the node's loops waits longer than
//! `ETCD_CALL`; a call that times out is an `Unavailable` error like any
//! other etcd failure.

use std::time::Duration;

use chrono::Utc;

use crate::error::{Error, Result};

/// Time limit of one etcd request made by the node's loops.
pub(super) const ETCD_CALL: Duration = Duration::from_secs(2);

pub(super) fn now_text() -> String {
    Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The build this binary came from (version and commit when known).
pub fn build_id() -> String {
    option_env!("CAIRN_BUILD")
        .unwrap_or(env!("CARGO_PKG_VERSION"))
        .to_owned()
}

pub(super) async fn etcd<T>(
    f: impl std::future::Future<Output = std::result::Result<T, etcd_client::Error>>,
) -> Result<T> {
    match tokio::time::timeout(ETCD_CALL, f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(Error::Unavailable(format!("etcd: {e}"))),
        Err(_) => Err(Error::Unavailable("etcd did not answer within 2 s".into())),
    }
}

/// What the `get` in a transaction's else branch read: the value that
/// made a compare fail.
pub(super) fn txn_got(resp: &etcd_client::TxnResponse) -> Option<Vec<u8>> {
    resp.op_responses().into_iter().find_map(|r| match r {
        etcd_client::TxnOpResponse::Get(g) => g.kvs().first().map(|kv| kv.value().to_vec()),
        _ => None,
    })
}
