//! `report.md` from the JSON files one run of `run.sh` left in its results
//! directory. The plots are drawn by `plot.py` from the same files.

use std::fmt::Write;
use std::path::Path;

use anyhow::Result;
use serde_json::Value;

fn read(dir: &Path, name: &str) -> Option<Value> {
    let bytes = std::fs::read(dir.join(name)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or(0.0)
}

fn pct(mut v: Vec<f64>, p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

pub fn write(dir: &Path) -> Result<()> {
    let mut md = String::new();
    let machine = std::fs::read_to_string(dir.join("machine.txt")).unwrap_or_default();
    writeln!(md, "# Cairn performance report\n")?;
    writeln!(md, "```\n{}\n```\n", machine.trim())?;

    if let Some(Value::Array(rows)) = read(dir, "pageview.json") {
        writeln!(md, "## Page view (warm), wrk\n")?;
        writeln!(md, "The same pages: Cairn renders them for a logged-in user; nginx serves the very bytes Cairn sent as static files; MediaWiki renders the same content converted to wikitext.\n")?;
        writeln!(
            md,
            "| Target | Connections | Requests/s | p50 | p90 | p99 | Errors |"
        )?;
        writeln!(md, "|---|---|---|---|---|---|---|")?;
        for r in &rows {
            writeln!(
                md,
                "| {} | {} | {:.0} | {:.2} ms | {:.2} ms | {:.2} ms | {} |",
                r["target"].as_str().unwrap_or(""),
                r["connections"],
                f(&r["rps"]),
                f(&r["p50_ms"]),
                f(&r["p90_ms"]),
                f(&r["p99_ms"]),
                r["errors"]
            )?;
        }
        let at = |t: &str| {
            rows.iter()
                .find(|r| r["target"] == t && r["connections"] == 32)
                .map(|r| f(&r["rps"]))
        };
        if let (Some(c), Some(n)) = (at("Cairn"), at("nginx static")) {
            writeln!(
                md,
                "\nAt 32 connections Cairn serves {:.0} % of nginx's throughput.",
                100.0 * c / n
            )?;
        }
        if let (Some(c), Some(m)) = (at("Cairn"), at("MediaWiki")) {
            writeln!(
                md,
                "At 32 connections Cairn serves {:.1}× MediaWiki's throughput.",
                c / m
            )?;
        }
        writeln!(md, "\n![throughput](pageview-throughput.png)\n")?;
    }

    // mix-<users>-<actions per hour>.json; 0 actions per hour is the
    // closed loop. Paced runs first, slowest pace first.
    let mut mixes: Vec<(u64, String, Value)> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().to_string();
            let stem = n.strip_prefix("mix-")?.strip_suffix(".json")?.to_string();
            let m = read(dir, &n)?;
            let aph = m["actions_per_hour"].as_u64().unwrap_or(0);
            Some((
                if aph == 0 { u64::MAX } else { aph },
                format!("mix-{stem}"),
                m,
            ))
        })
        .collect();
    mixes.sort_by_key(|m| m.0);
    for (aph, stem, m) in &mixes {
        let users = m["users"].as_u64().unwrap_or(0);
        let how = if *aph == u64::MAX {
            "closed loop: every user starts its next action as soon as the last one ends (no think time)".to_string()
        } else if *aph == 20_000 {
            format!(
                "paced at {aph} actions per hour, the toolkit's default `total_actions_per_hour`"
            )
        } else {
            format!(
                "paced at {aph} actions per hour ({:.0}× the toolkit's default)",
                *aph as f64 / 20_000.0
            )
        };
        writeln!(
            md,
            "## The toolkit's mix, {users} concurrent users, {:.0} s (goose)\n\n{how}.\n",
            f(&m["seconds"])
        )?;
        writeln!(md, "| Action | Count | Failures | p50 | p90 | p99 | max |")?;
        writeln!(md, "|---|---|---|---|---|---|---|")?;
        let mut ok = 0u64;
        let mut all = 0u64;
        for a in m["actions"].as_array().into_iter().flatten() {
            let s = a["success"].as_u64().unwrap_or(0);
            let fl = a["fail"].as_u64().unwrap_or(0);
            if a["action"] != "login" {
                ok += s;
                all += s + fl;
            }
            writeln!(
                md,
                "| {} | {} | {} | {:.0} ms | {:.0} ms | {:.0} ms | {:.0} ms |",
                a["action"].as_str().unwrap_or(""),
                s + fl,
                fl,
                f(&a["p50_ms"]),
                f(&a["p90_ms"]),
                f(&a["p99_ms"]),
                f(&a["max_ms"])
            )?;
        }
        let secs = m["seconds"].as_f64().unwrap_or(1.0).max(1.0);
        writeln!(
            md,
            "\n{all} actions (logins aside), {:.1} per second, {:.3} % successful (timed from the last user's login on; {} actions during the ramp-up at {} users/s are not timed).",
            all as f64 / secs,
            if all == 0 {
                0.0
            } else {
                100.0 * ok as f64 / all as f64
            },
            m["ramp_actions"].as_u64().unwrap_or(0),
            m["hatch_rate"].as_u64().unwrap_or(0)
        )?;
        if let Some(errs) = m["errors"].as_array() {
            for e in errs.iter().take(10) {
                writeln!(md, "- error: {}", e.as_str().unwrap_or(""))?;
            }
        }
        if let Some(h) = read(dir, &format!("{}.json", stem.replacen("mix-", "host-", 1))) {
            writeln!(
                md,
                "\nThe machine during this run (`/proc/stat`): CPU {:.0} % busy, {:.1} % waiting for the disk, {:.1} % stolen by the hypervisor.",
                f(&h["busy_pct"]),
                f(&h["iowait_pct"]),
                f(&h["steal_pct"])
            )?;
        }
        writeln!(md, "\n![latency]({stem}-latency.png)\n")?;
    }

    if let Some(Value::Array(rows)) = read(dir, "search.json") {
        writeln!(
            md,
            "## Search: CQL over REST against PostgreSQL full-text search\n"
        )?;
        writeln!(md, "Each query asks for the first 25 hits by relevance with a highlighted excerpt and the total count; 50 timed runs after 10 warm-up runs, one at a time.\n")?;
        writeln!(
            md,
            "| Query class | Cairn p50 | Cairn p99 | PostgreSQL p50 | PostgreSQL p99 |"
        )?;
        writeln!(md, "|---|---|---|---|---|")?;
        for r in &rows {
            let c: Vec<f64> = r["cairn_ms"]
                .as_array()
                .into_iter()
                .flatten()
                .map(f)
                .collect();
            let p: Vec<f64> = r["pg_ms"].as_array().into_iter().flatten().map(f).collect();
            writeln!(
                md,
                "| {} | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms |",
                r["class"].as_str().unwrap_or(""),
                pct(c.clone(), 0.5),
                pct(c, 0.99),
                pct(p.clone(), 0.5),
                pct(p, 0.99)
            )?;
        }
        writeln!(md)?;
    }

    if let Some(m) = read(dir, "memory.json") {
        writeln!(md, "## Memory\n")?;
        writeln!(
            md,
            "Resident memory of the Cairn node: {:.0} MB after loading, {:.0} MB peak under the mix.\n",
            f(&m["after_load_mb"]),
            f(&m["peak_mb"])
        )?;
    }
    if let Some(Value::Array(rows)) = read(dir, "nodes.json") {
        writeln!(md, "## One, two and three nodes behind nginx\n")?;
        writeln!(md, "Each setup is a real cluster (etcd, lease TTL 5 s) of N nodes sharing the database and the shared home, behind nginx (round robin, no sticky sessions); wrk at 32 connections. Two cores cannot show throughput growing with nodes: wrk, nginx, PostgreSQL and every node share them. So this shows the nodes' CPU time per request (user + system time of every node over the run, divided by the requests served): what scaling out costs. Workloads: *page view*, the warm web UI page as the logged-in bench user; *REST read*, `GET /rest/api/content/{{id}}?expand=body.view,version,space` with HTTP Basic.\n")?;
        writeln!(
            md,
            "| Workload | Nodes | Requests/s | p50 | p99 | Errors | Node CPU per request |"
        )?;
        writeln!(md, "|---|---|---|---|---|---|---|")?;
        for r in &rows {
            writeln!(
                md,
                "| {} | {} | {:.0} | {:.2} ms | {:.2} ms | {} | {:.3} ms |",
                r["workload"].as_str().unwrap_or("page view"),
                r["nodes"],
                f(&r["rps"]),
                f(&r["p50_ms"]),
                f(&r["p99_ms"]),
                r["errors"],
                f(&r["cpu_ms_per_request"])
            )?;
        }
        let cpu = |w: &str, n: u64| {
            rows.iter()
                .find(|r| r["workload"].as_str().unwrap_or("page view") == w && r["nodes"] == n)
                .map(|r| f(&r["cpu_ms_per_request"]))
        };
        for w in ["page view", "REST read"] {
            if let (Some(one), Some(three)) = (cpu(w, 1), cpu(w, 3)) {
                writeln!(
                    md,
                    "\n{w}: from one node to three, the nodes' CPU per request goes from {one:.3} to {three:.3} ms ({:+.0} %).",
                    100.0 * (three - one) / one
                )?;
            }
        }
        writeln!(md, "\n![nodes](nodes.png)\n")?;
    }
    std::fs::write(dir.join("report.md"), &md)?;
    print!("{md}");
    Ok(())
}
