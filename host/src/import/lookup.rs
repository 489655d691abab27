//! Reads for the rest of Cairn: where an old Confluence id now lives (old
//! URLs and tiny links), and the state of an import run (progress).
//!
//! Invariant: read-only; callers apply the viewer's permissions to the
//! content id returned (a hidden page stays "not found").

use deadpool_postgres::GenericClient;

use crate::error::Result;

/// The content (and, for a historical version, the version) an imported
/// Confluence id maps to. When several imports hold the id, the newest wins.
pub async fn old_id_target(
    db: &impl GenericClient,
    old_id: i64,
) -> Result<Option<(i64, Option<i32>)>> {
    Ok(crate::db::query_opt(
        db,
        "SELECT content_id, version FROM import_ids WHERE old_id = $1 ORDER BY import_id DESC LIMIT 1",
        &[&old_id],
    )
    .await?
    .map(|r| (r.get(0), r.get(1))))
}

/// Confluence's tiny links (`/x/AbCd`): the page id's little-endian bytes,
/// trailing zeros dropped, in URL-safe base64 without padding.
pub fn decode_tiny(tiny: &str) -> Option<i64> {
    use base64::Engine;
    if tiny.is_empty() || tiny.len() > 12 {
        return None;
    }
    // Confluence drops the trailing 'A's (zero bits) and '='; put them back.
    let mut t = tiny.replace('-', "/").replace('_', "+");
    while t.len() % 4 != 0 {
        t.push('A');
    }
    let mut bytes = base64::engine::general_purpose::STANDARD.decode(t).ok()?;
    bytes.resize(8, 0);
    Some(i64::from_le_bytes(bytes[..8].try_into().ok()?))
}

/// An import run as the admin pages, REST and the CLI show it.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunStatus {
    pub id: i64,
    pub file_name: String,
    pub space_keys: Vec<String>,
    /// `running`, `done`, `failed`, or `interrupted`: still `running` but
    /// its heartbeat stopped more than 30 s ago (the process running it
    /// died; nothing of it is visible, and the cluster's leader takes it
    /// over from its checkpoints).
    pub status: String,
    pub phase: String,
    pub done: i64,
    pub total: i64,
    /// The node running it (the last to take it over).
    pub node_id: String,
    /// 1, or more once other nodes took it over.
    pub attempt: i32,
    /// Objects per second in the current phase.
    pub rate: Option<f64>,
    /// Seconds left in the current phase at that rate.
    pub eta_seconds: Option<i64>,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
    pub error: Option<String>,
    pub report: Option<serde_json::Value>,
}

/// The newest runs first.
pub async fn run_status(
    db: &impl GenericClient,
    id: Option<i64>,
    limit: i64,
) -> Result<Vec<RunStatus>> {
    let rows = crate::db::query(
        db,
        "SELECT id, file_name, space_keys,
                CASE WHEN status = 'running' AND updated_at < now() - interval '30 seconds' THEN 'interrupted' ELSE status END,
                phase, done, total, node_id, started_at, finished_at, error, report, attempt,
                extract(epoch FROM (updated_at - phase_started_at))::float8
         FROM import_runs WHERE ($1::bigint IS NULL OR id = $1) ORDER BY id DESC LIMIT $2",
        &[&id, &limit],
    )
    .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let (status, done, total): (String, i64, i64) = (r.get(3), r.get(5), r.get(6));
            let secs: Option<f64> = r.get(13);
            let rate = secs
                .filter(|s| *s >= 1.0 && status == "running" && done > 0)
                .map(|s| done as f64 / s);
            let eta_seconds = rate
                .filter(|_| total >= done)
                .map(|rt| ((total - done) as f64 / rt).round() as i64);
            RunStatus {
                id: r.get(0),
                file_name: r.get(1),
                space_keys: r.get(2),
                status,
                phase: r.get(4),
                done,
                total,
                node_id: r.get(7),
                attempt: r.get(12),
                rate,
                eta_seconds,
                started_at: r.get(8),
                finished_at: r.get(9),
                error: r.get(10),
                report: r.get(11),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn decodes_confluence_tiny_links() {
        // Confluence's /x/AgAB is page 65538 (bytes 02 00 01).
        assert_eq!(super::decode_tiny("AgAB"), Some(65538));
        assert_eq!(super::decode_tiny("9AE"), Some(500));
        assert_eq!(super::decode_tiny("9A"), Some(244));
    }
}
