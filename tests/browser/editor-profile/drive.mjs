// Types into the editor in headless Chromium over the DevTools protocol and
// prints keystroke-to-paint p50/p90/p99 (keydown to the frame after it, as
// editor_bench.rs times it) and long-animation-frame splits; optionally a
// Chromium trace or a JavaScript CPU profile of the typing.
//   node server.mjs &   # then:
//   node --experimental-websocket drive.mjs [KB] [--keys N] [--trace t.json] [--cpu p.cpuprofile] [--setup snippet.js] [--loaf] [--check]
// URL overrides the page (default http://127.0.0.1:8391/edit/KB).
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
const args = process.argv.slice(2);
const kb = Number(args.find((a) => /^\d+$/.test(a)) || 1024);
const traceOut = args.includes("--trace") ? args[args.indexOf("--trace") + 1] : null;
const nkeys = args.includes("--keys") ? Number(args[args.indexOf("--keys") + 1]) : 120;
const setup = args.includes("--setup") ? fs.readFileSync(args[args.indexOf("--setup") + 1], "utf8") : "";
const port = 9300 + Math.floor(Math.random() * 500);
const prof = fs.mkdtempSync(path.join(os.tmpdir(), "editor-profile-"));
const chrome = spawn("/usr/bin/chromium", ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage", "--window-size=1280,900", `--remote-debugging-port=${port}`, `--user-data-dir=${prof}`, "about:blank"], { stdio: "ignore" });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let ws;
for (let i = 0; i < 100; i++) {
  try {
    const l = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
    const p = l.find((t) => t.type === "page");
    if (p) { ws = new WebSocket(p.webSocketDebuggerUrl); break; }
  } catch (_) {}
  await sleep(100);
}
await new Promise((r) => ws.addEventListener("open", r));
let id = 0; const pending = new Map(); const listeners = [];
ws.addEventListener("message", (m) => {
  const v = JSON.parse(m.data);
  if (v.id && pending.has(v.id)) { pending.get(v.id)(v); pending.delete(v.id); }
  else for (const l of listeners) l(v);
});
const send = (method, params = {}) => new Promise((r) => { const i = ++id; pending.set(i, r); ws.send(JSON.stringify({ id: i, method, params })); }).then((v) => { if (v.error) throw new Error(method + ": " + JSON.stringify(v.error)); return v.result; });
const js = async (expr) => { const r = await send("Runtime.evaluate", { expression: expr, returnByValue: true, awaitPromise: true }); if (r.exceptionDetails) throw new Error(JSON.stringify(r.exceptionDetails)); return r.result.value; };
await send("Page.enable"); await send("Runtime.enable");
await send("Page.navigate", { url: process.env.URL || `http://127.0.0.1:8391/edit/${kb}` });
for (let i = 0; i < 300; i++) { if (await js("!!(window.CairnEditor && CairnEditor.editor && CairnEditor.editor.readyMs)").catch(() => false)) break; await sleep(100); }
console.log("readyMs", await js("CairnEditor.editor.readyMs"), "blocks", await js("CairnEditor.editor.view.state.doc.childCount"), "dom nodes", await js("document.getElementsByTagName('*').length"));
await sleep(1500);
await js(`(() => { const v = CairnEditor.editor.view; v.focus();
  window.__samples = []; window.__loaf = []; window.__handled = [];
  new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__loaf.push({d: Math.round(e.duration), b: Math.round(e.blockingDuration), s: e.scripts.map(s => [s.invoker, Math.round(s.duration), Math.round(s.forcedStyleAndLayoutDuration)]), rs: Math.round(e.renderStart - e.startTime), sl: Math.round(e.styleAndLayoutStart - e.startTime), end: Math.round(e.duration)}); }).observe({type: 'long-animation-frame'});
  let k0 = 0;
  document.addEventListener('keydown', () => { k0 = performance.now(); }, true);
  document.addEventListener('input', () => window.__handled.push(performance.now() - k0), true);
  document.addEventListener('keydown', () => { const t0 = performance.now(); requestAnimationFrame(() => { const ch = new MessageChannel(); ch.port1.onmessage = () => window.__samples.push(performance.now() - t0); ch.port2.postMessage(0); }); }, true);
  { ${setup} }
})()`);
const cpuOut = args.includes("--cpu") ? args[args.indexOf("--cpu") + 1] : null;
if (cpuOut) { await send("Profiler.enable"); await send("Profiler.setSamplingInterval", { interval: 200 }); await send("Profiler.start"); }
if (traceOut) {
  await send("Tracing.start", { transferMode: "ReturnAsStream", traceConfig: { includedCategories: ["devtools.timeline", "disabled-by-default-devtools.timeline", "v8.execute", "blink", "disabled-by-default-devtools.timeline.frame", "toplevel", "blink.user_timing", "disabled-by-default-v8.cpu_profiler"] } });
}
const text = "typing fast ";
for (let k = 0; k < nkeys; k++) {
  const ch = text[k % text.length];
  const code = ch === " " ? "Space" : "Key" + ch.toUpperCase();
  const vk = ch === " " ? 32 : ch.toUpperCase().charCodeAt(0);
  await send("Input.dispatchKeyEvent", { type: "keyDown", key: ch, code, text: ch, unmodifiedText: ch, windowsVirtualKeyCode: vk });
  await send("Input.dispatchKeyEvent", { type: "keyUp", key: ch, code, windowsVirtualKeyCode: vk });
  await sleep(30);
}
await sleep(500);
if (cpuOut) { const r = await send("Profiler.stop"); fs.writeFileSync(cpuOut, JSON.stringify(r.profile)); }
if (traceOut) {
  const done = new Promise((r) => listeners.push((v) => { if (v.method === "Tracing.tracingComplete") r(v.params.stream); }));
  await send("Tracing.end");
  const stream = await done;
  const out = fs.createWriteStream(traceOut);
  for (;;) { const c = await send("IO.read", { handle: stream, size: 1 << 20 }); out.write(c.data); if (c.eof) break; }
  out.end();
}
const s = await js("window.__samples");
const hd = await js("window.__handled");
const pct = (v, p) => { v = [...v].sort((a, b) => a - b); return v[Math.round((v.length - 1) * p)]; };
console.log(`keys ${s.length}: p50 ${pct(s, 0.5).toFixed(1)} p90 ${pct(s, 0.9).toFixed(1)} p99 ${pct(s, 0.99).toFixed(1)} max ${Math.max(...s).toFixed(1)}; keydown->input p50 ${pct(hd, 0.5).toFixed(1)} p99 ${pct(hd, 0.99).toFixed(1)}`);
{
  const lf = await js("window.__loaf");
  const med = (f) => pct(lf.map(f), 0.5);
  console.log(`LoAF frames ${lf.length}: dur p50 ${med((x) => x.d)} script p50 ${med((x) => x.s.reduce((a, y) => a + y[1], 0))} before-render-nonscript p50 ${med((x) => x.rs - x.s.reduce((a, y) => a + y[1], 0))} style+layout+paint p50 ${med((x) => x.end - x.rs)}`);
}
if (args.includes("--loaf")) console.log(JSON.stringify(await js("window.__loaf"), null, 0).slice(0, 4000));
if (args.includes("--check")) console.log("text ok:", await js("(() => { CairnEditor.editor.flush(); return document.querySelector('#body').value.slice(0, 300); })()"));
ws.close(); chrome.kill(); await sleep(300); fs.rmSync(prof, { recursive: true, force: true });
process.exit(0);
