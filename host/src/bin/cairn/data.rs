//! Commands on the data of one database: demo content, the search index,
//! plugins and users.
//!
//! Invariant: each runs the migrations first and acts through the same
//! services the web UI and REST use, so the CLI cannot do what their
//! checks forbid (except that it acts as the system).

use crate::IndexCommand;
use crate::PluginCommand;
use crate::UserCommand;
use anyhow::{bail, Context};
use cairn::config::Config;
use std::io::Read;

pub(super) async fn demo(
    url: &str,
    config: &Config,
    admin: &str,
    password_file: &std::path::Path,
) -> anyhow::Result<()> {
    cairn::db::migrate(url).await?;
    let pool = cairn::db::pool(url, 2)?;
    let password = match std::fs::read_to_string(password_file) {
        Ok(p) => p.trim().to_owned(),
        Err(_) => {
            let p = cairn::auth::random_token(12);
            if let Some(dir) = password_file.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(password_file, &p)
                .with_context(|| format!("cannot write {}", password_file.display()))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(password_file, std::fs::Permissions::from_mode(0o600))?;
            }
            p
        }
    };
    {
        let mut db = pool.get().await?;
        if cairn::users::by_name(&db, admin).await?.is_none() {
            cairn::users::create(
                &mut db,
                cairn::users::NewUser {
                    username: admin,
                    display_name: Some("Demo Administrator"),
                    email: Some("admin@example.com"),
                    password: &password,
                    admin: true,
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("cannot create {admin}: {}", e.public_message()))?;
        }
    }
    let state = cairn::AppState::new(pool, config.shared_home.clone())?;
    let created = cairn::demo::seed(&state, admin)
        .await
        .map_err(|e| anyhow::anyhow!("cannot create the demo content: {e}"))?;
    println!(
        "demo space {}; log in as {admin} with the password in {}",
        if created {
            "created"
        } else {
            "already present"
        },
        password_file.display()
    );
    Ok(())
}

pub(super) async fn index_command(
    url: &str,
    config: &Config,
    cmd: IndexCommand,
) -> anyhow::Result<()> {
    cairn::db::migrate(url).await?;
    let pool = cairn::db::pool(url, 2)?;
    let db = pool.get().await?;
    match cmd {
        IndexCommand::Rebuild => {
            cairn::search::journal::request_rebuild(&db).await?;
            println!(
                "rebuild requested: every node builds a new index beside its live one, swaps it in and \
                 snapshots it, while search keeps answering (progress: `cairn index status`, the log, /admin/search)"
            );
        }
        IndexCommand::Status => {
            let st = cairn::search::journal::status(&db).await?;
            println!("journal head: {}", st.head);
            for n in &st.nodes {
                println!(
                    "{}: position {}, lag {}, {} documents, updated {}",
                    n.node_id, n.position, n.lag, n.docs, n.updated
                );
            }
            if let Some((epoch, reason, at)) = &st.history {
                println!("history epoch: {epoch} ({reason}, {at})");
            }
        }
        IndexCommand::Verify { repair } => {
            let store = cairn::attach::Store::new(&config.shared_home, u64::MAX);
            let r = cairn::search::verify_dir(&config.local_home, &db, &store)
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.public_message()))?;
            println!(
                "index at journal position {}: {} documents; PostgreSQL: {} current ({} ms)",
                r.position, r.indexed, r.current, r.ms
            );
            match &r.trusted {
                Ok(()) => println!("identity: matches this database's history"),
                Err(why) => {
                    println!("identity: NOT TRUSTED ({why}); a node opening it rebuilds it")
                }
            }
            let show = |v: &[i64]| {
                v.iter()
                    .take(20)
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            println!(
                "missing from the index: {} {}",
                r.missing.len(),
                show(&r.missing)
            );
            println!(
                "ghosts (in the index, not in PostgreSQL): {} {}",
                r.ghosts.len(),
                show(&r.ghosts)
            );
            println!(
                "different content: {} {}",
                r.changed.len(),
                show(&r.changed)
            );
            if r.pending > 0 {
                println!("({} more differ only because the node has not applied their journal entries yet)", r.pending);
            }
            let differing = r.differing();
            if differing.is_empty() && r.trusted.is_ok() {
                println!("ok: the index agrees with PostgreSQL");
                return Ok(());
            }
            if repair && !differing.is_empty() {
                cairn::search::journal::requeue(&db, &differing).await?;
                println!(
                    "repair: journaled {} documents; every node re-applies them",
                    differing.len()
                );
                return Ok(());
            }
            anyhow::bail!(
                "the index disagrees with PostgreSQL (use --repair to fix the documents)"
            );
        }
    }
    Ok(())
}

pub(super) async fn plugin_command(
    url: &str,
    config: &Config,
    cmd: PluginCommand,
) -> anyhow::Result<()> {
    use cairn::plugins::{system_viewer, Capability, Plugins};
    cairn::db::migrate(url).await?;
    let pool = cairn::db::pool(url, 2)?;
    let plugins = Plugins::new(pool, &config.shared_home)?;
    plugins.set_local_home(&config.local_home);
    plugins
        .reload(true)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.public_message()))?;
    let admin = system_viewer();
    let err = |e: cairn::error::Error| anyhow::anyhow!("{}", e.public_message());
    match cmd {
        PluginCommand::Install {
            manifest,
            grant,
            grant_limits,
        } => {
            let mut caps = Vec::new();
            for g in grant.iter().filter(|g| !g.trim().is_empty()) {
                caps.push(Capability::parse(g).ok_or_else(|| {
                    let known: Vec<&str> = Capability::ALL.iter().map(|c| c.name()).collect();
                    anyhow::anyhow!("unknown capability {g:?} (known: {})", known.join(", "))
                })?);
            }
            let o = plugins
                .install_from_manifest(&admin, &manifest, Some(&caps), grant_limits, false)
                .await
                .map_err(err)?;
            println!(
                "{} {} {}{} (macros: {})",
                o.action,
                o.id,
                o.version,
                o.previous_version
                    .filter(|p| *p != o.version)
                    .map(|p| format!(", was {p}"))
                    .unwrap_or_default(),
                if o.macros.is_empty() {
                    "none".to_string()
                } else {
                    o.macros.join(", ")
                }
            );
        }
        PluginCommand::List => {
            let reg = plugins.registry();
            if reg.rows.is_empty() {
                println!("no plugins installed");
            }
            for r in &reg.rows {
                let state = if !r.enabled {
                    "disabled".to_string()
                } else if let Some(e) = reg.failed.get(&r.id) {
                    format!("FAILED: {e}")
                } else {
                    "enabled".to_string()
                };
                let caps: Vec<&str> = r.capabilities.iter().map(|c| c.name()).collect();
                println!(
                    "{}\t{}\t{}\t{}\tcapabilities: {}\tmacros: {}",
                    r.id,
                    r.version,
                    state,
                    r.name,
                    if caps.is_empty() {
                        "none".to_string()
                    } else {
                        caps.join(",")
                    },
                    r.manifest
                        .macros
                        .iter()
                        .map(|m| m.name.as_str())
                        .collect::<Vec<_>>()
                        .join(",")
                );
            }
        }
        PluginCommand::Enable { id } => {
            plugins.set_enabled(&admin, &id, true).await.map_err(err)?;
            println!("enabled {id}");
        }
        PluginCommand::Disable { id } => {
            plugins.set_enabled(&admin, &id, false).await.map_err(err)?;
            println!("disabled {id}");
        }
        PluginCommand::Remove { id } => {
            plugins.remove(&admin, &id).await.map_err(err)?;
            println!("removed {id}");
        }
    }
    Ok(())
}

pub(super) async fn user_command(url: &str, cmd: UserCommand) -> anyhow::Result<()> {
    cairn::db::migrate(url).await?;
    let pool = cairn::db::pool(url, 2)?;
    match cmd {
        UserCommand::Create {
            name,
            admin,
            email,
            display_name,
            password_stdin: _,
        } => {
            let mut pw = String::new();
            std::io::stdin()
                .read_to_string(&mut pw)
                .context("cannot read the password from standard input")?;
            let pw = pw.trim_end_matches(['\n', '\r']);
            let mut db = pool.get().await?;
            let u = cairn::users::create(
                &mut db,
                cairn::users::NewUser {
                    username: &name,
                    display_name: display_name.as_deref(),
                    email: email.as_deref(),
                    password: pw,
                    admin,
                },
            )
            .await;
            match u {
                Ok(u) => println!(
                    "created user {}{}",
                    u.username,
                    if admin { " (administrator)" } else { "" }
                ),
                Err(e) => bail!("cannot create user {name}: {}", e.public_message()),
            }
        }
    }
    Ok(())
}
