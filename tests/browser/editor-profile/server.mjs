// Profiling harness for the rich-text editor (BENCHMARKS.md, "Editor"): serves
// host/assets (or $ASSETS, e.g. an unminified build) on a page shaped like
// host/templates/editor.html (a copy: keep it close) holding a storage-format
// body of /edit/<KB> kilobytes made like editor_bench.rs does; /ui/preview and
// /ui/macros answer with stand-ins. Run: node server.mjs (PORT, default 8391).
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
const ASSETS = process.env.ASSETS || new URL("../../../host/assets/", import.meta.url).pathname;
function pageOf(bytes) {
  let s = "", i = 0;
  while (s.length < bytes) {
    s += `<h2>Section ${i}</h2><p>The <strong>deploy</strong> of service ${i} goes through the <em>cluster</em> runbook; see <ac:link><ri:page ri:content-title="Runbook ${i}" /></ac:link> and <a href="https://example.com/${i}">the dashboard</a>. Latency stays under ${i} ms.</p><ul><li>Owner: team ${i}</li><li>Pager: <code>oncall-${i}</code><ul><li>nested ${i}</li></ul></li></ul><table><tbody><tr><th>Metric</th><th>Value</th></tr><tr><td>p99</td><td>${i} ms</td></tr></tbody></table><ac:structured-macro ac:name="code"><ac:parameter ac:name="language">bash</ac:parameter><ac:plain-text-body><![CDATA[kubectl rollout restart deploy/svc-${i}]]></ac:plain-text-body></ac:structured-macro><ac:structured-macro ac:name="info"><ac:rich-text-body><p>Note ${i}: drain first.</p></ac:rich-text-body></ac:structured-macro><ac:task-list><ac:task><ac:task-id>${i}</ac:task-id><ac:task-status>incomplete</ac:task-status><ac:task-body>Check service ${i}</ac:task-body></ac:task></ac:task-list>\n`;
    i++;
  }
  return s;
}
const esc = (s) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
function page(kb) {
  const src = pageOf(kb * 1024);
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>bench</title><link rel="stylesheet" href="/assets/app.css"><script src="/assets/app.js" defer></script>
<link rel="stylesheet" href="/assets/editor.css"><script src="/assets/editor.js" defer></script><script src="/assets/drafts.js" defer></script></head>
<body><header class="topbar"><a class="brand" href="/">Cairn</a></header><div class="frame"><main class="content" id="main" tabindex="-1">
<h1>Edit</h1>
<form method="post" action="/x" class="editor" id="editor" data-upload-url="/pages/1/attachments">
<input type="hidden" name="_csrf" value="x"><input type="hidden" name="base_version" value="1"><input type="hidden" name="space" value="EB"><input type="hidden" name="id" value="1"><input type="hidden" name="draft" value="">
<input class="title-input" name="title" id="title" value="1 MB" placeholder="Title" required maxlength="255" aria-label="Title">
<div class="editor-bar"><label>Format <select name="format" id="format"><option value="markdown">Markdown</option><option value="storage" selected>Storage format (XHTML)</option></select></label>
<label>Macro <select id="macro-picker" disabled><option value="">Insert a macro…</option></select></label></div>
<div class="editor-panes"><textarea name="body" id="body" rows="24" spellcheck="true" aria-label="Body" data-mentions>
${esc(src)}</textarea><div class="preview wiki-content" id="preview" aria-live="polite"></div></div>
<div class="editor-bar"><button type="submit" class="primary" id="save">Update</button></div></form></main></div></body></html>`;
}
const cache = {};
http.createServer((req, res) => {
  const u = new URL(req.url, "http://x");
  if (u.pathname.startsWith("/assets/")) {
    const f = path.join(ASSETS, u.pathname.slice(8));
    if (!fs.existsSync(f)) { res.writeHead(404); return res.end(); }
    const ct = f.endsWith(".html") ? "text/html" : f.endsWith(".js") ? "text/javascript" : f.endsWith(".css") ? "text/css" : f.endsWith(".svg") ? "image/svg+xml" : "application/octet-stream";
    res.writeHead(200, { "content-type": ct }); return res.end(fs.readFileSync(f));
  }
  if (u.pathname.startsWith("/edit/")) {
    const kb = Number(u.pathname.slice(6));
    cache[kb] ||= page(kb);
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" }); return res.end(cache[kb]);
  }
  if (u.pathname === "/ui/preview") {
    let b = ""; req.on("data", (c) => (b += c)); req.on("end", () => { setTimeout(() => { res.writeHead(200, { "content-type": "text/html" }); res.end('<div class="code panel"><pre>preview output</pre></div>'); }, 5); });
    return;
  }
  if (u.pathname === "/ui/macros" || u.pathname === "/rest/cairn/1.0/macros") { res.writeHead(200, { "content-type": "application/json" }); return res.end('{"results":[{"name":"code","title":"Code","params":[{"name":"language","type":"string"}],"body":"plain-text"},{"name":"info","title":"Info","params":[],"body":"rich-text"}]}'); }
  res.writeHead(404); res.end();
}).listen(Number(process.env.PORT || 8391), "127.0.0.1");
