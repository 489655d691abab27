"""PNG plots for report.md, from the JSON files of one results directory."""
import json
import pathlib
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

d = pathlib.Path(sys.argv[1])


def load(name):
    p = d / name
    return json.loads(p.read_text()) if p.exists() else None


rows = load("pageview.json")
if rows:
    fig, ax = plt.subplots(figsize=(7, 4))
    for target in sorted({r["target"] for r in rows}):
        pts = sorted((r["connections"], r["rps"]) for r in rows if r["target"] == target)
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=target)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("concurrent connections")
    ax.set_ylabel("page views per second")
    ax.set_title("Warm page view: throughput against concurrency")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(d / "pageview-throughput.png", dpi=110)

for f in sorted(d.glob("mix-*.json")):
    m = json.loads(f.read_text())
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for a in m["actions"]:
        h = a.get("histogram_us") or []
        total = sum(n for _, n in h)
        if not total or a["action"] == "login":
            continue
        xs, ys, seen = [], [], 0
        for us, n in h:
            seen += n
            xs.append(max(us, 1) / 1000.0)
            ys.append(seen / total)
        ax.step(xs, ys, where="post", label=a["action"])
    ax.set_xscale("log")
    ax.set_xlabel("latency (ms)")
    ax.set_ylabel("fraction of actions")
    rate = m.get("actions_per_hour") or 0
    pace = f"{rate} actions/hour" if rate else "closed loop"
    ax.set_title(f"Latency per action, {m['users']} users, {pace}")
    ax.axvline(100, color="grey", linestyle="--", linewidth=0.8)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(d / f"{f.stem}-latency.png", dpi=110)

nodes = load("nodes.json")
if nodes:
    workloads = []
    for n in nodes:
        w = n.get("workload", "page view")
        if w not in workloads:
            workloads.append(w)
    counts = sorted({n["nodes"] for n in nodes})
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    width = 0.8 / len(workloads)
    for i, w in enumerate(workloads):
        xs = [c - 0.4 + width * (i + 0.5) for c in counts]
        by = {n["nodes"]: n for n in nodes if n.get("workload", "page view") == w}
        ax.bar(xs, [by[c]["cpu_ms_per_request"] if c in by else 0 for c in counts], width, label=w)
        ax2.bar(xs, [by[c]["rps"] if c in by else 0 for c in counts], width, label=w)
    for a in (ax, ax2):
        a.set_xticks(counts)
        a.set_xlabel("nodes behind nginx")
        a.legend(fontsize=8)
    ax.set_ylabel("node CPU per request (ms)")
    ax.set_title("Cost of scaling out: CPU per request")
    ax2.set_ylabel("requests per second")
    ax2.set_title("Throughput (2 shared cores: flat by design)")
    fig.tight_layout()
    fig.savefig(d / "nodes.png", dpi=110)
