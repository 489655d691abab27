//! Commands that operate a deployment: live settings, the cluster's
//! members and leader, draining a node.
//!
//! Invariant: a setting changed here is validated and audited exactly as
//! one changed in the admin UI (the actor is the operating-system user).

use crate::ClusterCommand;
use crate::ConfigCommand;
use crate::NodeCommand;
use anyhow::bail;
use cairn::config::Config;

/// Who a command-line change is audited as.
pub(super) fn cli_actor() -> String {
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    let from_passwd = || {
        std::fs::read_to_string("/etc/passwd").ok().and_then(|p| {
            p.lines().find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.get(2) == Some(&uid.to_string().as_str())).then(|| f[0].to_owned())
            })
        })
    };
    let name = std::env::var("SUDO_USER")
        .ok()
        .or_else(|| std::env::var("USER").ok())
        .or_else(from_passwd)
        .unwrap_or_else(|| format!("uid {uid}"));
    format!("cli:{name}")
}

pub(super) async fn config_command(config: &Config, cmd: ConfigCommand) -> anyhow::Result<()> {
    use cairn::cluster::{settings, Settings, Store};
    let db = cairn::node::Database::open(config).await?;
    let url = db.url().to_owned();
    let r = async {
        cairn::db::migrate(&url).await?;
        let pool = cairn::db::pool(&url, 2)?;
        let store = if config.etcd_endpoints.is_empty() {
            Store::Pg(pool.clone())
        } else {
            Store::Etcd {
                client: Box::new(
                    cairn::cluster::connect(
                        &config.etcd_endpoints,
                        std::time::Duration::from_secs(5),
                    )
                    .await?,
                ),
                prefix: cairn::cluster::prefix_of(&config.cluster),
            }
        };
        let fail = |e: cairn::error::Error| anyhow::anyhow!("{}", e.public_message());
        let stored = store.load().await.map_err(fail)?;
        let effective = Settings::resolve(
            &cairn::cluster::Defaults::from_config(config),
            stored.clone(),
        );
        match cmd {
            ConfigCommand::List => {
                for d in settings::DEFS {
                    let origin = if stored.contains_key(d.key) {
                        "set"
                    } else {
                        "default"
                    };
                    println!(
                        "{} = {:?} ({origin})\n    {}",
                        d.key,
                        settings::shown(d.key, Some(effective.text(d.key))).unwrap_or_default(),
                        d.help
                    );
                }
            }
            ConfigCommand::Get { key } => {
                settings::def(&key).ok_or_else(|| {
                    anyhow::anyhow!("unknown setting {key:?}; `cairn config list` shows them all")
                })?;
                println!(
                    "{}",
                    settings::shown(&key, Some(effective.text(&key))).unwrap_or_default()
                );
            }
            ConfigCommand::Set { key, value } => {
                let (old, new) = store
                    .set(&pool, &key, Some(&value), &cli_actor(), &config.node_id)
                    .await
                    .map_err(fail)?;
                println!(
                    "{key}: {} -> {}; every node applies it within a second",
                    old.unwrap_or_else(|| "(default)".into()),
                    new.unwrap_or_default()
                );
            }
            ConfigCommand::Unset { key } => {
                let (old, _) = store
                    .set(&pool, &key, None, &cli_actor(), &config.node_id)
                    .await
                    .map_err(fail)?;
                println!(
                    "{key}: {} -> (default {:?})",
                    old.unwrap_or_else(|| "(default)".into()),
                    effective.defaults.get(&key).cloned().unwrap_or_default()
                );
            }
            ConfigCommand::History { limit } => {
                let db = pool.get().await?;
                for e in settings::audit_log(&db, limit).await.map_err(fail)? {
                    println!(
                        "{}\t{}\t{}: {} -> {}\t(on {})",
                        e.changed_at
                            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                        e.changed_by,
                        e.key,
                        e.old_value.unwrap_or_else(|| "(default)".into()),
                        e.new_value.unwrap_or_else(|| "(default)".into()),
                        e.node_id
                    );
                }
            }
        }
        Ok::<(), anyhow::Error>(())
    }
    .await;
    db.close().await;
    r
}

/// Reads the cluster's members and leader from etcd.
pub(super) async fn read_members(
    config: &Config,
) -> anyhow::Result<(
    etcd_client::Client,
    Vec<cairn::cluster::MemberInfo>,
    Option<String>,
)> {
    if config.etcd_endpoints.is_empty() {
        bail!("this node is standalone (CAIRN_ETCD_ENDPOINTS is not set): there is no cluster to show");
    }
    let mut client =
        cairn::cluster::connect(&config.etcd_endpoints, std::time::Duration::from_secs(5)).await?;
    let prefix = cairn::cluster::prefix_of(&config.cluster);
    let resp = client
        .get(
            format!("{prefix}nodes/"),
            Some(etcd_client::GetOptions::new().with_prefix()),
        )
        .await?;
    let members = resp
        .kvs()
        .iter()
        .filter_map(|kv| serde_json::from_slice(kv.value()).ok())
        .collect();
    let leader = client
        .get(format!("{prefix}leader"), None)
        .await?
        .kvs()
        .first()
        .map(|kv| String::from_utf8_lossy(kv.value()).into_owned());
    Ok((client, members, leader))
}

pub(super) async fn cluster_command(config: &Config, cmd: ClusterCommand) -> anyhow::Result<()> {
    match cmd {
        ClusterCommand::Status => {
            let (_, members, leader) = read_members(config).await?;
            println!(
                "cluster {:?}: {} node(s), leader {}",
                config.cluster,
                members.len(),
                leader.as_deref().unwrap_or("(none yet)")
            );
            let versions: std::collections::BTreeSet<&str> =
                members.iter().map(|m| m.version.as_str()).collect();
            if versions.len() > 1 {
                println!(
                    "MIXED versions: {}",
                    versions.into_iter().collect::<Vec<_>>().join(", ")
                );
            }
            for m in &members {
                let f = &m.figures;
                println!(
                    "{}{}\t{}\t{}\tv{}\tstarted {}\tlease age {} ms\trss {} MiB\tload {:.2}\t{:.1} req/s\tdb pool {}/{} in use\tindex lag {}, {} docs\tplugins {}",
                    m.id,
                    if leader.as_deref() == Some(m.id.as_str()) { " (leader)" } else { "" },
                    m.state,
                    m.address,
                    m.version,
                    m.started,
                    f.lease_age_ms,
                    f.memory_rss_bytes / (1024 * 1024),
                    f.load_average,
                    f.request_rate,
                    f.db_pool_size.saturating_sub(f.db_pool_available),
                    f.db_pool_max,
                    f.index_lag,
                    f.index_docs,
                    f.plugins.len()
                );
            }
            let diverging = cairn::cluster::plugin_divergence(&members);
            for (id, hashes) in diverging {
                println!("plugin {id} differs between nodes: {hashes}");
            }
        }
    }
    Ok(())
}

pub(super) async fn node_command(config: &Config, cmd: NodeCommand) -> anyhow::Result<()> {
    match cmd {
        NodeCommand::Drain { node, timeout } => {
            let node = node.unwrap_or_else(|| config.node_id.clone());
            let (mut client, members, _) = read_members(config).await?;
            if !members.iter().any(|m| m.id == node) {
                bail!(
                    "node {node:?} is not a live member of cluster {:?} (members: {})",
                    config.cluster,
                    members
                        .iter()
                        .map(|m| m.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            let prefix = cairn::cluster::prefix_of(&config.cluster);
            client
                .put(format!("{prefix}drain/{node}"), cli_actor(), None)
                .await?;
            println!("draining {node}: it stops taking new work, finishes what runs, then leaves");
            let started = std::time::Instant::now();
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(250)).await;
                let gone = client
                    .get(format!("{prefix}nodes/{node}"), None)
                    .await?
                    .kvs()
                    .is_empty();
                if gone {
                    println!(
                        "{node} has left the cluster ({:.1} s); it is safe to stop or upgrade it",
                        started.elapsed().as_secs_f64()
                    );
                    return Ok(());
                }
                if started.elapsed().as_secs() >= timeout {
                    let _ = client.delete(format!("{prefix}drain/{node}"), None).await;
                    bail!(
                        "{node} did not leave within {timeout} s; the drain request was withdrawn"
                    );
                }
            }
        }
    }
}
