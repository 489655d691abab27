//! The workload mix of Atlassian's Data Center App Performance Toolkit for
//! Confluence, as goose transactions of logged-in users: each user logs in
//! through the login form once, then runs the actions in the toolkit's
//! proportions, through the web UI (and REST for search and likes, as the
//! UI's own scripts do).

use std::path::Path;
use std::sync::{Arc, OnceLock};

use anyhow::Result;
use goose::config::GooseConfiguration;
use goose::prelude::*;
use serde_json::json;

use crate::corpus::Rng;
use crate::load::{input_value, read_manifest, Manifest, PageRef};

/// (action, weight in percent) — the toolkit's Confluence mix.
pub const MIX: &[(&str, usize)] = &[
    ("view page", 46),
    ("view dashboard", 8),
    ("view blog", 10),
    ("search", 9),
    ("create/edit page", 7),
    ("comment", 6),
    ("upload attachment", 5),
    ("view attachment", 4),
    ("create blog", 3),
    ("like", 2),
];

struct Shared {
    m: Manifest,
    pages: Vec<PageRef>,
    blogs: Vec<PageRef>,
    with_attachments: Vec<PageRef>,
    next_user: std::sync::atomic::AtomicUsize,
}

static SHARED: OnceLock<Arc<Shared>> = OnceLock::new();

fn shared() -> &'static Shared {
    SHARED.get().expect("manifest loaded")
}

struct Session {
    csrf: String,
    rng: Rng,
    user: String,
}

pub async fn run(
    url: &str,
    manifest: &Path,
    users: usize,
    hatch_rate: usize,
    seconds: usize,
    out: &Path,
) -> Result<()> {
    let m = read_manifest(manifest)?;
    let pages = m.pages.iter().filter(|p| !p.blog).cloned().collect();
    let blogs = m.pages.iter().filter(|p| p.blog).cloned().collect();
    let with_attachments = m
        .pages
        .iter()
        .filter(|p| p.attachment.is_some())
        .cloned()
        .collect();
    let _ = SHARED.set(Arc::new(Shared {
        m,
        pages,
        blogs,
        with_attachments,
        next_user: Default::default(),
    }));
    let mut scenario =
        scenario!("confluence-mix").register_transaction(transaction!(login).set_on_start());
    for (name, weight) in MIX {
        let t = match *name {
            "view page" => transaction!(view_page),
            "view dashboard" => transaction!(view_dashboard),
            "view blog" => transaction!(view_blog),
            "search" => transaction!(search),
            "create/edit page" => transaction!(create_or_edit_page),
            "comment" => transaction!(comment),
            "upload attachment" => transaction!(upload_attachment),
            "view attachment" => transaction!(view_attachment),
            "create blog" => transaction!(create_blog),
            _ => transaction!(like),
        };
        scenario = scenario.register_transaction(t.set_name(name).set_weight(*weight)?);
    }
    let metrics = GooseAttack::initialize_with_config(GooseConfiguration::default())?
        .register_scenario(scenario)
        .set_scheduler(GooseScheduler::Random)
        .set_default(GooseDefault::Host, url)?
        .set_default(GooseDefault::Users, users)?
        .set_default(GooseDefault::HatchRate, hatch_rate.to_string().as_str())?
        .set_default(GooseDefault::RunTime, seconds)?
        .set_default(GooseDefault::NoPrintMetrics, true)?
        .set_default(GooseDefault::Quiet, 1)?
        .execute()
        .await?;
    let mut actions = Vec::new();
    for scenario in &metrics.transactions {
        for t in scenario {
            let name = t.transaction_name.name_for_transaction().to_owned();
            let mut times: Vec<(u64, usize)> =
                t.run_times.times_us.iter().map(|(k, v)| (*k, *v)).collect();
            times.sort_unstable();
            actions.push(json!({
                "action": if name.is_empty() { "login".to_owned() } else { name },
                "success": t.success_count,
                "fail": t.fail_count,
                "p50_ms": pct(&times, 0.50),
                "p90_ms": pct(&times, 0.90),
                "p99_ms": pct(&times, 0.99),
                "max_ms": t.run_times.maximum_time_us as f64 / 1000.0,
                "histogram_us": times,
            }));
        }
    }
    let errors: Vec<String> = metrics
        .errors
        .values()
        .map(|e| format!("{} {}: {} ({}x)", e.method, e.name, e.error, e.occurrences))
        .collect();
    let result = json!({
        "users": users,
        "seconds": metrics.duration,
        "actions": actions,
        "errors": errors,
    });
    std::fs::write(out, serde_json::to_vec_pretty(&result)?)?;
    Ok(())
}

/// The `p` quantile of (bucket in µs, count) pairs, in ms.
fn pct(times: &[(u64, usize)], p: f64) -> f64 {
    let total: usize = times.iter().map(|t| t.1).sum();
    if total == 0 {
        return 0.0;
    }
    let want = ((total as f64) * p).ceil().max(1.0) as usize;
    let mut seen = 0;
    for (us, n) in times {
        seen += n;
        if seen >= want {
            return *us as f64 / 1000.0;
        }
    }
    times.last().map_or(0.0, |t| t.0 as f64 / 1000.0)
}

fn fail(user: &mut GooseUser, mut r: goose::goose::GooseResponse, why: &str) -> TransactionResult {
    user.set_failure(why, &mut r.request, None, None)
}

async fn login(user: &mut GooseUser) -> TransactionResult {
    let s = shared();
    let n = s
        .next_user
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = s.m.users[n % s.m.users.len()].clone();
    let page = user.get("/login").await?;
    let html = match page.response {
        Ok(r) => r.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    };
    let token = input_value(&html, "_csrf").unwrap_or_default();
    let r = user
        .post_form(
            "/login",
            &[
                ("_csrf", token.as_str()),
                ("username", name.as_str()),
                ("password", s.m.password.as_str()),
                ("next", "/spaces"),
            ],
        )
        .await?;
    // The redirect leads to /spaces, which carries the session's token.
    let html = match r.response {
        Ok(resp) => resp.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    };
    let csrf = input_value(&html, "_csrf").unwrap_or_default();
    user.set_session_data(Session {
        csrf,
        rng: Rng::new(n as u64 + 1),
        user: name,
    });
    Ok(())
}

fn session(user: &mut GooseUser) -> &mut Session {
    user.get_session_data_unchecked_mut::<Session>()
}

fn pick<'a>(user: &mut GooseUser, v: &'a [PageRef]) -> &'a PageRef {
    let i = session(user).rng.below(v.len());
    &v[i]
}

fn view_path(p: &PageRef) -> String {
    format!("/spaces/{}/pages/{}", p.space, p.id)
}

async fn view_page(user: &mut GooseUser) -> TransactionResult {
    let p = pick(user, &shared().pages);
    user.get(&view_path(p)).await?;
    Ok(())
}

async fn view_dashboard(user: &mut GooseUser) -> TransactionResult {
    user.get("/").await?;
    Ok(())
}

async fn view_blog(user: &mut GooseUser) -> TransactionResult {
    let p = pick(user, &shared().blogs);
    user.get(&view_path(p)).await?;
    Ok(())
}

async fn search(user: &mut GooseUser) -> TransactionResult {
    let (_, cql, _) = {
        let i = session(user).rng.below(crate::load::SEARCH_CLASSES.len());
        crate::load::SEARCH_CLASSES[i]
    };
    let q: String = url_encode(cql);
    user.get(&format!(
        "/rest/api/search?cql={q}&limit=25&excerpt=highlight"
    ))
    .await?;
    Ok(())
}

fn url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn body_text(user: &mut GooseUser, words: usize) -> String {
    format!("<p>{}.</p>", session(user).rng.words(words))
}

/// Half the time a new page under a random page, half the time an edit of a
/// random page (opening the editor first, as a browser does).
async fn create_or_edit_page(user: &mut GooseUser) -> TransactionResult {
    let create = session(user).rng.chance(50);
    let p = pick(user, &shared().pages).clone();
    let csrf = session(user).csrf.clone();
    if create {
        let title = format!(
            "Bench page {} {}",
            session(user).user,
            session(user).rng.next()
        );
        let body = body_text(user, 120);
        user.get(&format!("/spaces/{}/create?parent={}", p.space, p.id))
            .await?;
        user.post_form(
            &format!("/spaces/{}/create", p.space),
            &[
                ("_csrf", csrf.as_str()),
                ("title", title.as_str()),
                ("body", body.as_str()),
                ("format", "storage"),
                ("parent", &p.id.to_string()),
            ],
        )
        .await?;
    } else {
        let form = user.get(&format!("/pages/{}/edit", p.id)).await?;
        let html = match form.response {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        let version = input_value(&html, "base_version").unwrap_or_else(|| "1".into());
        let title = input_value(&html, "title").unwrap_or_else(|| p.title.clone());
        let body = body_text(user, 150);
        let r = user
            .post_form(
                &format!("/pages/{}/edit", p.id),
                &[
                    ("_csrf", csrf.as_str()),
                    ("title", title.as_str()),
                    ("body", body.as_str()),
                    ("format", "storage"),
                    ("base_version", version.as_str()),
                ],
            )
            .await?;
        // Two users saving the same page at once is a conflict, which Cairn
        // reports (409) without losing either text: count it as served.
        if let Ok(resp) = &r.response {
            if resp.status().as_u16() == 409 {
                return Ok(());
            }
        }
    }
    Ok(())
}

async fn comment(user: &mut GooseUser) -> TransactionResult {
    let p = pick(user, &shared().pages).clone();
    let csrf = session(user).csrf.clone();
    let text = session(user).rng.words(25);
    user.post_form(
        &format!("/pages/{}/comments", p.id),
        &[("_csrf", csrf.as_str()), ("body", text.as_str())],
    )
    .await?;
    Ok(())
}

async fn upload_attachment(user: &mut GooseUser) -> TransactionResult {
    let p = pick(user, &shared().pages).clone();
    let csrf = session(user).csrf.clone();
    let n = session(user).rng.next();
    let len = 5_000 + (n % 50_000) as usize;
    let bytes: Vec<u8> = (0..len).map(|i| (i as u64 ^ n) as u8).collect();
    let form = reqwest::multipart::Form::new().text("_csrf", csrf).part(
        "file",
        reqwest::multipart::Part::bytes(bytes)
            .file_name(format!("upload-{n}.bin"))
            .mime_str("application/octet-stream")
            .map_err(|e| Box::new(TransactionError::Reqwest(e)))?,
    );
    let path = format!("/pages/{}/attachments", p.id);
    let rb = user
        .get_request_builder(&GooseMethod::Post, &path)?
        .multipart(form);
    let req = GooseRequest::builder()
        .method(GooseMethod::Post)
        .path(path.as_str())
        .set_request_builder(rb)
        .build();
    user.request(req).await?;
    Ok(())
}

async fn view_attachment(user: &mut GooseUser) -> TransactionResult {
    let p = pick(user, &shared().with_attachments).clone();
    let name = p.attachment.unwrap_or_default();
    user.get_named(
        &format!("/download/attachments/{}/{}", p.id, name),
        "view attachment",
    )
    .await?;
    Ok(())
}

async fn create_blog(user: &mut GooseUser) -> TransactionResult {
    let space = {
        let s = shared();
        let i = session(user).rng.below(s.m.spaces.len());
        s.m.spaces[i].clone()
    };
    let csrf = session(user).csrf.clone();
    let title = format!(
        "Bench blog {} {}",
        session(user).user,
        session(user).rng.next()
    );
    let body = body_text(user, 200);
    user.post_form(
        &format!("/spaces/{space}/create"),
        &[
            ("_csrf", csrf.as_str()),
            ("type", "blogpost"),
            ("title", title.as_str()),
            ("body", body.as_str()),
            ("format", "storage"),
        ],
    )
    .await?;
    Ok(())
}

async fn like(user: &mut GooseUser) -> TransactionResult {
    let p = pick(user, &shared().pages).clone();
    let csrf = session(user).csrf.clone();
    let r = user
        .post_form(
            &format!("/pages/{}/like", p.id),
            &[("_csrf", csrf.as_str()), ("like", "1")],
        )
        .await?;
    if let Ok(resp) = &r.response {
        if !resp.status().is_success() {
            let why = format!("like: HTTP {}", resp.status());
            return fail(user, r, &why);
        }
    }
    Ok(())
}
