//! Loading the corpus into Cairn (over its REST API, as users would), and the
//! same corpus for the baselines: static HTML for nginx, an XML dump for
//! MediaWiki, a full-text table for PostgreSQL.

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use futures::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::corpus::{self, Corpus};

pub struct Target {
    pub url: String,
    pub admin: String,
    pub password: String,
}

/// What `load` created, for the other commands.
#[derive(Serialize, Deserialize)]
pub struct Manifest {
    pub url: String,
    pub password: String,
    pub users: Vec<String>,
    pub spaces: Vec<String>,
    pub pages: Vec<PageRef>,
}

#[derive(Serialize, Deserialize, Clone)]
pub struct PageRef {
    pub id: i64,
    pub space: String,
    pub title: String,
    pub blog: bool,
    /// The file name of its attachment, if it has one.
    pub attachment: Option<String>,
}

pub const USER_PASSWORD: &str = "bench-password-1";

pub fn user_name(i: usize) -> String {
    format!("bench{i:04}")
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(64)
        .build()
        .expect("HTTP client")
}

/// The value of `<input ... name="NAME" value="...">`.
pub fn input_value(html: &str, name: &str) -> Option<String> {
    let needle = format!("name=\"{name}\" value=\"");
    let start = html.find(&needle)? + needle.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

/// Logs a browser-like client in; returns it with the session's CSRF token.
pub async fn web_login(url: &str, user: &str, password: &str) -> Result<(reqwest::Client, String)> {
    let c = client();
    let page = c.get(format!("{url}/login")).send().await?.text().await?;
    let token = input_value(&page, "_csrf").context("no CSRF token on /login")?;
    let r = c
        .post(format!("{url}/login"))
        .form(&[
            ("_csrf", token.as_str()),
            ("username", user),
            ("password", password),
            ("next", "/"),
        ])
        .send()
        .await?;
    if r.status() != 303 {
        bail!("login as {user} failed: HTTP {}", r.status());
    }
    let home = c.get(format!("{url}/spaces")).send().await?.text().await?;
    let csrf = input_value(&home, "_csrf").context("no CSRF token after login")?;
    Ok((c, csrf))
}

async fn rest(
    c: &reqwest::Client,
    url: &str,
    user: &str,
    password: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Result<Value> {
    let mut rb = c
        .request(method.clone(), format!("{url}{path}"))
        .basic_auth(user, Some(password))
        .header("X-Atlassian-Token", "no-check");
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await?;
    let status = r.status();
    let text = r.text().await?;
    if !status.is_success() {
        bail!("{method} {path}: HTTP {status}: {text}");
    }
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

pub async fn load(
    t: &Target,
    pages: usize,
    users: usize,
    concurrency: usize,
    manifest_path: &Path,
) -> Result<()> {
    let started = Instant::now();
    let corpus = corpus::generate(pages, crate::SEED);
    eprintln!(
        "corpus: {} pages in {} spaces, generated in {:.1} s",
        corpus.pages.len(),
        corpus.spaces.len(),
        started.elapsed().as_secs_f64()
    );
    // Users, through the admin page (Cairn has no user-creation REST resource,
    // like Confluence).
    let (admin, csrf) = web_login(&t.url, &t.admin, &t.password).await?;
    let names: Vec<String> = (0..users).map(user_name).collect();
    let existing = admin
        .get(format!("{}/admin/users", t.url))
        .send()
        .await?
        .text()
        .await?;
    stream::iter(names.iter())
        .map(|name| {
            let admin = &admin;
            let csrf = &csrf;
            let existing = &existing;
            async move {
                if existing.contains(&format!(">{name}<"))
                    || existing.contains(&format!("/users/{name}\""))
                {
                    return Ok(());
                }
                let r = admin
                    .post(format!("{}/admin/users", t.url))
                    .form(&[
                        ("_csrf", csrf.as_str()),
                        ("username", name.as_str()),
                        ("display_name", &format!("Bench User {name}")),
                        ("email", &format!("{name}@bench.example")),
                        ("password", USER_PASSWORD),
                    ])
                    .send()
                    .await?;
                if !(r.status().is_success() || r.status().is_redirection()) {
                    let s = r.status();
                    let body = r.text().await.unwrap_or_default();
                    if !body.contains("already") {
                        bail!("creating user {name}: HTTP {s}");
                    }
                }
                Ok(())
            }
        })
        .buffer_unordered(concurrency.min(4))
        .collect::<Vec<Result<()>>>()
        .await
        .into_iter()
        .collect::<Result<Vec<()>>>()?;
    eprintln!("{} users ready", names.len());

    let c = client();
    for s in &corpus.spaces {
        let r = rest(
            &c,
            &t.url,
            &t.admin,
            &t.password,
            reqwest::Method::POST,
            "/rest/api/space",
            Some(json!({"key": s.key, "name": s.name})),
        )
        .await;
        if let Err(e) = r {
            if !e.to_string().contains("409") && !e.to_string().contains("already") {
                return Err(e);
            }
        }
    }
    // Pages in generations by depth, so every parent exists before its children.
    let mut ids: HashMap<usize, i64> = HashMap::new();
    let mut depth = vec![0usize; corpus.pages.len()];
    for p in &corpus.pages {
        depth[p.index] = p.parent.map_or(0, |q| depth[q] + 1);
    }
    let max_depth = depth.iter().copied().max().unwrap_or(0);
    let t0 = Instant::now();
    for d in 0..=max_depth {
        let batch: Vec<&corpus::Page> = corpus
            .pages
            .iter()
            .filter(|p| depth[p.index] == d)
            .collect();
        let results = stream::iter(batch)
            .map(|p| {
                let c = &c;
                let ids = &ids;
                let corpus = &corpus;
                let names = &names;
                async move {
                    let user = &names[p.index % names.len().max(1)];
                    let id = create_page(c, &t.url, user, corpus, p, ids).await?;
                    Ok::<_, anyhow::Error>((p.index, id))
                }
            })
            .buffer_unordered(concurrency)
            .collect::<Vec<_>>()
            .await;
        for r in results {
            let (i, id) = r?;
            ids.insert(i, id);
        }
        eprintln!(
            "depth {d}: {} pages so far, {:.0} pages/s",
            ids.len(),
            ids.len() as f64 / t0.elapsed().as_secs_f64()
        );
    }
    let manifest = Manifest {
        url: t.url.clone(),
        password: USER_PASSWORD.into(),
        users: names,
        spaces: corpus.spaces.iter().map(|s| s.key.clone()).collect(),
        pages: corpus
            .pages
            .iter()
            .map(|p| PageRef {
                id: ids[&p.index],
                space: corpus.spaces[p.space].key.clone(),
                title: p.title.clone(),
                blog: p.blog,
                attachment: p.attachments.first().map(|a| a.0.clone()),
            })
            .collect(),
    };
    std::fs::write(manifest_path, serde_json::to_vec(&manifest)?)?;
    eprintln!(
        "loaded {} pages in {:.1} s ({:.0} pages/s with labels, comments and attachments)",
        pages,
        t0.elapsed().as_secs_f64(),
        pages as f64 / t0.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn create_page(
    c: &reqwest::Client,
    url: &str,
    user: &str,
    corpus: &Corpus,
    p: &corpus::Page,
    ids: &HashMap<usize, i64>,
) -> Result<i64> {
    let mut body = json!({
        "type": if p.blog { "blogpost" } else { "page" },
        "title": p.title,
        "space": {"key": corpus.spaces[p.space].key},
        "body": {"storage": {"value": corpus::storage(&p.body), "representation": "storage"}},
    });
    if let Some(parent) = p.parent {
        body["ancestors"] = json!([{"id": ids[&parent].to_string()}]);
    }
    let v = rest(
        c,
        url,
        user,
        USER_PASSWORD,
        reqwest::Method::POST,
        "/rest/api/content",
        Some(body),
    )
    .await?;
    let id: i64 = v["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .context("no id in the created content")?;
    if !p.labels.is_empty() {
        let labels: Vec<Value> = p
            .labels
            .iter()
            .map(|l| json!({"prefix": "global", "name": l}))
            .collect();
        rest(
            c,
            url,
            user,
            USER_PASSWORD,
            reqwest::Method::POST,
            &format!("/rest/api/content/{id}/label"),
            Some(json!(labels)),
        )
        .await?;
    }
    for text in &p.comments {
        rest(
            c,
            url,
            user,
            USER_PASSWORD,
            reqwest::Method::POST,
            "/rest/api/content",
            Some(json!({
                "type": "comment",
                "container": {"id": id.to_string(), "type": if p.blog { "blogpost" } else { "page" }},
                "body": {"storage": {"value": format!("<p>{text}</p>"), "representation": "storage"}},
            })),
        )
        .await?;
    }
    for (name, bytes) in &p.attachments {
        let mime = if name.ends_with(".png") {
            "image/png"
        } else {
            "text/plain"
        };
        let part = reqwest::multipart::Part::bytes(bytes.clone())
            .file_name(name.clone())
            .mime_str(mime)?;
        let r = c
            .post(format!("{url}/rest/api/content/{id}/child/attachment"))
            .basic_auth(user, Some(USER_PASSWORD))
            .header("X-Atlassian-Token", "no-check")
            .multipart(reqwest::multipart::Form::new().part("file", part))
            .send()
            .await?;
        if !r.status().is_success() {
            bail!("attachment {name}: HTTP {}", r.status());
        }
    }
    Ok(id)
}

pub fn read_manifest(path: &Path) -> Result<Manifest> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(serde_json::from_slice(&bytes)?)
}

/// The HTML of `count` pages as user 0 sees them, for nginx.
pub async fn snapshot(url: &str, manifest: &Path, count: usize, out: &Path) -> Result<()> {
    let m = read_manifest(manifest)?;
    let (c, _) = web_login(url, &m.users[0], &m.password).await?;
    std::fs::create_dir_all(out.join("p"))?;
    let mut cairn_paths = String::new();
    let mut static_paths = String::new();
    let mut bytes = 0usize;
    for p in m.pages.iter().filter(|p| !p.blog).take(count) {
        let path = format!("/spaces/{}/pages/{}", p.space, p.id);
        let r = c.get(format!("{url}{path}")).send().await?;
        if !r.status().is_success() {
            bail!("GET {path}: HTTP {}", r.status());
        }
        let html = r.bytes().await?;
        bytes += html.len();
        std::fs::write(out.join(format!("p/{}.html", p.id)), &html)?;
        cairn_paths.push_str(&path);
        cairn_paths.push('\n');
        static_paths.push_str(&format!("/p/{}.html\n", p.id));
    }
    std::fs::write(out.join("paths-cairn.txt"), cairn_paths)?;
    std::fs::write(out.join("paths-static.txt"), static_paths)?;
    eprintln!(
        "saved {count} pages, {} bytes on average",
        bytes / count.max(1)
    );
    Ok(())
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// MediaWiki's export format 0.11, one revision per page.
pub fn mediawiki_dump(pages: usize, out: &Path) -> Result<()> {
    use std::io::Write;
    let corpus = corpus::generate(pages, crate::SEED);
    let mut w = std::io::BufWriter::new(std::fs::File::create(out)?);
    writeln!(
        w,
        r#"<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/" version="0.11" xml:lang="en">"#
    )?;
    for p in &corpus.pages {
        let mut text = corpus::wikitext(&p.body);
        for l in &p.labels {
            text.push_str(&format!("[[Category:{l}]]\n"));
        }
        writeln!(
            w,
            "<page><title>{}</title><ns>0</ns><revision><timestamp>2026-11-01T00:00:00Z</timestamp><contributor><username>{}</username></contributor><model>wikitext</model><format>text/x-wiki</format><text xml:space=\"preserve\">{}</text></revision></page>",
            xml_escape(&p.title),
            user_name(p.index % 200),
            xml_escape(&text)
        )?;
    }
    writeln!(w, "</mediawiki>")?;
    eprintln!("wrote {} pages to {}", corpus.pages.len(), out.display());
    Ok(())
}

/// Query classes of the search comparison: (name, CQL, PostgreSQL tsquery).
pub const SEARCH_CLASSES: &[(&str, &str, &str)] = &[
    ("common word", "text ~ \"service\"", "service"),
    (
        "two words",
        "text ~ \"deploy pipeline\"",
        "deploy & pipeline",
    ),
    ("rare word", "text ~ \"capybara\"", "capybara"),
    ("title word", "title ~ \"runbook\"", "runbook"),
    (
        "word in one space",
        "text ~ \"latency\" AND space = \"B001\"",
        "latency",
    ),
    (
        "label and word",
        "label = \"howto\" AND text ~ \"cache\"",
        "cache",
    ),
];

/// PostgreSQL full-text search on the same corpus; and the same queries
/// as CQL over Cairn's REST API. Writes both timings as JSON.
pub async fn search(pg: &str, url: &str, manifest: &Path, pages: usize, out: &Path) -> Result<()> {
    let m = read_manifest(manifest)?;
    let web = client();
    let (db, conn) = tokio_postgres::connect(pg, tokio_postgres::NoTls).await?;
    tokio::spawn(conn);
    let corpus = corpus::generate(pages, crate::SEED);
    // The table is kept between runs and rebuilt only for another corpus.
    let fingerprint = {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        for p in corpus.pages.iter().step_by(97) {
            p.title.hash(&mut h);
            corpus::plain(&p.body).hash(&mut h);
        }
        format!("{pages}-{}-{:x}", crate::SEED, h.finish())
    };
    let current: Option<String> = db
        .query_opt(
            "SELECT obj_description('bench_fts'::regclass, 'pg_class')",
            &[],
        )
        .await
        .ok()
        .flatten()
        .and_then(|r| r.get(0));
    if current.as_deref() == Some(fingerprint.as_str()) {
        eprintln!("PostgreSQL FTS table: reused");
    } else {
        build_fts(&db, &corpus, &fingerprint).await?;
    }
    fts_and_cql(&db, &web, &m, url, out).await
}

async fn build_fts(
    db: &tokio_postgres::Client,
    corpus: &corpus::Corpus,
    fingerprint: &str,
) -> Result<()> {
    db.batch_execute(
        "DROP TABLE IF EXISTS bench_fts;
         CREATE TABLE bench_fts (id BIGINT PRIMARY KEY, space TEXT, title TEXT, labels TEXT[], body TEXT,
           tsv tsvector GENERATED ALWAYS AS (setweight(to_tsvector('english', title), 'A') || to_tsvector('english', body)) STORED);",
    )
    .await?;
    let t0 = Instant::now();
    let stmt = db
        .prepare(
            "INSERT INTO bench_fts (id, space, title, labels, body) VALUES ($1, $2, $3, $4, $5)",
        )
        .await?;
    for p in &corpus.pages {
        let labels: Vec<String> = p.labels.iter().map(|s| s.to_string()).collect();
        db.execute(
            &stmt,
            &[
                &(p.index as i64),
                &corpus.spaces[p.space].key,
                &p.title,
                &labels,
                &corpus::plain(&p.body),
            ],
        )
        .await?;
    }
    db.batch_execute("CREATE INDEX bench_fts_tsv ON bench_fts USING GIN (tsv); CREATE INDEX bench_fts_labels ON bench_fts USING GIN (labels); ANALYZE bench_fts;")
        .await?;
    db.batch_execute(&format!("COMMENT ON TABLE bench_fts IS '{fingerprint}'"))
        .await?;
    eprintln!("PostgreSQL FTS table: {:.1} s", t0.elapsed().as_secs_f64());
    Ok(())
}

async fn fts_and_cql(
    db: &tokio_postgres::Client,
    web: &reqwest::Client,
    m: &Manifest,
    url: &str,
    out: &Path,
) -> Result<()> {
    let mut results = Vec::new();
    for (name, _, q) in SEARCH_CLASSES {
        let (extra, title_only) = match *name {
            "word in one space" => (" AND space = 'B001'", false),
            "label and word" => (" AND labels @> ARRAY['howto']", false),
            "title word" => ("", true),
            _ => ("", false),
        };
        let vec = if title_only {
            "to_tsvector('english', title)"
        } else {
            "tsv"
        };
        // What a search page needs: the first 25 by rank with a highlighted
        // excerpt of each, and the total count.
        let sql = format!(
            "WITH q AS (SELECT to_tsquery('english', $1) AS q),
                  hits AS (SELECT id, title, body, ts_rank({vec}, q.q) AS rank FROM bench_fts, q WHERE {vec} @@ q.q{extra})
             SELECT id, title, ts_headline('english', body, (SELECT q FROM q), 'MaxFragments=1'), (SELECT count(*) FROM hits)
               FROM hits ORDER BY rank DESC LIMIT 25"
        );
        let st = db.prepare(&sql).await?;
        let mut times = Vec::new();
        for i in 0..60 {
            let t = Instant::now();
            let rows = db.query(&st, &[q]).await?;
            if i >= 10 {
                times.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            std::hint::black_box(rows);
        }
        let mut cairn = Vec::new();
        let cql = SEARCH_CLASSES
            .iter()
            .find(|c| c.0 == *name)
            .map(|c| c.1)
            .unwrap_or("");
        for i in 0..60 {
            let t = Instant::now();
            let r = web
                .get(format!("{url}/rest/api/search"))
                .query(&[("cql", cql), ("limit", "25"), ("excerpt", "highlight")])
                .basic_auth(&m.users[0], Some(&m.password))
                .send()
                .await?;
            if !r.status().is_success() {
                bail!("CQL {cql}: HTTP {}", r.status());
            }
            let body = r.bytes().await?;
            if i >= 10 {
                cairn.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            std::hint::black_box(body);
        }
        results.push(json!({"class": name, "pg_ms": times, "cairn_ms": cairn}));
    }
    std::fs::write(out, serde_json::to_vec_pretty(&results)?)?;
    Ok(())
}
