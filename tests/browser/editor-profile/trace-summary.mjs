// Sums a Chromium trace's complete events on the renderer main thread:
//   node trace-summary.mjs t.json            # by name (count, total ms)
//   node trace-summary.mjs t.json NAME [D]   # what runs inside NAME, nested D levels
import fs from "node:fs";
const t = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const ev = t.traceEvents || t;
const root = process.argv[3];
const maxd = Number(process.argv[4] || 4);
const main = new Set(ev.filter((e) => e.ph === "M" && e.name === "thread_name" && e.args.name === "CrRendererMain").map((e) => `${e.pid}:${e.tid}`));
const xs = ev.filter((e) => main.has(`${e.pid}:${e.tid}`) && e.ph === "X" && e.dur != null).sort((a, b) => a.ts - b.ts || b.dur - a.dur);
if (!root) {
  const agg = new Map();
  for (const e of xs) { const a = agg.get(e.name) || { n: 0, dur: 0 }; a.n++; a.dur += e.dur / 1000; agg.set(e.name, a); }
  for (const [k, a] of [...agg].sort((x, y) => y[1].dur - x[1].dur).slice(0, 45)) console.log(k.padEnd(55), String(a.n).padStart(6), a.dur.toFixed(1).padStart(10));
  process.exit(0);
}
const top = { kids: [] };
const stack = [top];
for (const e of xs) {
  while (stack.length > 1) { const p = stack[stack.length - 1]; if (e.ts >= p.e.ts + p.e.dur) stack.pop(); else break; }
  const n = { e, kids: [] };
  stack[stack.length - 1].kids.push(n);
  stack.push(n);
}
const agg = { name: root, n: 0, dur: 0, kids: new Map() };
const nameOf = (e) => (e.name === "FunctionCall" && e.args?.data?.functionName ? `fn:${e.args.data.functionName}@${(e.args.data.url || "").split("/").pop()}:${e.args.data.lineNumber}` : e.name);
function add(a, n, d) {
  if (d > maxd) return;
  for (const k of n.kids) {
    const nm = nameOf(k.e);
    let c = a.kids.get(nm);
    if (!c) a.kids.set(nm, (c = { name: nm, n: 0, dur: 0, kids: new Map() }));
    c.n++; c.dur += k.e.dur / 1000; add(c, k, d + 1);
  }
}
function walk(n) { for (const k of n.kids) { if (k.e.name === root) { agg.n++; agg.dur += k.e.dur / 1000; add(agg, k, 1); } else walk(k); } }
walk(top);
function print(a, ind) {
  console.log(" ".repeat(ind) + a.name + "  n=" + a.n + "  " + a.dur.toFixed(1) + " ms");
  for (const c of [...a.kids.values()].sort((x, y) => y.dur - x.dur)) if (c.dur > agg.dur * 0.01) print(c, ind + 2);
}
print(agg, 0);
