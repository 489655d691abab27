//! Search benchmark: a deterministic corpus in a fresh database, indexing
//! throughput, CQL query latency next to PostgreSQL full-text search on the
//! same corpus, edit-to-searchable latency, snapshot restore versus rebuild,
//! the periodic drift check (cost per run, effect on search p99), a full
//! verify, and the time from a detected restore to a correct index.
//!
//! `CAIRN_BENCH_PG=postgres://cairn@127.0.0.1:PORT cargo run --release -p cairn --example search_bench -- 10000`
//! (the URL names a server; the benchmark creates and drops its own database).

use std::time::{Duration, Instant};

use cairn::perms::Viewer;

const WORDS: &[&str] = &[
    "deploy",
    "service",
    "database",
    "migration",
    "release",
    "incident",
    "runbook",
    "latency",
    "cache",
    "cluster",
    "node",
    "index",
    "search",
    "permission",
    "space",
    "page",
    "template",
    "review",
    "design",
    "architecture",
    "monitoring",
    "alert",
    "backup",
    "restore",
    "network",
    "gateway",
    "payment",
    "invoice",
    "customer",
    "onboarding",
    "handbook",
    "policy",
    "security",
    "token",
    "session",
    "storage",
    "queue",
    "worker",
    "pipeline",
    "build",
    "test",
    "coverage",
    "benchmark",
    "profile",
    "memory",
    "thread",
    "kernel",
    "container",
    "kubernetes",
    "terraform",
    "ansible",
    "postgres",
    "replica",
    "failover",
    "quorum",
    "lease",
    "fencing",
    "snapshot",
    "journal",
    "tantivy",
    "macro",
    "plugin",
    "component",
    "sandbox",
    "budget",
    "roadmap",
    "quarter",
    "objective",
    "meeting",
    "notes",
    "decision",
    "retrospective",
    "sprint",
    "backlog",
    "estimate",
];
const RARE: &[&str] = &[
    "okapi",
    "axolotl",
    "quetzal",
    "narwhal",
    "pangolin",
    "tardigrade",
    "capybara",
    "wombat",
];

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[(self.next() % v.len() as u64) as usize]
    }
    fn words(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| self.pick(WORDS))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn body(r: &mut Rng, i: usize) -> String {
    let mut b = String::new();
    for s in 0..(2 + r.next() % 4) {
        b.push_str(&format!("<h2>{} {s}</h2>", r.words(3)));
        b.push_str(&format!("<p>{}. {}.</p>", r.words(25), r.words(18)));
        if r.next() % 3 == 0 {
            b.push_str(&format!(
                "<ul><li>{}</li><li>{}</li><li>{}</li></ul>",
                r.words(6),
                r.words(5),
                r.words(7)
            ));
        }
        if r.next() % 4 == 0 {
            b.push_str(&format!(
                "<ac:structured-macro ac:name=\"code\"><ac:parameter ac:name=\"language\">bash</ac:parameter><ac:plain-text-body><![CDATA[{} --{} {}]]></ac:plain-text-body></ac:structured-macro>",
                r.pick(WORDS), r.pick(WORDS), r.pick(WORDS)
            ));
        }
        if r.next() % 5 == 0 {
            b.push_str(&format!("<ac:structured-macro ac:name=\"info\"><ac:rich-text-body><p>{}</p></ac:rich-text-body></ac:structured-macro>", r.words(12)));
        }
    }
    if i % 97 == 0 {
        b.push_str(&format!("<p>{}</p>", r.pick(RARE)));
    }
    b
}

fn pct(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    if v.is_empty() {
        return 0.0;
    }
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let pages: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let server = std::env::var("CAIRN_BENCH_PG")
        .map_err(|_| anyhow::anyhow!("set CAIRN_BENCH_PG to a PostgreSQL server URL"))?;
    let name = format!("cairn_search_bench_{pages}");
    let (admin, conn) =
        tokio_postgres::connect(&format!("{server}/postgres"), tokio_postgres::NoTls).await?;
    tokio::spawn(conn);
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
        .await?;
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await?;
    let url = format!("{server}/{name}");
    cairn::db::migrate(&url).await?;
    let pool = cairn::db::pool(&url, 4)?;
    let mut db = pool.get().await?;
    let user = cairn::users::create(
        &mut db,
        cairn::users::NewUser {
            username: "bench",
            display_name: None,
            email: None,
            password: "bench-password",
            admin: true,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;

    // Corpus: 10 spaces, trees of depth up to 4, labels.
    let t = Instant::now();
    let mut r = Rng(0x5eed_cafe_f00d);
    let spaces = 10;
    for s in 0..spaces {
        db.execute(
            "INSERT INTO spaces (space_key, name, creator_id) VALUES ($1, $2, $3)",
            &[&format!("S{s}"), &format!("Space {s}"), &user.id],
        )
        .await?;
    }
    db.execute(
        "INSERT INTO space_permissions (space_id, permission, group_id) SELECT s.id, 'view', g.id FROM spaces s, groups g WHERE g.name = 'cairn-users'",
        &[],
    )
    .await?;
    let space_ids: Vec<i64> = db
        .query("SELECT id FROM spaces ORDER BY id", &[])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut chains: Vec<Vec<i64>> = vec![Vec::new(); spaces];
    let batch = 1000;
    let mut i = 0;
    while i < pages {
        let n = batch.min(pages - i);
        let (mut sp, mut titles, mut bodies, mut parents, mut ancs) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for k in 0..n {
            let idx = i + k;
            let s = idx % spaces;
            sp.push(space_ids[s]);
            titles.push(format!("{} {} {idx}", r.pick(WORDS), r.pick(WORDS)));
            bodies.push(body(&mut r, idx));
            // Parent: the last page of a chain of depth <= 4, or root.
            let chain = &chains[s];
            let depth = (r.next() % 5) as usize;
            let a: Vec<i64> = chain.iter().take(depth.min(chain.len())).copied().collect();
            parents.push(a.last().copied());
            ancs.push(format!(
                "{{{}}}",
                a.iter()
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            ));
        }
        let rows = db
            .query(
                "INSERT INTO content (content_type, space_id, parent_id, ancestors, title, body, creator_id, modifier_id, created_at, modified_at)
                 SELECT 'page', s, p, a::bigint[], t, b, $6, $6, now() - (random() * interval '400 days'), now() - (random() * interval '200 days')
                 FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[]) AS x(s, p, a, t, b) RETURNING id, space_id, ancestors",
                &[&sp, &parents, &ancs, &titles, &bodies, &user.id],
            )
            .await?;
        for row in &rows {
            let id: i64 = row.get(0);
            let s = space_ids
                .iter()
                .position(|x| *x == row.get::<_, i64>(1))
                .unwrap_or(0);
            let a: Vec<i64> = row.get(2);
            if a.len() < 4 && r.next() % 3 == 0 {
                let mut c = a.clone();
                c.push(id);
                chains[s] = c;
            }
        }
        db.execute(
            "INSERT INTO labels (content_id, name) SELECT id, (ARRAY['runbook','design','howto','meeting-notes','decision'])[1 + id % 5] FROM content WHERE id > (SELECT coalesce(max(content_id), 0) FROM labels)",
            &[],
        )
        .await?;
        i += n;
    }
    println!(
        "corpus: {pages} pages in {spaces} spaces, generated in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    // Indexing throughput: a fresh index catching up on the whole journal.
    let local = std::env::temp_dir().join(format!("cairn-search-bench-{pages}"));
    let shared = std::env::temp_dir().join(format!("cairn-search-bench-shared-{pages}"));
    let _ = std::fs::remove_dir_all(&local);
    let _ = std::fs::remove_dir_all(&shared);
    let store = cairn::attach::Store::new(&shared, 1 << 30);
    let index = cairn::search::SearchIndex::open(&local).map_err(|e| anyhow::anyhow!("{e}"))?;
    // As `cairn serve` does: an index is bound to this database before it
    // applies anything (one without that identity would be rebuilt by the
    // tailer's first check).
    index
        .settle(&pool, &store)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let t = Instant::now();
    index
        .catch_up(&db, &store)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let build = t.elapsed().as_secs_f64();
    println!(
        "index build: {:.1} s, {:.0} pages/s, {} documents",
        build,
        pages as f64 / build,
        index.doc_count()
    );

    // PostgreSQL full-text search on the same corpus.
    let t = Instant::now();
    db.batch_execute(
        "ALTER TABLE content ADD COLUMN tsv tsvector;
         ALTER TABLE content DISABLE TRIGGER content_journal;
         UPDATE content SET tsv = setweight(to_tsvector('english', title), 'A') || to_tsvector('english', regexp_replace(body, '<[^>]+>', ' ', 'g'));
         ALTER TABLE content ENABLE TRIGGER content_journal;
         CREATE INDEX content_tsv ON content USING gin (tsv);
         ANALYZE content;",
    )
    .await?;
    println!("postgres FTS build: {:.1} s", t.elapsed().as_secs_f64());

    let viewer = Viewer::load(&db, Some(user.clone()))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let ctx = cairn_cql::Context {
        now: chrono::Utc::now(),
        current_user: Some("bench"),
    };
    // (name, CQL, equivalent FTS SQL)
    let queries: Vec<(&str, &str, &str)> = vec![
        ("one common word", "text ~ deploy", "SELECT id FROM content WHERE tsv @@ websearch_to_tsquery('english', 'deploy') ORDER BY ts_rank(tsv, websearch_to_tsquery('english', 'deploy')) DESC LIMIT 25"),
        ("two words", "text ~ \"database failover\"", "SELECT id FROM content WHERE tsv @@ websearch_to_tsquery('english', 'database failover') ORDER BY ts_rank(tsv, websearch_to_tsquery('english', 'database failover')) DESC LIMIT 25"),
        ("rare word", "text ~ narwhal", "SELECT id FROM content WHERE tsv @@ websearch_to_tsquery('english', 'narwhal') ORDER BY ts_rank(tsv, websearch_to_tsquery('english', 'narwhal')) DESC LIMIT 25"),
        ("word + space", "space = S3 AND text ~ cache", "SELECT c.id FROM content c JOIN spaces s ON s.id = c.space_id WHERE s.space_key = 'S3' AND tsv @@ websearch_to_tsquery('english', 'cache') ORDER BY ts_rank(tsv, websearch_to_tsquery('english', 'cache')) DESC LIMIT 25"),
        ("word + label", "label = runbook AND text ~ incident", "SELECT c.id FROM content c WHERE EXISTS (SELECT 1 FROM labels l WHERE l.content_id = c.id AND l.name = 'runbook') AND tsv @@ websearch_to_tsquery('english', 'incident') ORDER BY ts_rank(tsv, websearch_to_tsquery('english', 'incident')) DESC LIMIT 25"),
        ("title prefix", "title ~ \"kube*\"", "SELECT id FROM content WHERE to_tsvector('english', title) @@ to_tsquery('english', 'kube:*') LIMIT 25"),
        ("recent, by date", "text ~ release AND lastmodified > now(\"-30d\") ORDER BY lastmodified DESC", "SELECT id FROM content WHERE tsv @@ websearch_to_tsquery('english', 'release') AND modified_at > now() - interval '30 days' ORDER BY modified_at DESC LIMIT 25"),
    ];
    println!("\n| query | Cairn p50 ms | Cairn p99 ms | PostgreSQL FTS p50 ms | PostgreSQL FTS p99 ms | hits |");
    println!("|---|---|---|---|---|---|");
    let iters = if pages > 20_000 { 40 } else { 200 };
    for (name, cql, sql) in &queries {
        let parsed = cairn_cql::parse(cql, &ctx).map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut ct = Vec::new();
        let mut total = 0;
        for _ in 0..iters {
            let t = Instant::now();
            total = index
                .search(&db, &viewer, &parsed, 0, 25)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .total;
            ct.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let mut pt = Vec::new();
        for _ in 0..iters {
            let t = Instant::now();
            db.query(*sql, &[]).await?;
            pt.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        println!(
            "| {name} | {:.2} | {:.2} | {:.2} | {:.2} | {total} |",
            pct(ct.clone(), 0.5),
            pct(ct, 0.99),
            pct(pt.clone(), 0.5),
            pct(pt, 0.99)
        );
    }

    // Edit to searchable, through the tailer (NOTIFY wake-ups).
    index.spawn_tailer(pool.clone(), url.clone(), store.clone(), "bench".into());
    // Let the tailer open its LISTEN connection first: a cold start would
    // measure the polling fallback, not the steady state.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let ids: Vec<i64> = db
        .query("SELECT id FROM content ORDER BY id LIMIT 200", &[])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut lat = Vec::new();
    for (k, id) in ids.iter().enumerate() {
        let token = format!("zyzzyva{k}x");
        let q = cairn_cql::parse(&format!("text ~ {token}"), &ctx)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let t = Instant::now();
        db.execute(
            "UPDATE content SET body = body || $2, version = version + 1 WHERE id = $1",
            &[id, &format!("<p>{token}</p>")],
        )
        .await?;
        loop {
            if index
                .search(&db, &viewer, &q, 0, 1)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .total
                == 1
            {
                break;
            }
            if t.elapsed() > Duration::from_secs(10) {
                anyhow::bail!("edit not searchable after 10 s");
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    println!(
        "\nedit to searchable: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms ({} edits)",
        pct(lat.clone(), 0.5),
        pct(lat.clone(), 0.99),
        pct(lat.clone(), 1.0),
        lat.len()
    );

    // Snapshot restore versus full rebuild.
    let seq = index
        .snapshot_and_trim(&pool, &shared)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let fresh = std::env::temp_dir().join(format!("cairn-search-bench-restore-{pages}"));
    let _ = std::fs::remove_dir_all(&fresh);
    let t = Instant::now();
    let restored = cairn::search::SearchIndex::open(&fresh).map_err(|e| anyhow::anyhow!("{e}"))?;
    let settled = restored
        .settle(&pool, &store)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    restored
        .catch_up(&db, &store)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let restore = t.elapsed().as_secs_f64();
    println!(
        "snapshot at {seq}: restore + replay {:.2} s vs rebuild {:.1} s ({:.0}x; {settled:?})",
        restore,
        build,
        build / restore.max(0.001)
    );
    drop(restored);

    // The periodic drift check: its cost per run, and search p99 while it
    // runs back to back.
    let cpu = || cairn::metrics::process_figures().1;
    let runs = 10;
    let (t, c0) = (Instant::now(), cpu());
    let mut last = None;
    for _ in 0..runs {
        last = Some(
            index
                .check_drift(&pool, &store, cairn::search::DRIFT_SAMPLE, true)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?,
        );
    }
    println!(
        "\ndrift check ({} sampled): {:.0} ms wall, {:.0} ms CPU of this process per run (database time not included in CPU); last: {}",
        cairn::search::DRIFT_SAMPLE,
        t.elapsed().as_secs_f64() * 1000.0 / runs as f64,
        (cpu() - c0) * 1000.0 / runs as f64,
        last.map(|r| r.to_string()).unwrap_or_default()
    );
    let q = cairn_cql::parse("text ~ deploy", &ctx).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut quiet = Vec::new();
    for _ in 0..iters {
        let t = Instant::now();
        index
            .search(&db, &viewer, &q, 0, 25)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        quiet.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let checking = {
        let (index, pool, store) = (index.clone(), pool.clone(), store.clone());
        tokio::spawn(async move {
            loop {
                let _ = index
                    .check_drift(&pool, &store, cairn::search::DRIFT_SAMPLE, true)
                    .await;
            }
        })
    };
    let mut busy = Vec::new();
    for _ in 0..iters {
        let t = Instant::now();
        index
            .search(&db, &viewer, &q, 0, 25)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        busy.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    checking.abort();
    println!(
        "search `text ~ deploy`: p50 {:.2} / p99 {:.2} ms alone, p50 {:.2} / p99 {:.2} ms with drift checks back to back",
        pct(quiet.clone(), 0.5),
        pct(quiet, 0.99),
        pct(busy.clone(), 0.5),
        pct(busy, 0.99)
    );

    // Full verify (`cairn index verify`) of the whole index.
    let t = Instant::now();
    let v = cairn::search::verify_dir(&local, &db, &store)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "full verify: {:.1} s, {} documents, {} differing",
        t.elapsed().as_secs_f64(),
        v.indexed,
        v.differing().len()
    );

    // A restore detected: the epoch changes under the node, which rebuilds
    // beside an empty stand-in; time until search is right again.
    let t = Instant::now();
    db.batch_execute("UPDATE index_history SET epoch = 'bench-restored'")
        .await?;
    loop {
        if index.degraded().is_none()
            && index
                .payload()
                .identity
                .is_some_and(|i| i.epoch == "bench-restored")
        {
            break;
        }
        if t.elapsed() > Duration::from_secs(3600) {
            anyhow::bail!("no rebuild after a detected restore");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "restore detected to correct index: {:.1} s ({} documents)",
        t.elapsed().as_secs_f64(),
        index.doc_count()
    );
    drop(db);
    let _ = std::fs::remove_dir_all(&local);
    let _ = std::fs::remove_dir_all(&fresh);
    let _ = std::fs::remove_dir_all(&shared);
    Ok(())
}
