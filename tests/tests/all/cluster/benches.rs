//! Cluster benchmarks (ignored; not timed tests): throughput across nodes and
//! the latency of cross-node notifications.

use super::*;

/// The cluster benchmark (not a test: run it by name, ideally with a
/// release binary):
///
/// ```sh
/// cargo build --release -p cairn
/// CAIRN_BENCH_BIN=$PWD/target/release/cairn CAIRN_TEST_PG=postgres://… \
///   cargo test -p cairn-tests --test all cluster_benchmark -- --ignored --nocapture
/// ```
///
/// Measures failure detection, leader failover, config propagation,
/// edit-to-searchable on another node and throughput through nginx with 1, 2
/// and 3 nodes (wrk), with the default lease TTL of 5 s; prints a Markdown
/// report (also written to `target/cluster-bench.md`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark; run it by name"]
async fn cluster_benchmark() {
    use std::fmt::Write;
    let etcd = Etcd::start();
    let spec = ClusterSpec::new(&etcd).await.with_env("CAIRN_LOG", "warn");
    let mut nodes = vec![
        spec.node("b1").await,
        spec.node("b2").await,
        spec.node("b3").await,
    ];
    for n in &nodes {
        within(Duration::from_secs(15), "three members", || async {
            n.members().await.len() == 3
        })
        .await;
    }
    let mut report = String::from("# Cluster benchmark\n\n");
    let pct = |v: &mut Vec<f64>, p: f64| -> f64 {
        v.sort_by(f64::total_cmp);
        v[((v.len() as f64 - 1.0) * p).round() as usize]
    };

    // Config propagation: set on b1, seen in b3's pages.
    let mut prop = Vec::new();
    for i in 0..20 {
        let title = format!("Bench title {i}");
        let t = Instant::now();
        let r = nodes[0]
            .rest(Method::PUT, "/rest/cairn/1.0/config/site_title")
            .json(&serde_json::json!({"value": title}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let want = format!("- {title}</title>");
        loop {
            let html = nodes[2]
                .http
                .get(format!("{}/login", nodes[2].url))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            if html.contains(&want) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        prop.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    // Edit on b1, searchable on b3.
    assert_eq!(nodes[0].create_space("BENCH").await, 200);
    let mut e2s = Vec::new();
    for i in 0..50 {
        let word = format!("zebrafish{i}x");
        let t = Instant::now();
        let (code, _) = nodes[0]
            .create_page(
                "BENCH",
                &format!("Bench page {i}"),
                &format!("<p>{word}</p>"),
            )
            .await;
        assert_eq!(code, 200);
        while nodes[2]
            .search_titles(&format!("text ~ {word}"))
            .await
            .is_empty()
        {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        e2s.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    writeln!(
        report,
        "| Measure | Cairn (p50) | Cairn (max/p99) | Confluence DC default |\n|---|---|---|---|"
    )
    .unwrap();
    let p50 = pct(&mut prop, 0.5);
    let pmax = pct(&mut prop, 1.0);
    writeln!(report, "| Config change seen by another node | {p50:.0} ms | {pmax:.0} ms | (restart or per-node admin change) |").unwrap();
    let p50 = pct(&mut e2s, 0.5);
    let p99 = pct(&mut e2s, 0.99);
    writeln!(report, "| Edit on one node searchable on another | {p50:.0} ms | {p99:.0} ms | index journal flushed every 5 s |").unwrap();

    // Failure detection and leader failover (kill -9), three rounds each.
    let mut detect = Vec::new();
    let mut failover = Vec::new();
    for round in 0..3 {
        let leader = nodes[0].leader().await.expect("leader");
        // Kill a follower: detection.
        let fi = nodes.iter().position(|n| n.id != leader).unwrap();
        let mut f = nodes.remove(fi);
        let fid = f.id.clone();
        f.kill9();
        let t = Instant::now();
        while nodes[0].members().await.contains(&fid) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        detect.push(t.elapsed().as_secs_f64());
        drop(f);
        nodes.push(spec.node(&format!("{fid}r{round}")).await);
        // Kill the leader: failover.
        let li = nodes.iter().position(|n| n.id == leader).unwrap();
        let mut l = nodes.remove(li);
        l.kill9();
        let t = Instant::now();
        loop {
            let seen = nodes[0].leader().await;
            if seen.as_ref().is_some_and(|s| *s != leader) && nodes[1].leader().await == seen {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        failover.push(t.elapsed().as_secs_f64());
        drop(l);
        nodes.push(spec.node(&format!("{leader}r{round}")).await);
        for n in &nodes {
            within(Duration::from_secs(15), "three members again", || async {
                n.members().await.len() == 3
            })
            .await;
        }
    }
    let d50 = pct(&mut detect, 0.5);
    let dmax = pct(&mut detect, 1.0);
    writeln!(report, "| Failure detection (kill -9, TTL 5 s) | {d50:.2} s | {dmax:.2} s | 30 s heartbeat timeout (Hazelcast) |").unwrap();
    let f50 = pct(&mut failover, 0.5);
    let fmax = pct(&mut failover, 1.0);
    writeln!(report, "| Leader failover (kill -9 of the leader) | {f50:.2} s | {fmax:.2} s | cluster-wide jobs move after the 30 s timeout |").unwrap();

    // Throughput through nginx with 1, 2 and 3 nodes: a page view over REST
    // (rendered body), wrk with 32 connections for 10 s.
    let (_, page) = nodes[0]
        .create_page(
            "BENCH",
            "Throughput page",
            &"<h2>Section</h2><p>Some <strong>text</strong> with a <a href=\"https://example.com\">link</a>.</p><ul><li>one</li><li>two</li></ul>".repeat(20),
        )
        .await;
    let id = page["id"].as_str().unwrap().to_owned();
    let auth = format!(
        "Authorization: Basic {}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("admin:{}", cairn_tests::password_of("admin"))
        )
    );
    writeln!(report, "\n| Nodes behind nginx | Requests/s | p50 | p99 | CPU ms per request (all nodes) |\n|---|---|---|---|---|").unwrap();
    for count in 1..=3 {
        let ups: Vec<String> = nodes[..count]
            .iter()
            .map(|n| n.url.trim_start_matches("http://").to_owned())
            .collect();
        let nginx = Nginx::start(&ups.iter().map(String::as_str).collect::<Vec<_>>());
        let url = format!("{}/rest/api/content/{id}?expand=body.view", nginx.url);
        // Warm every node's caches.
        for _ in 0..30 {
            let _ = nodes[0]
                .http
                .get(&url)
                .basic_auth("admin", Some(cairn_tests::password_of("admin")))
                .send()
                .await;
        }
        let cpu_before: f64 = nodes[..count]
            .iter()
            .map(|n| cpu_seconds(n.pid().unwrap()))
            .sum();
        let out = tokio::process::Command::new("wrk")
            .args(["-t2", "-c32", "-d10s", "--latency", "-H", &auth, &url])
            .output()
            .await
            .expect("wrk (apt-get install wrk)");
        let cpu_after: f64 = nodes[..count]
            .iter()
            .map(|n| cpu_seconds(n.pid().unwrap()))
            .sum();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let rps: f64 = text
            .lines()
            .find_map(|l| l.strip_prefix("Requests/sec:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0.0);
        let lat = |p: &str| {
            text.lines()
                .find(|l| l.trim_start().starts_with(p))
                .and_then(|l| l.split_whitespace().nth(1))
                .unwrap_or("?")
                .to_owned()
        };
        let requests = rps * 10.0;
        let cpu_ms = if requests > 0.0 {
            (cpu_after - cpu_before) * 1000.0 / requests
        } else {
            0.0
        };
        assert!(!text.contains("Non-2xx"), "errors under load:\n{text}");
        writeln!(
            report,
            "| {count} | {rps:.0} | {} | {} | {cpu_ms:.2} |",
            lat("50%"),
            lat("99%")
        )
        .unwrap();
    }
    writeln!(
        report,
        "\nOn a 2-core machine the load generator, nginx and every node share the same two cores, so throughput cannot grow with nodes here; CPU time per request shows the cost each node adds."
    )
    .unwrap();
    println!("{report}");
    let _ = std::fs::write(
        cairn_tests::repo_root().join("target/cluster-bench.md"),
        &report,
    );
}

/// User plus system CPU time of a process, in seconds.
pub(super) fn cpu_seconds(pid: u32) -> f64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let Some(i) = s.rfind(')') else { return 0.0 };
    let f: Vec<&str> = s[i + 2..].split_whitespace().collect();
    let t = |k: usize| f.get(k).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (t(11) + t(12)) / 100.0
}

/// How far another node trails a write for requests without a token, under
/// a small mix (not a test: run it by name, ideally with a release binary,
/// like `cluster_benchmark`):
///
/// ```sh
/// CAIRN_BENCH_BIN=$PWD/target/release/cairn CAIRN_TEST_PG=postgres://… \
///   cargo test -p cairn-tests --test all notification_latency_benchmark -- --ignored --nocapture
/// ```
///
/// For 2 and 3 nodes behind nginx: 16 readers (page views over REST
/// through nginx) and 4 writers (page updates) run while a probe updates a
/// page on the first node and polls the last one, without a token, until
/// it serves the new version; it reports that window's p50/p99 and the
/// nodes' `cairn_change_notify_delay_seconds` histogram.
#[tokio::test]
#[ignore = "benchmark: run by name"]
async fn notification_latency_benchmark() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let etcd = Etcd::start();
    let mut report = String::from(
        "| Nodes | Stale window p50 | p99 | max | Notification delay p50 / p99 (histogram) | Mix requests |\n|---|---|---|---|---|---|\n",
    );
    for count in [2usize, 3] {
        let spec = ClusterSpec::new(&etcd).await.with_env("CAIRN_LOG", "warn");
        let mut nodes = Vec::new();
        for i in 0..count {
            nodes.push(spec.node(&format!("n{i}")).await);
        }
        assert_eq!(nodes[0].create_space("LAT").await, 200);
        let mut ids = Vec::new();
        for i in 0..8 {
            let (_, p) = nodes[0]
                .create_page("LAT", &format!("Mix page {i}"), "<p>mix</p>")
                .await;
            ids.push(p["id"].as_str().unwrap().to_owned());
        }
        let (_, probe) = nodes[0].create_page("LAT", "Probe", "<p>0</p>").await;
        let probe = probe["id"].as_str().unwrap().to_owned();
        let ups: Vec<String> = nodes
            .iter()
            .map(|n| n.url.trim_start_matches("http://").to_owned())
            .collect();
        let nginx = Nginx::start(&ups.iter().map(String::as_str).collect::<Vec<_>>());
        let stop = Arc::new(AtomicBool::new(false));
        let done = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let mut load = Vec::new();
        for w in 0..20 {
            let (stop, done, base, ids) =
                (stop.clone(), done.clone(), nginx.url.clone(), ids.clone());
            load.push(tokio::spawn(async move {
                let http = cairn_tests::cluster::http();
                let auth = ("admin", Some(cairn_tests::password_of("admin")));
                let mut version = std::collections::HashMap::new();
                let mut i = w;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let id = &ids[i % ids.len()];
                    if w < 4 {
                        // A writer: its own page, so versions never conflict.
                        let id = &ids[w];
                        let v = version.entry(id.clone()).or_insert(1);
                        *v += 1;
                        let _ = http
                            .put(format!("{base}/rest/api/content/{id}"))
                            .basic_auth(auth.0, auth.1.clone())
                            .header("X-Atlassian-Token", "no-check")
                            .json(&serde_json::json!({"type": "page", "title": format!("Mix page {w}"),
                                "version": {"number": *v},
                                "body": {"storage": {"value": format!("<p>mix {v}</p>"), "representation": "storage"}}}))
                            .send()
                            .await;
                    } else {
                        let _ = http
                            .get(format!("{base}/rest/api/content/{id}?expand=body.view"))
                            .basic_auth(auth.0, auth.1.clone())
                            .send()
                            .await;
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
        let (first, last) = (&nodes[0], &nodes[count - 1]);
        let probe_url = format!("/rest/api/content/{probe}?expand=version");
        let mut windows = Vec::new();
        for v in 2..=101u32 {
            // The last node has the current version cached.
            let _ = last.get_json(&probe_url).await;
            let r = first
                .rest(Method::PUT, &format!("/rest/api/content/{probe}"))
                .json(&serde_json::json!({"type": "page", "title": "Probe", "version": {"number": v},
                    "body": {"storage": {"value": format!("<p>{v}</p>"), "representation": "storage"}}}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 200);
            let t = Instant::now();
            while last.get_json(&probe_url).await.1["version"]["number"] != v {}
            windows.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        stop.store(true, Ordering::Relaxed);
        for l in load {
            let _ = l.await;
        }
        windows.sort_by(f64::total_cmp);
        let at = |p: f64| windows[((windows.len() as f64 - 1.0) * p).round() as usize];
        // Percentiles of the merged histograms (upper bounds of buckets).
        let mut buckets: Vec<(f64, f64)> = Vec::new();
        for n in &nodes {
            let text = n.get_text("/metrics").await;
            for l in text.lines() {
                let Some(rest) = l.strip_prefix("cairn_change_notify_delay_seconds_bucket{le=\"")
                else {
                    continue;
                };
                let Some((le, v)) = rest.split_once("\"} ") else {
                    continue;
                };
                let le: f64 = le.parse().unwrap_or(f64::INFINITY);
                let v: f64 = v.trim().parse().unwrap_or(0.0);
                match buckets.iter_mut().find(|(b, _)| *b == le) {
                    Some(b) => b.1 += v,
                    None => buckets.push((le, v)),
                }
            }
        }
        buckets.sort_by(|x, y| x.0.total_cmp(&y.0));
        let total = buckets.last().map_or(0.0, |b| b.1);
        let hq = |q: f64| {
            buckets
                .iter()
                .find(|(_, c)| *c >= q * total)
                .map_or(f64::INFINITY, |b| b.0 * 1000.0)
        };
        writeln_report(
            &mut report,
            format!(
                "| {count} | {:.1} ms | {:.1} ms | {:.1} ms | ≤ {} ms / ≤ {} ms ({total} notifications) | {} |",
                at(0.5),
                at(0.99),
                at(1.0),
                hq(0.5),
                hq(0.99),
                done.load(Ordering::Relaxed)
            ),
        );
    }
    eprintln!("{report}");
}

pub(super) fn writeln_report(report: &mut String, line: String) {
    report.push_str(&line);
    report.push('\n');
}
