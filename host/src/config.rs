//! The node's static configuration: an optional TOML file overridden by
//! `CAIRN_*` environment variables. The variable names are a public contract.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Why a configuration could not be loaded. Every variant names the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid TOML: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid value for {key}: {reason}")]
    Invalid { key: &'static str, reason: String },
}

/// Values as they appear in the TOML file; every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    base_url: Option<String>,
    database_url: Option<String>,
    shared_home: Option<PathBuf>,
    local_home: Option<PathBuf>,
    node_id: Option<String>,
    etcd_endpoints: Option<String>,
    cluster: Option<String>,
    max_attachment_size: Option<String>,
    rest_rate_limit: Option<String>,
    index_snapshot_interval: Option<String>,
    index_check_interval: Option<String>,
    builtin_plugins: Option<PathBuf>,
    lease_ttl: Option<String>,
    log: Option<String>,
    response_cache: Option<String>,
    test_notify_delay_ms: Option<String>,
}

/// The resolved configuration of one node.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub base_url: String,
    /// `None` means: run the embedded PostgreSQL inside the local home.
    pub database_url: Option<String>,
    pub shared_home: PathBuf,
    pub local_home: PathBuf,
    pub node_id: String,
    /// Empty means standalone (no etcd).
    pub etcd_endpoints: Vec<String>,
    pub cluster: String,
    /// Largest accepted attachment, in bytes (`CAIRN_MAX_ATTACHMENT_SIZE`,
    /// e.g. `100M`; default 100 MiB).
    pub max_attachment_size: u64,
    /// REST token bucket per user (`CAIRN_REST_RATE_LIMIT`: `RATE/BURST`
    /// or `off`; default 50/500).
    pub rest_rate_limit: Option<crate::ratelimit::Limits>,
    /// How often the search index is snapshotted to the shared home
    /// (`CAIRN_INDEX_SNAPSHOT_INTERVAL`: e.g. `24h`, `30m`, `90s`; default 24h).
    pub index_snapshot_interval: std::time::Duration,
    /// How often each node compares its search index with PostgreSQL and
    /// repairs what differs (`CAIRN_INDEX_CHECK_INTERVAL`: e.g. `60s`, `5m`;
    /// default 60s).
    pub index_check_interval: std::time::Duration,
    /// Directory of first-party plugins (`*/cairn-plugin.toml` with built
    /// components) installed or upgraded at start (`CAIRN_BUILTIN_PLUGINS`).
    pub builtin_plugins: Option<PathBuf>,
    /// TTL of this node's etcd lease (`CAIRN_LEASE_TTL`: seconds, 2-60,
    /// e.g. `5` or `5s`; default 5). A node cut off from etcd stops writing
    /// one second before it; members notice a dead node within it.
    pub lease_ttl: std::time::Duration,
    /// The log filter at start (`CAIRN_LOG`: `info`, `debug`,
    /// `cairn=debug,info`…; default `info`); the live setting `log_level`
    /// changes it later.
    pub log: String,
    /// Whether whole page views are cached per viewer
    /// (`CAIRN_RESPONSE_CACHE`: `on` or `off`; default on).
    pub response_cache: bool,
    /// A test hook (`CAIRN_TEST_NOTIFY_DELAY_MS`): hold every change
    /// notification back this long, to prove read-your-writes does not
    /// depend on how fast notifications travel.
    pub test_notify_delay: Option<std::time::Duration>,
}

impl Config {
    /// Loads the file (if any) and applies the process environment.
    ///
    /// # Errors
    /// Names the key and the reason for any value that cannot be used.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        Self::from_sources(file, &env)
    }

    /// Loads from a file and an explicit environment (testable without globals).
    ///
    /// # Errors
    /// See [`Config::load`].
    pub(crate) fn from_sources(
        file: Option<&Path>,
        env: &[(String, String)],
    ) -> Result<Config, ConfigError> {
        let mut fc = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_owned(),
                    source,
                })?;
                toml::from_str::<FileConfig>(&text).map_err(|e| ConfigError::Parse {
                    path: path.to_owned(),
                    message: e.message().to_owned(),
                })?
            }
            None => FileConfig::default(),
        };
        for (k, v) in env {
            match k.as_str() {
                "CAIRN_LISTEN" => fc.listen = Some(v.clone()),
                "CAIRN_BASE_URL" => fc.base_url = Some(v.clone()),
                "CAIRN_DATABASE_URL" => fc.database_url = Some(v.clone()),
                "CAIRN_SHARED_HOME" => fc.shared_home = Some(v.into()),
                "CAIRN_LOCAL_HOME" => fc.local_home = Some(v.into()),
                "CAIRN_NODE_ID" => fc.node_id = Some(v.clone()),
                "CAIRN_ETCD_ENDPOINTS" => fc.etcd_endpoints = Some(v.clone()),
                "CAIRN_CLUSTER" => fc.cluster = Some(v.clone()),
                "CAIRN_MAX_ATTACHMENT_SIZE" => fc.max_attachment_size = Some(v.clone()),
                "CAIRN_REST_RATE_LIMIT" => fc.rest_rate_limit = Some(v.clone()),
                "CAIRN_INDEX_SNAPSHOT_INTERVAL" => fc.index_snapshot_interval = Some(v.clone()),
                "CAIRN_INDEX_CHECK_INTERVAL" => fc.index_check_interval = Some(v.clone()),
                "CAIRN_BUILTIN_PLUGINS" => fc.builtin_plugins = Some(v.into()),
                "CAIRN_LEASE_TTL" => fc.lease_ttl = Some(v.clone()),
                "CAIRN_LOG" => fc.log = Some(v.clone()),
                "CAIRN_RESPONSE_CACHE" => fc.response_cache = Some(v.clone()),
                "CAIRN_TEST_NOTIFY_DELAY_MS" => fc.test_notify_delay_ms = Some(v.clone()),
                _ => {}
            }
        }

        let listen_text = fc.listen.unwrap_or_else(|| "127.0.0.1:8090".to_owned());
        let listen: SocketAddr = listen_text.parse().map_err(|_| ConfigError::Invalid {
            key: "CAIRN_LISTEN",
            reason: format!("{listen_text:?} is not an address like 127.0.0.1:8090"),
        })?;

        let base_url = fc
            .base_url
            .unwrap_or_else(|| format!("http://{listen}"))
            .trim_end_matches('/')
            .to_owned();
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(ConfigError::Invalid {
                key: "CAIRN_BASE_URL",
                reason: format!("{base_url:?} must start with http:// or https://"),
            });
        }

        let database_url = fc.database_url.filter(|s| !s.trim().is_empty());
        if let Some(url) = &database_url {
            if url.parse::<tokio_postgres::Config>().is_err() {
                return Err(ConfigError::Invalid {
                    key: "CAIRN_DATABASE_URL",
                    reason: "not a PostgreSQL connection string (postgres://user@host:port/db)"
                        .to_owned(),
                });
            }
        }

        let local_home = fc
            .local_home
            .unwrap_or_else(|| PathBuf::from(".cairn/local"));
        let shared_home = fc
            .shared_home
            .unwrap_or_else(|| PathBuf::from(".cairn/shared"));

        let node_id = match fc.node_id.filter(|s| !s.is_empty()) {
            Some(id) => id,
            None => gethostname::gethostname().to_string_lossy().into_owned(),
        };
        if node_id.len() > 64
            || !node_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(ConfigError::Invalid {
                key: "CAIRN_NODE_ID",
                reason: format!(
                    "{node_id:?} must be 1-64 characters of letters, digits, '-', '_' or '.'"
                ),
            });
        }

        let etcd_endpoints: Vec<String> = fc
            .etcd_endpoints
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        for ep in &etcd_endpoints {
            if ep.contains(char::is_whitespace) || !ep.contains(':') {
                return Err(ConfigError::Invalid {
                    key: "CAIRN_ETCD_ENDPOINTS",
                    reason: format!("{ep:?} is not host:port or a URL"),
                });
            }
        }
        let cluster = fc.cluster.unwrap_or_else(|| "cairn".to_owned());
        if cluster.is_empty() || cluster.contains('/') {
            return Err(ConfigError::Invalid {
                key: "CAIRN_CLUSTER",
                reason: "must be a non-empty name without '/'".to_owned(),
            });
        }

        let max_attachment_size = match fc.max_attachment_size {
            None => 100 * 1024 * 1024,
            Some(t) => parse_size(&t).ok_or_else(|| ConfigError::Invalid {
                key: "CAIRN_MAX_ATTACHMENT_SIZE",
                reason: format!("{t:?} is not a size like 5000000, 512K, 100M or 2G"),
            })?,
        };

        let rest_rate_limit = match fc.rest_rate_limit {
            None => Some(crate::DEFAULT_RATE_LIMIT),
            Some(t) => crate::ratelimit::Limits::parse(&t).ok_or_else(|| ConfigError::Invalid {
                key: "CAIRN_REST_RATE_LIMIT",
                reason: format!("{t:?} is not RATE/BURST (e.g. 50/500, both positive) or off"),
            })?,
        };

        let index_snapshot_interval = match fc.index_snapshot_interval {
            None => std::time::Duration::from_secs(24 * 3600),
            Some(t) => parse_duration(&t).ok_or_else(|| ConfigError::Invalid {
                key: "CAIRN_INDEX_SNAPSHOT_INTERVAL",
                reason: format!("{t:?} is not a duration like 24h, 30m or 90s (at least 10s)"),
            })?,
        };

        let index_check_interval = match fc.index_check_interval {
            None => std::time::Duration::from_secs(60),
            Some(t) => parse_duration(&t).ok_or_else(|| ConfigError::Invalid {
                key: "CAIRN_INDEX_CHECK_INTERVAL",
                reason: format!("{t:?} is not a duration like 60s, 5m or 1h (at least 10s)"),
            })?,
        };

        let lease_ttl = match fc.lease_ttl {
            None => std::time::Duration::from_secs(5),
            Some(t) => t
                .trim()
                .trim_end_matches('s')
                .parse::<u64>()
                .ok()
                .filter(|n| (2..=60).contains(n))
                .map(std::time::Duration::from_secs)
                .ok_or_else(|| ConfigError::Invalid {
                    key: "CAIRN_LEASE_TTL",
                    reason: format!("{t:?} is not a number of seconds from 2 to 60"),
                })?,
        };

        let log = fc
            .log
            .filter(|l| !l.trim().is_empty())
            .unwrap_or_else(|| "info".to_owned());
        let response_cache = match fc.response_cache.as_deref().map(str::trim) {
            None | Some("on") => true,
            Some("off") => false,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    key: "CAIRN_RESPONSE_CACHE",
                    reason: format!("{other:?} is neither on nor off"),
                })
            }
        };
        let test_notify_delay = match fc.test_notify_delay_ms {
            None => None,
            Some(t) => {
                let ms = t.trim().parse::<u64>().map_err(|_| ConfigError::Invalid {
                    key: "CAIRN_TEST_NOTIFY_DELAY_MS",
                    reason: format!("{t:?} is not a number of milliseconds"),
                })?;
                (ms > 0).then(|| std::time::Duration::from_millis(ms))
            }
        };

        Ok(Config {
            log,
            response_cache,
            test_notify_delay,
            lease_ttl,
            builtin_plugins: fc.builtin_plugins.filter(|p| !p.as_os_str().is_empty()),
            index_snapshot_interval,
            index_check_interval,
            rest_rate_limit,
            max_attachment_size,
            listen,
            base_url,
            database_url,
            shared_home,
            local_home,
            node_id,
            etcd_endpoints,
            cluster,
        })
    }
}

/// `90s`, `30m`, `24h`, `7d` → a duration of at least 10 seconds.
pub(crate) fn parse_duration(t: &str) -> Option<std::time::Duration> {
    let t = t.trim();
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit())?);
    let n: u64 = num.parse().ok()?;
    let secs = match unit {
        "s" => n,
        "m" => n.checked_mul(60)?,
        "h" => n.checked_mul(3600)?,
        "d" => n.checked_mul(86400)?,
        _ => return None,
    };
    (secs >= 10).then(|| std::time::Duration::from_secs(secs))
}

/// `123`, `512K`, `100M`, `2G` (binary units) → bytes; zero is refused.
pub(crate) fn parse_size(t: &str) -> Option<u64> {
    let t = t.trim();
    let (num, mul) = match t.char_indices().last()? {
        (i, 'k' | 'K') => (&t[..i], 1024),
        (i, 'm' | 'M') => (&t[..i], 1024 * 1024),
        (i, 'g' | 'G') => (&t[..i], 1024 * 1024 * 1024),
        _ => (t, 1),
    };
    num.trim()
        .parse::<u64>()
        .ok()
        .filter(|n| *n > 0)?
        .checked_mul(mul)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults() {
        let c = Config::from_sources(None, &env(&[("CAIRN_NODE_ID", "n1")])).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8090");
        assert_eq!(c.base_url, "http://127.0.0.1:8090");
        assert!(c.database_url.is_none());
        assert!(c.etcd_endpoints.is_empty());
    }

    #[test]
    fn bad_values_name_the_key() {
        for (k, v) in [
            ("CAIRN_LISTEN", "nope"),
            ("CAIRN_BASE_URL", "ftp://x"),
            ("CAIRN_DATABASE_URL", "postgres://a b c:::"),
            ("CAIRN_NODE_ID", "has space"),
            ("CAIRN_CLUSTER", "a/b"),
            ("CAIRN_MAX_ATTACHMENT_SIZE", "lots"),
            ("CAIRN_REST_RATE_LIMIT", "fast"),
            ("CAIRN_INDEX_SNAPSHOT_INTERVAL", "often"),
            ("CAIRN_LEASE_TTL", "1"),
        ] {
            let err = Config::from_sources(None, &env(&[(k, v)])).unwrap_err();
            assert!(err.to_string().contains(k), "{k}: {err}");
        }
    }

    #[test]
    fn env_overrides_file() {
        let dir = std::env::temp_dir().join(format!("cairn-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("c.toml");
        std::fs::write(&f, "listen = \"127.0.0.1:9000\"\nnode_id = \"a\"\n").unwrap();
        let c = Config::from_sources(Some(&f), &env(&[("CAIRN_NODE_ID", "b")])).unwrap();
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.node_id, "b");
        std::fs::write(&f, "bogus = 1\n").unwrap();
        assert!(Config::from_sources(Some(&f), &[]).is_err());
    }
}
