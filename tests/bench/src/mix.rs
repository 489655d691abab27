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
    /// Users that have logged in; actions are timed once all have (the
    /// steady state, as goose's own metrics reset after the ramp-up).
    logged_in: std::sync::atomic::AtomicUsize,
    users: usize,
    /// When the last user logged in.
    steady_since: OnceLock<std::time::Instant>,
    /// Actions finished during the ramp-up, not timed.
    ramp_actions: std::sync::atomic::AtomicUsize,
    /// Tells this run's new titles from an earlier run's on the same data.
    run_id: u64,
    /// With a target rate: how often each user starts an action.
    pace: Option<std::time::Duration>,
}

static SHARED: OnceLock<Arc<Shared>> = OnceLock::new();

fn shared() -> &'static Shared {
    SHARED.get().expect("manifest loaded")
}

#[derive(Clone)]
struct Session {
    csrf: String,
    rng: Rng,
    user: String,
    /// When this user starts its next action (paced runs).
    next_at: Option<tokio::time::Instant>,
}

pub async fn run(
    url: &str,
    manifest: &Path,
    users: usize,
    hatch_rate: usize,
    seconds: usize,
    actions_per_hour: u64,
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
        logged_in: Default::default(),
        users,
        ramp_actions: Default::default(),
        steady_since: OnceLock::new(),
        run_id: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        // The toolkit paces its users so that all of them together start
        // `total_actions_per_hour` actions (JMeter's throughput timer); 0
        // runs them back to back (a closed loop, no think time).
        pace: (actions_per_hour > 0).then(|| {
            std::time::Duration::from_secs_f64(users as f64 * 3600.0 / actions_per_hour as f64)
        }),
    }));
    // One transaction that picks an action by the mix's weights with each
    // user's own random sequence (goose's weighted transactions would run
    // one shared order, which a short run never completes), timing whole
    // actions (editor + save + the page it leads to) itself.
    let scenario = scenario!("confluence-mix")
        .register_transaction(transaction!(login).set_on_start())
        .register_transaction(transaction!(act).set_name("action"));
    let metrics = GooseAttack::initialize_with_config(GooseConfiguration::default())?
        .register_scenario(scenario)
        .set_default(GooseDefault::Host, url)?
        .set_default(GooseDefault::Users, users)?
        .set_default(GooseDefault::IncreaseRate, hatch_rate.to_string().as_str())?
        .set_default(GooseDefault::RunTime, seconds)?
        .set_default(GooseDefault::NoPrintMetrics, true)?
        .set_default(GooseDefault::Quiet, 1)?
        .execute()
        .await?;
    let timings = TIMINGS.lock().expect("timings");
    let mut actions = Vec::new();
    for (name, _) in MIX.iter().copied().chain([("login", 0)]) {
        let Some(t) = timings.get(name) else { continue };
        let mut us: Vec<u64> = t.0.clone();
        us.sort_unstable();
        let q = |p: f64| {
            if us.is_empty() {
                0.0
            } else {
                us[((us.len() as f64 - 1.0) * p).round() as usize] as f64 / 1000.0
            }
        };
        // The distribution in 1 % steps, for the plot.
        let hist: Vec<(u64, usize)> = (1..=100)
            .map(|i| ((q(i as f64 / 100.0) * 1000.0) as u64, 1))
            .collect();
        actions.push(json!({
            "action": name,
            "success": us.len() - t.1,
            "fail": t.1,
            "p50_ms": q(0.50),
            "p90_ms": q(0.90),
            "p99_ms": q(0.99),
            "max_ms": us.last().copied().unwrap_or(0) as f64 / 1000.0,
            "histogram_us": hist,
        }));
    }
    let errors: Vec<String> = metrics
        .errors
        .values()
        .map(|e| format!("{} {}: {} ({}x)", e.method, e.name, e.error, e.occurrences))
        .collect();
    let result = json!({
        "users": users,
        "actions_per_hour": actions_per_hour,
        "hatch_rate": hatch_rate,
        "ramp_actions": shared().ramp_actions.load(std::sync::atomic::Ordering::Relaxed),
        // The timed part: from the last login to the end.
        "seconds": shared()
            .steady_since
            .get()
            .map(|t| t.elapsed().as_secs_f64())
            .unwrap_or(0.0),
        "goose_seconds": metrics.duration,
        "actions": actions,
        "errors": errors,
    });
    std::fs::write(out, serde_json::to_vec_pretty(&result)?)?;
    Ok(())
}

/// Per action: (every duration in µs, how many of them failed).
type Timings = std::collections::BTreeMap<&'static str, (Vec<u64>, usize)>;
static TIMINGS: std::sync::Mutex<Timings> = std::sync::Mutex::new(Timings::new());

fn record(action: &'static str, started: std::time::Instant, ok: bool) {
    let mut t = TIMINGS.lock().expect("timings");
    let e = t.entry(action).or_default();
    e.0.push(started.elapsed().as_micros() as u64);
    if !ok {
        e.1 += 1;
    }
}

/// Whether a response arrived with a success status (after redirects).
fn good(r: &goose::goose::GooseResponse) -> bool {
    r.response
        .as_ref()
        .is_ok_and(|resp| resp.status().is_success())
}

type Act = Result<bool, Box<TransactionError>>;

async fn act(user: &mut GooseUser) -> TransactionResult {
    let total: usize = MIX.iter().map(|m| m.1).sum();
    let mut roll = session(user).rng.below(total);
    let mut action = MIX[0].0;
    for (name, w) in MIX {
        if roll < *w {
            action = name;
            break;
        }
        roll -= w;
    }
    if let Some(pace) = shared().pace {
        let now = tokio::time::Instant::now();
        let s = session(user);
        let at = match s.next_at {
            Some(at) => at,
            // Spread the users' first actions over one interval.
            None => now + pace.mul_f64(s.rng.below(1000) as f64 / 1000.0),
        };
        tokio::time::sleep_until(at).await;
        // A user that fell behind starts again from now rather than
        // bursting to catch up.
        s.next_at = Some((at + pace).max(tokio::time::Instant::now()));
    }
    let started = std::time::Instant::now();
    let ok = match action {
        "view page" => view_page(user).await?,
        "view dashboard" => view_dashboard(user).await?,
        "view blog" => view_blog(user).await?,
        "search" => search(user).await?,
        "create/edit page" => create_or_edit_page(user).await?,
        "comment" => comment(user).await?,
        "upload attachment" => upload_attachment(user).await?,
        "view attachment" => view_attachment(user).await?,
        "create blog" => create_blog(user).await?,
        _ => like(user).await?,
    };
    let s = shared();
    if s.logged_in.load(std::sync::atomic::Ordering::Relaxed) >= s.users {
        record(action, started, ok);
    } else {
        s.ramp_actions
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    Ok(())
}

async fn login(user: &mut GooseUser) -> TransactionResult {
    let started = std::time::Instant::now();
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
    record("login", started, !csrf.is_empty());
    if s.logged_in
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        + 1
        == s.users
    {
        let _ = s.steady_since.set(std::time::Instant::now());
    }
    user.set_session_data(Session {
        csrf,
        rng: Rng::new(n as u64 + 1),
        user: name,
        next_at: None,
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

async fn view_page(user: &mut GooseUser) -> Act {
    let p = pick(user, &shared().pages);
    let r = user.get(&view_path(p)).await?;
    Ok(good(&r))
}

async fn view_dashboard(user: &mut GooseUser) -> Act {
    let r = user.get("/").await?;
    Ok(good(&r))
}

async fn view_blog(user: &mut GooseUser) -> Act {
    let p = pick(user, &shared().blogs);
    let r = user.get(&view_path(p)).await?;
    Ok(good(&r))
}

async fn search(user: &mut GooseUser) -> Act {
    let (_, cql, _) = {
        let i = session(user).rng.below(crate::load::SEARCH_CLASSES.len());
        crate::load::SEARCH_CLASSES[i]
    };
    let q: String = url_encode(cql);
    let r = user
        .get(&format!(
            "/rest/api/search?cql={q}&limit=25&excerpt=highlight"
        ))
        .await?;
    Ok(good(&r))
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
async fn create_or_edit_page(user: &mut GooseUser) -> Act {
    let create = session(user).rng.chance(50);
    let p = pick(user, &shared().pages).clone();
    let csrf = session(user).csrf.clone();
    if create {
        let s = session(user);
        let title = format!("Bench page {} {}-{}", s.user, shared().run_id, s.rng.next());
        let body = body_text(user, 120);
        user.get(&format!("/spaces/{}/create?parent={}", p.space, p.id))
            .await?;
        let r = user
            .post_form(
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
        Ok(good(&r))
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
        let conflict = r
            .response
            .as_ref()
            .is_ok_and(|resp| resp.status().as_u16() == 409);
        Ok(conflict || good(&r))
    }
}

async fn comment(user: &mut GooseUser) -> Act {
    let p = pick(user, &shared().pages).clone();
    let csrf = session(user).csrf.clone();
    let text = session(user).rng.words(25);
    let r = user
        .post_form(
            &format!("/pages/{}/comments", p.id),
            &[("_csrf", csrf.as_str()), ("body", text.as_str())],
        )
        .await?;
    Ok(good(&r))
}

async fn upload_attachment(user: &mut GooseUser) -> Act {
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
    let r = user.request(req).await?;
    Ok(good(&r))
}

async fn view_attachment(user: &mut GooseUser) -> Act {
    let p = pick(user, &shared().with_attachments).clone();
    let name = p.attachment.unwrap_or_default();
    let r = user
        .get_named(
            &format!("/download/attachments/{}/{}", p.id, name),
            "view attachment",
        )
        .await?;
    Ok(good(&r))
}

async fn create_blog(user: &mut GooseUser) -> Act {
    let space = {
        let s = shared();
        let i = session(user).rng.below(s.m.spaces.len());
        s.m.spaces[i].clone()
    };
    let csrf = session(user).csrf.clone();
    let s = session(user);
    let title = format!("Bench blog {} {}-{}", s.user, shared().run_id, s.rng.next());
    let body = body_text(user, 200);
    let r = user
        .post_form(
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
    Ok(good(&r))
}

async fn like(user: &mut GooseUser) -> Act {
    let p = pick(user, &shared().pages).clone();
    let csrf = session(user).csrf.clone();
    let r = user
        .post_form(
            &format!("/pages/{}/like", p.id),
            &[("_csrf", csrf.as_str()), ("like", "1")],
        )
        .await?;
    Ok(good(&r))
}
