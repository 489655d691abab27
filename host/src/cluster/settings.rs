//! Live settings: typed, validated, stored in etcd under the cluster's
//! prefix (standalone: in PostgreSQL), watched by every node and applied
//! within a second without a restart. Every change is audited in
//! PostgreSQL (who, when, old, new).
//!
//! A key that was never set takes its default from the node's static
//! configuration (e.g. `CAIRN_MAX_ATTACHMENT_SIZE`), so a cluster can start
//! from environment variables and move to live settings later.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::config::{parse_duration, parse_size};
use crate::error::{Error, Result};
use crate::ratelimit::Limits;

/// What a setting holds; parsing a text value checks it and gives its
/// canonical text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text {
        max: usize,
    },
    AccessMode,
    RateLimit,
    Millis {
        min: u64,
        max: u64,
    },
    Mebibytes {
        min: u64,
        max: u64,
    },
    Size,
    Interval,
    Days,
    LogLevel,
    /// An absolute http(s) URL without a trailing slash.
    Url,
    Port,
    /// none, starttls or tls.
    SmtpSecurity,
    /// A mailbox: `addr@host` or `Name <addr@host>`.
    Mailbox,
    /// Never shown: `cairn config list`, REST, the UI and the audit trail
    /// show [`SECRET_MASK`] (or nothing when unset).
    Secret,
}

/// What a secret setting shows instead of its value.
pub(crate) const SECRET_MASK: &str = "********";

/// Whether `key` holds a secret.
pub(crate) fn is_secret(key: &str) -> bool {
    def(key).is_some_and(|d| d.kind == Kind::Secret)
}

/// `value` as it may be shown: secrets masked.
pub fn shown(key: &str, value: Option<String>) -> Option<String> {
    match value {
        Some(v) if is_secret(key) && !v.is_empty() => Some(SECRET_MASK.into()),
        v => v,
    }
}

pub struct Def {
    pub key: &'static str,
    pub kind: Kind,
    pub help: &'static str,
}

/// Every live setting. The names are a public contract (CLI, REST, etcd keys).
pub const DEFS: &[Def] = &[
    Def { key: "site_title", kind: Kind::Text { max: 100 }, help: "The name in every page's title bar." },
    Def { key: "announcement", kind: Kind::Text { max: 1000 }, help: "A banner shown on every page (empty: none)." },
    Def { key: "access_mode", kind: Kind::AccessMode, help: "read-write, or read-only: content changes are refused on every node; admin actions still work." },
    Def { key: "rest_rate_limit", kind: Kind::RateLimit, help: "REST calls per user as RATE/BURST (e.g. 50/500), or off." },
    Def { key: "plugin_time_limit_ms", kind: Kind::Millis { min: 1, max: 60_000 }, help: "Default time limit of one plugin call, in milliseconds (a plugin's own limit wins)." },
    Def { key: "plugin_memory_limit_mb", kind: Kind::Mebibytes { min: 1, max: 4096 }, help: "Default memory limit of one plugin instance, in MiB (a plugin's own limit wins)." },
    Def { key: "plugin_page_budget_ms", kind: Kind::Millis { min: 1, max: 600_000 }, help: "Plugin time one page render may spend in all, in milliseconds; macros after that show \"not rendered: page budget spent\"." },
    Def { key: "max_attachment_size", kind: Kind::Size, help: "Largest accepted attachment: bytes or 512K, 100M, 2G." },
    Def { key: "index_snapshot_interval", kind: Kind::Interval, help: "How often the leader snapshots the search index: 90s, 30m, 24h, 7d." },
    Def { key: "trash_retention_days", kind: Kind::Days, help: "Trashed content older than this many days is purged by the leader (0: never)." },
    Def { key: "log_level", kind: Kind::LogLevel, help: "Log filter: error, warn, info, debug, trace, or a tracing directive list (cairn=debug,info)." },
    Def { key: "base_url", kind: Kind::Url, help: "The wiki's public address, for links in e-mails (default CAIRN_BASE_URL)." },
    Def { key: "smtp_host", kind: Kind::Text { max: 255 }, help: "SMTP server for notification e-mails (empty: no e-mail is sent; in-app notifications still work)." },
    Def { key: "smtp_port", kind: Kind::Port, help: "SMTP port (25, 587 for STARTTLS, 465 for TLS)." },
    Def { key: "smtp_security", kind: Kind::SmtpSecurity, help: "none, starttls (required) or tls (implicit TLS)." },
    Def { key: "smtp_username", kind: Kind::Text { max: 255 }, help: "SMTP user name (empty: no authentication)." },
    Def { key: "smtp_password", kind: Kind::Secret, help: "SMTP password. Never shown once set." },
    Def { key: "mail_from", kind: Kind::Mailbox, help: "The From of notification e-mails: addr@host or Name <addr@host>." },
    Def { key: "mail_batch_interval", kind: Kind::Interval, help: "How long a user with batched e-mail collects notifications into one mail (Confluence: 10m)." },
];

pub fn def(key: &str) -> Option<&'static Def> {
    DEFS.iter().find(|d| d.key == key)
}

/// Checks `value` for `key`; returns its canonical text or says why not.
pub(crate) fn validate(key: &str, value: &str) -> Result<String> {
    let d = def(key).ok_or_else(|| {
        Error::BadRequest(format!(
            "unknown setting {key:?}; known settings: {}",
            DEFS.iter().map(|d| d.key).collect::<Vec<_>>().join(", ")
        ))
    })?;
    let v = value.trim();
    let quoted = if d.kind == Kind::Secret {
        "(hidden)".to_owned()
    } else {
        format!("{value:?}")
    };
    let bad = |why: &str| Error::BadRequest(format!("invalid value {quoted} for {key}: {why}"));
    Ok(match d.kind {
        Kind::Text { max } => {
            if v.chars().count() > max {
                return Err(bad(&format!("at most {max} characters")));
            }
            if v.chars().any(|c| c.is_control()) {
                return Err(bad("control characters are not allowed"));
            }
            if key == "site_title" && v.is_empty() {
                return Err(bad("the site title cannot be empty"));
            }
            v.to_owned()
        }
        Kind::AccessMode => match v {
            "read-write" | "read-only" => v.to_owned(),
            _ => return Err(bad("must be read-write or read-only")),
        },
        Kind::RateLimit => match Limits::parse(v) {
            Some(None) => "off".to_owned(),
            Some(Some(l)) => format!("{}/{}", l.rate, l.burst),
            None => {
                return Err(bad(
                    "must be RATE/BURST (e.g. 50/500, both positive) or off",
                ))
            }
        },
        Kind::Millis { min, max } | Kind::Mebibytes { min, max } => match v.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => n.to_string(),
            _ => return Err(bad(&format!("must be a whole number from {min} to {max}"))),
        },
        Kind::Size => match parse_size(v) {
            Some(_) => v.to_owned(),
            None => return Err(bad("must be a size like 5000000, 512K, 100M or 2G")),
        },
        Kind::Interval => match parse_duration(v) {
            Some(_) => v.to_owned(),
            None => {
                return Err(bad(
                    "must be a duration like 90s, 30m, 24h or 7d (at least 10s)",
                ))
            }
        },
        Kind::Days => match v.parse::<u32>() {
            Ok(n) if n <= 36500 => n.to_string(),
            _ => return Err(bad("must be a whole number of days (0 = never)")),
        },
        Kind::LogLevel => {
            if v.is_empty() || tracing_subscriber::EnvFilter::try_new(v).is_err() {
                return Err(bad("must be error, warn, info, debug, trace or a directive list like cairn=debug,info"));
            }
            v.to_owned()
        }
        Kind::Url => {
            let u = v.trim_end_matches('/');
            let rest = u
                .strip_prefix("https://")
                .or_else(|| u.strip_prefix("http://"));
            match rest {
                Some(r) if !r.is_empty() && !r.contains(char::is_whitespace) => u.to_owned(),
                _ => return Err(bad("must be an absolute http:// or https:// URL")),
            }
        }
        Kind::Port => match v.parse::<u16>() {
            Ok(n) if n > 0 => n.to_string(),
            _ => return Err(bad("must be a port number from 1 to 65535")),
        },
        Kind::SmtpSecurity => match v {
            "none" | "starttls" | "tls" => v.to_owned(),
            _ => return Err(bad("must be none, starttls or tls")),
        },
        Kind::Mailbox => match v.parse::<lettre::message::Mailbox>() {
            Ok(m) => m.to_string(),
            Err(e) => return Err(bad(&format!("not a mail address ({e})"))),
        },
        Kind::Secret => {
            if value.chars().any(|c| c.is_control()) || value.len() > 1000 {
                return Err(bad("at most 1000 characters, no control characters"));
            }
            // Kept as given: a password may begin or end with a space.
            value.to_owned()
        }
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessMode {
    ReadWrite,
    ReadOnly,
}

/// The effective settings of a node: stored values over static defaults.
#[derive(Debug, Clone)]
pub struct Settings {
    pub site_title: String,
    pub announcement: String,
    pub access_mode: AccessMode,
    pub rest_rate_limit: Option<Limits>,
    pub plugin_time_limit_ms: u32,
    pub plugin_memory_limit_mb: u32,
    pub plugin_page_budget_ms: u32,
    pub max_attachment_size: u64,
    pub index_snapshot_interval: Duration,
    pub trash_retention_days: u32,
    pub log_level: String,
    /// The stored (explicitly set) values, by key.
    pub stored: BTreeMap<String, String>,
    /// The defaults, by key (what an unset key means).
    pub defaults: BTreeMap<String, String>,
}

/// Defaults that come from the node's static configuration.
#[derive(Debug, Clone)]
pub struct Defaults(pub BTreeMap<String, String>);

impl Defaults {
    pub fn from_config(c: &crate::config::Config) -> Defaults {
        let mut m = BTreeMap::new();
        m.insert("site_title".into(), "Cairn".into());
        m.insert("announcement".into(), String::new());
        m.insert("access_mode".into(), "read-write".into());
        m.insert(
            "rest_rate_limit".into(),
            match c.rest_rate_limit {
                None => "off".into(),
                Some(l) => format!("{}/{}", l.rate, l.burst),
            },
        );
        m.insert(
            "plugin_time_limit_ms".into(),
            crate::plugins::runtime::DEFAULT_TIMEOUT_MS.to_string(),
        );
        m.insert(
            "plugin_memory_limit_mb".into(),
            crate::plugins::runtime::DEFAULT_MEMORY_MIB.to_string(),
        );
        m.insert(
            "plugin_page_budget_ms".into(),
            crate::plugins::DEFAULT_PAGE_BUDGET_MS.to_string(),
        );
        m.insert(
            "max_attachment_size".into(),
            size_setting(c.max_attachment_size),
        );
        m.insert(
            "index_snapshot_interval".into(),
            format!("{}s", c.index_snapshot_interval.as_secs()),
        );
        m.insert("trash_retention_days".into(), "30".into());
        m.insert("log_level".into(), c.log.clone());
        m.insert(
            "base_url".into(),
            c.base_url.trim_end_matches('/').to_owned(),
        );
        m.insert("smtp_host".into(), String::new());
        m.insert("smtp_port".into(), "25".into());
        m.insert("smtp_security".into(), "none".into());
        m.insert("smtp_username".into(), String::new());
        m.insert("smtp_password".into(), String::new());
        m.insert("mail_from".into(), "Cairn <cairn@localhost>".into());
        m.insert("mail_batch_interval".into(), "10m".into());
        Defaults(m)
    }

    /// Built-in defaults (tests, tools without a configuration).
    pub(crate) fn builtin() -> Defaults {
        Defaults::from_config(
            &crate::config::Config::from_sources(None, &[("CAIRN_NODE_ID".into(), "x".into())])
                .expect("the built-in configuration is valid"),
        )
    }
}

impl Settings {
    /// Effective settings from stored values; a stored value that no longer
    /// validates (written by a newer version, or by hand) is ignored with a
    /// warning rather than taking the node down.
    pub fn resolve(defaults: &Defaults, stored: BTreeMap<String, String>) -> Settings {
        let get = |k: &str| -> String {
            if let Some(v) = stored.get(k) {
                match validate(k, v) {
                    Ok(v) => return v,
                    Err(e) => {
                        tracing::warn!(key = k, error = %e.public_message(), "ignoring a stored setting")
                    }
                }
            }
            defaults.0.get(k).cloned().unwrap_or_default()
        };
        let num = |k: &str, d: u64| get(k).parse::<u64>().unwrap_or(d);
        Settings {
            site_title: get("site_title"),
            announcement: get("announcement"),
            access_mode: if get("access_mode") == "read-only" {
                AccessMode::ReadOnly
            } else {
                AccessMode::ReadWrite
            },
            rest_rate_limit: Limits::parse(&get("rest_rate_limit")).unwrap_or(None),
            plugin_time_limit_ms: num("plugin_time_limit_ms", 100) as u32,
            plugin_memory_limit_mb: num("plugin_memory_limit_mb", 32) as u32,
            plugin_page_budget_ms: num(
                "plugin_page_budget_ms",
                u64::from(crate::plugins::DEFAULT_PAGE_BUDGET_MS),
            ) as u32,
            max_attachment_size: parse_size(&get("max_attachment_size"))
                .unwrap_or(crate::DEFAULT_MAX_ATTACHMENT),
            index_snapshot_interval: parse_duration(&get("index_snapshot_interval"))
                .unwrap_or(Duration::from_secs(86400)),
            trash_retention_days: num("trash_retention_days", 30) as u32,
            log_level: get("log_level"),
            stored,
            defaults: defaults.clone().0,
        }
    }

    /// The effective text of `key`.
    pub fn text(&self, key: &str) -> String {
        self.stored
            .get(key)
            .filter(|v| validate(key, v).is_ok())
            .or_else(|| self.defaults.get(key))
            .cloned()
            .unwrap_or_default()
    }

    pub(crate) fn read_only(&self) -> bool {
        self.access_mode == AccessMode::ReadOnly
    }
}

/// One audit entry.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditEntry {
    pub key: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub changed_by: String,
    pub node_id: String,
    pub changed_at: chrono::DateTime<chrono::Utc>,
}

pub(crate) async fn audit(
    db: &impl deadpool_postgres::GenericClient,
    key: &str,
    old: Option<&str>,
    new: Option<&str>,
    by: &str,
    node: &str,
) -> Result<()> {
    let (old, new) = (
        shown(key, old.map(str::to_owned)),
        shown(key, new.map(str::to_owned)),
    );
    crate::db::execute(
        db,
        "INSERT INTO settings_audit (key, old_value, new_value, changed_by, node_id) VALUES ($1, $2, $3, $4, $5)",
        &[&key, &old, &new, &by, &node],
    )
    .await?;
    Ok(())
}

pub async fn audit_log(
    db: &impl deadpool_postgres::GenericClient,
    limit: i64,
) -> Result<Vec<AuditEntry>> {
    Ok(crate::db::query(
        db,
        "SELECT key, old_value, new_value, changed_by, node_id, changed_at FROM settings_audit
         ORDER BY id DESC LIMIT $1",
        &[&limit],
    )
    .await?
    .iter()
    .map(|r| AuditEntry {
        key: r.get(0),
        old_value: r.get(1),
        new_value: r.get(2),
        changed_by: r.get(3),
        node_id: r.get(4),
        changed_at: r.get(5),
    })
    .collect())
}

/// A size as an admin writes it: `100M`, not `104857600` (what
/// `parse_size` reads back).
fn size_setting(bytes: u64) -> String {
    const K: u64 = 1024;
    match bytes {
        0 => "0".into(),
        b if b % (K * K * K) == 0 => format!("{}G", b / (K * K * K)),
        b if b % (K * K) == 0 => format!("{}M", b / (K * K)),
        b if b % K == 0 => format!("{}K", b / K),
        b => b.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_show_as_an_admin_writes_them() {
        for (bytes, shown) in [
            (100 << 20, "100M"),
            (2 << 30, "2G"),
            (512 << 10, "512K"),
            (1000, "1000"),
        ] {
            assert_eq!(super::size_setting(bytes), shown);
            assert_eq!(crate::config::parse_size(shown), Some(bytes));
        }
    }

    use super::*;

    #[test]
    fn validation() {
        assert_eq!(validate("access_mode", " read-only ").unwrap(), "read-only");
        assert!(validate("access_mode", "maybe").is_err());
        assert_eq!(validate("rest_rate_limit", "OFF").unwrap(), "off");
        assert_eq!(validate("rest_rate_limit", "5/10").unwrap(), "5/10");
        assert!(validate("plugin_time_limit_ms", "0").is_err());
        assert!(validate("plugin_time_limit_ms", "250").is_ok());
        assert!(validate("max_attachment_size", "lots").is_err());
        assert!(validate("index_snapshot_interval", "5s").is_err());
        assert!(validate("log_level", "debug").is_ok());
        assert!(validate("site_title", "").is_err());
        assert!(validate("site_title", "a\u{7}b").is_err());
        assert_eq!(validate("smtp_port", "587").unwrap(), "587");
        assert!(validate("smtp_port", "0").is_err());
        assert!(validate("smtp_security", "ssl").is_err());
        assert_eq!(
            validate("base_url", "https://wiki.example.com/").unwrap(),
            "https://wiki.example.com"
        );
        assert!(validate("base_url", "wiki.example.com").is_err());
        assert!(validate("mail_from", "Wiki <wiki@example.com>").is_ok());
        assert!(validate("mail_from", "not an address").is_err());
        // A secret keeps its spaces and never appears in an error.
        assert_eq!(validate("smtp_password", " p w ").unwrap(), " p w ");
        let e = validate("smtp_password", "x\u{7}leak").unwrap_err();
        assert!(!e.public_message().contains("leak"));
        assert_eq!(
            shown("smtp_password", Some("pw".into())).as_deref(),
            Some(SECRET_MASK)
        );
        assert_eq!(
            shown("smtp_password", Some(String::new())).as_deref(),
            Some("")
        );
        assert_eq!(shown("smtp_host", Some("h".into())).as_deref(), Some("h"));
        let e = validate("nope", "x").unwrap_err();
        assert!(
            e.public_message().contains("site_title"),
            "{}",
            e.public_message()
        );
    }

    #[test]
    fn stored_values_override_defaults_and_bad_ones_are_ignored() {
        let d = Defaults::builtin();
        let mut stored = BTreeMap::new();
        stored.insert("site_title".to_string(), "Team wiki".to_string());
        stored.insert(
            "plugin_time_limit_ms".to_string(),
            "not a number".to_string(),
        );
        let s = Settings::resolve(&d, stored);
        assert_eq!(s.site_title, "Team wiki");
        assert_eq!(s.plugin_time_limit_ms, 100);
        assert_eq!(s.text("plugin_time_limit_ms"), "100");
        assert!(!s.read_only());
    }
}
