// Cairn UI behaviour: lazy page tree, live editor preview, confirmations.
// No inline scripts anywhere (the CSP forbids them).
"use strict";

function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

// Ids of the current page's ancestors, so the tree opens down to it; the
// current page opens too, showing its children.
const openPath = new Set((document.querySelector(".page-tree")?.dataset.path || "").split(",").filter(Boolean));
if (document.querySelector(".page-tree")?.dataset.current) openPath.add(document.querySelector(".page-tree").dataset.current);

async function loadBranch(ul, space, parent, current, offset) {
  const q = new URLSearchParams({ space });
  if (parent) q.set("parent", parent);
  if (offset) q.set("offset", offset);
  const r = await fetch("/ui/tree?" + q, { credentials: "same-origin" });
  if (!r.ok) return;
  const data = await r.json();
  for (const n of data.results) {
    const li = el("li", { "data-id": n.id });
    // A leaf has no button (nothing to expand), only the same indent.
    const toggle = n.hasChildren
      ? el("button", { type: "button", class: "twisty", "aria-expanded": "false", "aria-label": "Show the pages under " + n.title }, "▸")
      : el("span", { class: "twisty", "aria-hidden": "true" });
    const a = el("a", { href: n.url }, n.title);
    if (n.id === current) { a.classList.add("current"); a.setAttribute("aria-current", "page"); }
    li.append(toggle, a);
    if (ul.closest(".page-tree")?.dataset.canMove) treeDrag(li, a, n);
    toggle.addEventListener("click", async () => {
      const open = toggle.getAttribute("aria-expanded") === "true";
      let sub = li.querySelector(":scope > ul");
      if (open) {
        toggle.setAttribute("aria-expanded", "false");
        toggle.textContent = "▸";
        if (sub) sub.hidden = true;
        return;
      }
      toggle.setAttribute("aria-expanded", "true");
      toggle.textContent = "▾";
      if (!sub) {
        sub = el("ul");
        li.append(sub);
        await loadBranch(sub, space, n.id, current, 0);
      }
      sub.hidden = false;
    });
    ul.append(li);
    if (n.hasChildren && openPath.has(n.id)) toggle.click();
  }
  if (data.more) {
    const li = el("li");
    const b = el("button", { type: "button", class: "linklike" }, "more…");
    b.addEventListener("click", () => { li.remove(); loadBranch(ul, space, parent, current, data.nextOffset); });
    li.append(b);
    ul.append(li);
  }
}

function initTree() {
  const tree = document.querySelector(".page-tree");
  if (!tree) return;
  loadBranch(tree, tree.dataset.space, null, tree.dataset.current, 0);
}

function initPreview() {
  const form = document.getElementById("editor");
  const preview = document.getElementById("preview");
  if (!form || !preview) return;
  let timer = null;
  let seq = 0;
  const run = async () => {
    // The rich-text editor (editor.js) is its own preview.
    if (form.dataset.mode === "rich") return;
    const mine = ++seq;
    const body = new URLSearchParams(new FormData(form));
    const r = await fetch("/ui/preview", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body,
    });
    if (mine !== seq) return;
    // The server sanitizes the preview exactly like a saved page.
    preview.innerHTML = await r.text();
    focusableScrollers(preview);
  };
  const schedule = () => { clearTimeout(timer); timer = setTimeout(run, 300); };
  form.querySelector("#body").addEventListener("input", schedule);
  form.querySelector("#format").addEventListener("change", schedule);
  initMacroPicker(form, schedule);
  run();
}

// The macro picker: macros the installed plugins describe, inserted at the
// cursor as storage format with their default parameters.
async function initMacroPicker(form, changed) {
  const picker = document.getElementById("macro-picker");
  const format = form.querySelector("#format");
  const body = form.querySelector("#body");
  if (!picker) return;
  let macros = [];
  try {
    const r = await fetch("/rest/cairn/1.0/macros", { credentials: "same-origin" });
    if (r.ok) macros = (await r.json()).results;
  } catch (_) { return; }
  for (const m of macros) {
    const o = document.createElement("option");
    o.value = m.name;
    o.textContent = `${m.title || m.name} (${m.name})`;
    o.title = m.description || "";
    picker.appendChild(o);
  }
  const sync = () => {
    picker.disabled = format.value !== "storage" || macros.length === 0;
    picker.title = picker.disabled && macros.length ? "Switch the format to storage format to insert macros" : "";
  };
  format.addEventListener("change", sync);
  sync();
  const esc = (s) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  picker.addEventListener("change", () => {
    const m = macros.find((x) => x.name === picker.value);
    picker.value = "";
    if (!m) return;
    let xml = `<ac:structured-macro ac:name="${esc(m.name)}">`;
    for (const p of m.params) {
      if (p.required || p.default != null) {
        xml += `<ac:parameter ac:name="${esc(p.name)}">${esc(p.default || "")}</ac:parameter>`;
      }
    }
    if (m.body === "plain-text") xml += "<ac:plain-text-body><![CDATA[]]></ac:plain-text-body>";
    if (m.body === "rich-text") xml += "<ac:rich-text-body><p></p></ac:rich-text-body>";
    xml += "</ac:structured-macro>";
    const at = body.selectionStart ?? body.value.length;
    body.value = body.value.slice(0, at) + xml + body.value.slice(body.selectionEnd ?? at);
    body.focus();
    body.selectionStart = body.selectionEnd = at + xml.length;
    changed();
  });
}

function initConfirm() {
  for (const f of document.querySelectorAll("form[data-confirm]")) {
    f.addEventListener("submit", (e) => { if (!confirm(f.dataset.confirm)) e.preventDefault(); });
  }
}

function initSuggest() {
  const input = document.getElementById("search-q");
  const list = document.getElementById("suggest");
  if (!input || !list) return;
  let timer = null;
  let seq = 0;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const q = input.value.trim();
      const mine = ++seq;
      if (q.length < 2) { list.hidden = true; return; }
      const r = await fetch("/ui/suggest?" + new URLSearchParams({ q }), { credentials: "same-origin" });
      if (!r.ok || mine !== seq) return;
      const items = await r.json();
      list.replaceChildren(...items.map((it) => {
        const li = el("li");
        const a = el("a", { href: it.url }, it.title);
        li.append(a, el("span", { class: "meta" }, " " + it.space));
        return li;
      }));
      list.hidden = items.length === 0;
    }, 150);
  });
  input.addEventListener("blur", () => setTimeout(() => { list.hidden = true; }, 200));
}

// Forms marked data-inline-errors are sent from here: on success the page
// goes where the server redirects; on an error the message appears beside
// the field it is about (or at the top of the form) and everything typed
// stays. Without this script the same forms post natively and an error
// shows as a page in the user's own frame (web/errors.rs).
function showFormError(form, message, field) {
  form.querySelector(":scope .form-error")?.remove();
  for (const bad of form.querySelectorAll("[aria-invalid=true]")) bad.removeAttribute("aria-invalid");
  let target = field ? form.elements.namedItem(field) : null;
  if (target && !(target instanceof Element)) target = target[0] || null;
  const id = "form-error-" + Math.random().toString(36).slice(2);
  const p = el("p", { class: "form-error", role: "alert", id }, message);
  if (target) {
    target.setAttribute("aria-invalid", "true");
    target.setAttribute("aria-describedby", id);
    target.insertAdjacentElement("afterend", p);
    // A comment box in rich mode hides its text area: the editor takes the focus.
    if (target.hidden && form.cairnEditor) form.cairnEditor.focus();
    else target.focus();
  } else {
    form.prepend(p);
  }
}

function followFromForm(to) {
  const u = new URL(to, location.href);
  if (u.pathname + u.search === location.pathname + location.search) {
    location.hash = u.hash;
    location.reload();
  } else {
    location.assign(u.href);
  }
}

function initInlineErrors() {
  for (const form of document.querySelectorAll("form[data-inline-errors]")) bindInlineErrors(form);
}

function bindInlineErrors(form) {
  {
    form.addEventListener("submit", async (e) => {
      if (e.defaultPrevented) return;
      e.preventDefault();
      const data = new FormData(form, e.submitter || undefined);
      const buttons = form.querySelectorAll("button, input[type=submit]");
      for (const b of buttons) b.disabled = true;
      try {
        // The attribute, not form.action: a field named "action" shadows it.
        const r = await fetch(new URL(form.getAttribute("action") || location.href, location.href), {
          method: "POST",
          credentials: "same-origin",
          headers: { "X-Cairn-Form": "1", "Content-Type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams(data),
        });
        const to = r.headers.get("X-Cairn-Location");
        if (to) { followFromForm(to); return; }
        if ((r.headers.get("Content-Type") || "").startsWith("application/json")) {
          const err = await r.json();
          showFormError(form, err.message || `The server answered ${r.status}.`, err.field);
        } else {
          showFormError(form, `The server answered ${r.status}; nothing you typed was lost.`);
        }
      } catch (_) {
        showFormError(form, "The server could not be reached, so nothing was saved. Try again.");
      } finally {
        for (const b of buttons) b.disabled = false;
      }
    });
  }
}

// The sidebar as a drawer on narrow screens (app.css): the header's button
// opens it, Escape, the backdrop or a link in it closes it.
function initDrawer() {
  const button = document.getElementById("drawer-toggle");
  const sidebar = document.getElementById("sidebar");
  const backdrop = document.getElementById("drawer-backdrop");
  if (!button || !sidebar) return;
  const set = (open) => {
    document.body.classList.toggle("drawer-open", open);
    button.setAttribute("aria-expanded", String(open));
    if (backdrop) backdrop.hidden = !open;
    if (open) sidebar.querySelector("a")?.focus();
  };
  button.addEventListener("click", () => set(!document.body.classList.contains("drawer-open")));
  backdrop?.addEventListener("click", () => set(false));
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && document.body.classList.contains("drawer-open")) { set(false); button.focus(); }
  });
  sidebar.addEventListener("click", (e) => { if (e.target.closest("a")) set(false); });
}

// The user menu closes on Escape and on a click elsewhere.
function initMenus() {
  for (const menu of document.querySelectorAll("details.menu")) {
    document.addEventListener("click", (e) => { if (menu.open && !menu.contains(e.target)) menu.open = false; });
    menu.addEventListener("keydown", (e) => { if (e.key === "Escape" && menu.open) { menu.open = false; menu.querySelector("summary")?.focus(); } });
  }
}

// Code blocks and tables wider than their box scroll; a keyboard user must
// be able to reach them to scroll, so they take the focus.
function focusableScrollers(root) {
  for (const e of (root || document).querySelectorAll(".wiki-content pre, .wiki-content table, .preview pre, .preview table, table.diff, table.grid")) {
    if (e.scrollWidth > e.clientWidth + 1 && !e.hasAttribute("tabindex")) e.setAttribute("tabindex", "0");
  }
}

// Times as "2 minutes ago" (the exact time stays in the tooltip); the
// server writes the exact time, so a cached page is never stale.
function relativeTimes() {
  const now = Date.now();
  const plural = (n, unit) => `${n} ${unit}${n === 1 ? "" : "s"} ago`;
  for (const t of document.querySelectorAll("time[datetime]")) {
    if (!t.dataset.exact) t.dataset.exact = t.textContent;
    const at = Date.parse(t.getAttribute("datetime"));
    if (Number.isNaN(at)) continue;
    const s = Math.max(0, Math.round((now - at) / 1000));
    let text;
    if (s < 60) text = "just now";
    else if (s < 3600) text = plural(Math.floor(s / 60), "minute");
    else if (s < 86400) text = plural(Math.floor(s / 3600), "hour");
    else if (s < 2 * 86400) text = "yesterday";
    else if (s < 7 * 86400) text = plural(Math.floor(s / 86400), "day");
    else text = t.dataset.exact;
    t.textContent = text;
  }
}

// Dragging pages in the tree (web/tree.rs): drop on the upper or lower
// quarter of a page to put it before or after, on the middle to put it
// under; the move is the server's, with the same checks as the Move
// screen, and "Undo" moves it back. The Move screen is the keyboard way.
const PAGE_TYPE = "application/x-cairn-page";
function treeDrag(li, a, n) {
  a.draggable = true;
  a.addEventListener("dragstart", (e) => {
    e.dataTransfer.setData(PAGE_TYPE, n.id);
    e.dataTransfer.setData("text/plain", n.title);
    e.dataTransfer.effectAllowed = "move";
    li.classList.add("dragging");
  });
  a.addEventListener("dragend", () => li.classList.remove("dragging"));
  const zone = (e) => {
    const r = a.getBoundingClientRect();
    const y = (e.clientY - r.top) / (r.height || 1);
    return y < 0.25 ? "before" : y > 0.75 ? "after" : "inside";
  };
  const clear = () => li.classList.remove("drop-before", "drop-after", "drop-inside");
  a.addEventListener("dragover", (e) => {
    if (!e.dataTransfer.types.includes(PAGE_TYPE)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "move";
    clear();
    li.classList.add("drop-" + zone(e));
  });
  a.addEventListener("dragleave", clear);
  a.addEventListener("drop", async (e) => {
    const id = e.dataTransfer.getData(PAGE_TYPE);
    clear();
    if (!id) return;
    e.preventDefault();
    if (id === n.id) return;
    await treeMove({ id, target: n.id, where: zone(e) }, e.dataTransfer.getData("text/plain"));
  });
}

async function treeMove(fields, title) {
  const tree = document.querySelector(".page-tree");
  const status = document.getElementById("tree-status");
  const body = new URLSearchParams({ _csrf: tree.dataset.csrf, ...fields });
  let r;
  try {
    r = await fetch("/ui/tree/move", {
      method: "POST", credentials: "same-origin", body,
      headers: { "X-Cairn-Form": "1", "Content-Type": "application/x-www-form-urlencoded" },
    });
  } catch (_) {
    status.textContent = "The server could not be reached; nothing was moved.";
    return;
  }
  const data = await r.json().catch(() => ({}));
  if (!r.ok) {
    status.textContent = data.message || `The page could not be moved (${r.status}).`;
    status.className = "tree-status error";
    return;
  }
  status.className = "tree-status";
  status.replaceChildren();
  if (fields.where !== "restore") {
    status.append(`Moved “${data.title || title}”. `);
    const undo = el("button", { type: "button", class: "linklike", id: "tree-undo" }, "Undo");
    undo.addEventListener("click", () => treeMove({
      id: data.id, where: "restore",
      parent: data.undo.parent || "", position: String(data.undo.position),
    }, data.title));
    status.append(undo);
  } else {
    status.append(`Moved “${data.title || title}” back.`);
  }
  tree.replaceChildren();
  initTree();
}

// Attachments by drag and drop (or the file chooser) with a progress bar
// per file and a preview of images; each file is the same multipart POST
// the form sends, one at a time, then the list reloads.
function initUploads() {
  const form = document.getElementById("upload-form");
  const zone = document.getElementById("drop-zone");
  const list = document.getElementById("upload-list");
  if (!form || !zone || !list) return;
  const input = form.querySelector("input[type=file]");
  const send = (file) => new Promise((resolve) => {
    const li = el("li", { class: "upload" });
    if (file.type.startsWith("image/") && file.type !== "image/svg+xml") {
      const img = el("img", { class: "thumb", alt: "" });
      img.src = URL.createObjectURL(file);
      li.append(img);
    }
    const bar = el("progress", { max: "100", value: "0", "aria-label": "Uploading " + file.name });
    const note = el("span", { class: "muted" }, " " + file.name);
    li.append(bar, note);
    list.append(li);
    const data = new FormData();
    data.append("_csrf", form.querySelector("input[name=_csrf]").value);
    data.append("comment", form.querySelector("input[name=comment]").value);
    data.append("file", file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.getAttribute("action") || location.href);
    xhr.upload.addEventListener("progress", (e) => { if (e.lengthComputable) bar.value = Math.round(100 * e.loaded / e.total); });
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        bar.value = 100;
        note.textContent = " " + file.name + " — uploaded";
        resolve(true);
      } else {
        const doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
        const why = doc.querySelector(".flash, .errorpage .message")?.textContent || `the server answered ${xhr.status}`;
        li.classList.add("failed");
        note.textContent = " " + file.name + ": " + why;
        resolve(false);
      }
    });
    xhr.addEventListener("error", () => { li.classList.add("failed"); note.textContent = " " + file.name + ": the server could not be reached"; resolve(false); });
    xhr.send(data);
  });
  const upload = async (files) => {
    let ok = true;
    for (const f of files) ok = (await send(f)) && ok;
    if (ok) location.reload();
  };
  zone.addEventListener("dragover", (e) => { if (e.dataTransfer.types.includes("Files")) { e.preventDefault(); zone.classList.add("over"); } });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    if (!e.dataTransfer.files.length) return;
    e.preventDefault();
    zone.classList.remove("over");
    upload([...e.dataTransfer.files]);
  });
  form.addEventListener("submit", (e) => {
    if (!input.files.length) return;
    e.preventDefault();
    upload([...input.files]);
  });
}

document.addEventListener("DOMContentLoaded", () => { initTree(); initPreview(); initConfirm(); initInlineErrors(); initSuggest(); initDrawer(); initMenus(); focusableScrollers(); relativeTimes(); setInterval(relativeTimes, 60000); initUploads(); initInlineComments(); initCompletions(); initRichComments(); initLiveSearch(); initSortable(); initCreateFilter(); initRecent(); });

// The bell's unread count: polled every 30 s and when the tab comes back
// (see web/notify.rs for why polling). Cached page views carry no count.
(function bell() {
  const badge = document.getElementById("bell-count");
  if (!badge) return;
  async function refresh() {
    try {
      const r = await fetch("/ui/notifications/count", { credentials: "same-origin" });
      if (!r.ok) return;
      const n = (await r.json()).unread || 0;
      badge.textContent = n > 99 ? "99+" : String(n);
      badge.hidden = n === 0;
    } catch (_) { /* offline: keep the last number */ }
  }
  refresh();
  setInterval(() => { if (!document.hidden) refresh(); }, 30000);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(); });
})();

// Task lists tickable in view mode (web/tasks.rs): the page's tasks come in
// document order; the rendered checkboxes are enabled only when their
// number matches (an included page's tasks would shift the order).
(async function tasks() {
  const main = document.getElementById("main-content");
  const edit = document.getElementById("edit-page");
  if (!main || !edit) return;
  const boxes = main.querySelectorAll("li.task-list-item > input[type=checkbox]");
  if (!boxes.length) return;
  const id = edit.getAttribute("href").split("/")[2];
  const csrf = document.querySelector("input[name=_csrf]")?.value;
  const r = await fetch(`/pages/${id}/tasks`, { credentials: "same-origin" });
  if (!r.ok || !csrf) return;
  const data = await r.json();
  if (!data.canEdit || data.tasks.length !== boxes.length) return;
  boxes.forEach((box, i) => {
    box.disabled = false;
    box.addEventListener("change", async () => {
      const body = new URLSearchParams({ _csrf: csrf, task: data.tasks[i].id, complete: box.checked ? "1" : "0" });
      const res = await fetch(`/pages/${id}/tasks`, { method: "POST", body, credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!res.ok) { box.checked = !box.checked; alert("The task could not be saved; reload the page."); }
      box.closest("li").classList.toggle("checked", box.checked);
    });
  });
})();

// Inline comments. Selecting text of the page offers a Comment button (or
// Ctrl+Alt+C); the form sends the selected text with a little of the text
// around it, and the server anchors the comment there. Open threads
// highlight their text: clicking the text shows its thread, the thread's
// quote shows its text.
function initInlineComments() {
  const article = document.querySelector("#main-content");
  if (!article) return;
  const threads = [...document.querySelectorAll(".inline-thread[data-ref]:not(.resolved)")];
  for (const t of threads) {
    const marks = article.querySelectorAll(`.inline-marker[data-ref="${CSS.escape(t.dataset.ref)}"]`);
    for (const m of marks) {
      m.classList.add("commented");
      m.addEventListener("click", () => showThread(t, marks));
    }
    if (marks[0]) {
      marks[0].tabIndex = 0;
      marks[0].setAttribute("role", "button");
      marks[0].setAttribute("aria-label", "Show the comments on: " + t.querySelector(".anchor-text").textContent.trim());
      marks[0].addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); showThread(t, marks); } });
    }
    t.querySelector("[data-show-ref]")?.addEventListener("click", (e) => {
      e.preventDefault();
      showThread(t, marks);
      marks[0]?.scrollIntoView({ block: "center" });
      marks[0]?.focus();
    });
  }
  function showThread(t, marks) {
    for (const a of document.querySelectorAll(".inline-thread.active, .inline-marker.active")) a.classList.remove("active");
    t.classList.add("active");
    for (const m of marks) m.classList.add("active");
    t.scrollIntoView({ block: "nearest" });
  }
  const action = article.dataset.inlineComment;
  if (!action) return;
  const button = el("button", { type: "button", class: "inline-comment-button", id: "inline-comment-button", title: "Comment on the selected text (Ctrl+Alt+C)" }, "Comment");
  button.hidden = true;
  document.body.append(button);
  let saved = null;
  const current = () => {
    const sel = window.getSelection();
    if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return null;
    const r = sel.getRangeAt(0);
    if (!article.contains(r.commonAncestorContainer)) return null;
    const text = sel.toString();
    if (!text.trim()) return null;
    const pre = document.createRange();
    pre.setStart(article, 0);
    pre.setEnd(r.startContainer, r.startOffset);
    const post = document.createRange();
    post.setStart(r.endContainer, r.endOffset);
    post.setEnd(article, article.childNodes.length);
    return { text, before: pre.toString().slice(-80), after: post.toString().slice(0, 80), rect: r.getBoundingClientRect() };
  };
  document.addEventListener("selectionchange", () => {
    const s = current();
    if (!s) {
      if (document.activeElement !== button) button.hidden = true;
      return;
    }
    saved = s;
    button.hidden = false;
    button.style.top = `${window.scrollY + s.rect.bottom + 6}px`;
    button.style.left = `${Math.max(4, window.scrollX + s.rect.left)}px`;
  });
  const open = () => {
    if (!saved) return;
    button.hidden = true;
    showForm(saved);
  };
  button.addEventListener("click", open);
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey && e.altKey && e.key.toLowerCase() === "c") {
      const s = current();
      if (s) { saved = s; e.preventDefault(); open(); }
    }
  });
  function showForm(s) {
    document.getElementById("new-inline-comment")?.remove();
    const form = el("form", { method: "post", action, id: "new-inline-comment", class: "inline-thread new", "data-inline-errors": "" });
    for (const [name, value] of [["_csrf", article.dataset.csrf], ["selection", s.text], ["before", s.before], ["after", s.after]]) {
      form.append(el("input", { type: "hidden", name, value }));
    }
    form.append(el("blockquote", { class: "anchor-text" }, s.text.length > 300 ? s.text.slice(0, 300) + "…" : s.text));
    form.setAttribute("data-rich-comment", "");
    form.append(el("input", { type: "hidden", name: "format", value: "markdown" }));
    const ta = el("textarea", { name: "body", rows: "3", required: "", "aria-label": "Your comment on the selected text", "data-mentions": "", placeholder: "Comment on this text (Markdown; @ mentions someone)" });
    const cancel = el("button", { type: "button" }, "Cancel");
    cancel.addEventListener("click", () => form.remove());
    form.append(ta, el("button", { type: "submit", class: "primary" }, "Comment"), cancel);
    let aside = document.getElementById("inline-comments");
    if (!aside) {
      aside = el("aside", { class: "inline-threads", id: "inline-comments", "aria-label": "Inline comments" });
      article.insertAdjacentElement("afterend", aside);
    }
    aside.closest(".page-and-threads")?.classList.add("has-threads");
    aside.prepend(form);
    bindInlineErrors(form);
    attachCompleter(ta);
    ta.focus();
  }
}

// Comment boxes (forms marked data-rich-comment) become the rich-text
// editor (editor.js, comments.js in host/editor) on the first focus of their
// text area, or when the Reply or Edit that holds one opens. The bundle is
// fetched once the page has loaded and the browser is idle, so a page view
// (cached or not, the same HTML for everyone) costs no more and a click in a
// box finds it ready. Without the script a box is its plain text area.
let editorLoading = null;
function loadEditor() {
  if (!editorLoading) {
    editorLoading = new Promise((resolve, reject) => {
      if (window.CairnEditor) { resolve(window.CairnEditor); return; }
      document.head.append(el("link", { rel: "stylesheet", href: "/assets/editor.css" }));
      const s = el("script", { src: "/assets/editor.js" });
      s.addEventListener("load", () => resolve(window.CairnEditor));
      s.addEventListener("error", () => { editorLoading = null; reject(new Error("the editor could not be loaded")); });
      document.head.append(s);
    });
  }
  return editorLoading;
}

function richComment(form, focus) {
  if (form.cairnEditor || form.dataset.richLoading) return;
  form.dataset.richLoading = "1";
  loadEditor()
    .then((api) => {
      const ed = api.mountComment(form);
      if (focus) ed.focus();
    })
    .catch(() => {})
    .finally(() => { delete form.dataset.richLoading; });
}

function initRichComments() {
  document.addEventListener("focusin", (e) => {
    const form = e.target.closest?.("form[data-rich-comment]");
    if (form && e.target.name === "body") richComment(form, true);
  });
  // "toggle" does not bubble: caught on its way down.
  document.addEventListener("toggle", (e) => {
    const form = e.target.open && e.target.querySelector?.("form[data-rich-comment]");
    if (form) richComment(form, false);
  }, true);
  if (!document.querySelector("form[data-rich-comment], #main-content[data-inline-comment]")) return;
  const idle = window.requestIdleCallback || ((f) => setTimeout(f, 300));
  const prefetch = () => idle(() => loadEditor().catch(() => {}));
  if (document.readyState === "complete") prefetch();
  else window.addEventListener("load", prefetch);
}

// Completion of people: "@" in a text area that mentions (Markdown writes
// @username; the storage-format editor writes the mention's XML), and the
// names in a field of people. Those who can see the page come first.
function initCompletions() {
  for (const f of document.querySelectorAll("textarea[data-mentions], input[data-people]")) attachCompleter(f);
}

function attachCompleter(field) {
  const people = field.hasAttribute("data-people");
  const list = el("ul", { class: "completions", role: "listbox", id: "completions-" + Math.random().toString(36).slice(2), "aria-label": "People" });
  list.hidden = true;
  field.setAttribute("aria-autocomplete", "list");
  field.setAttribute("aria-controls", list.id);
  field.insertAdjacentElement("afterend", list);
  // The list floats below the field instead of pushing the page down.
  field.parentElement?.classList.add("completing");
  const pageId = field.dataset.page || document.getElementById("main-content")?.dataset.pageId || field.form?.querySelector("input[name=id]")?.value || "";
  let items = [], active = -1, token = null, timer = null, asked = 0;
  const close = () => { list.hidden = true; items = []; active = -1; field.removeAttribute("aria-activedescendant"); };
  const find = () => {
    const upto = field.value.slice(0, field.selectionStart);
    const m = people ? /(^|[,;\s])([^,;\s]+)$/.exec(upto) : /(^|[\s(\[{"'>])@([\w.\-]*)$/.exec(upto);
    if (!m) return null;
    return { start: upto.length - m[2].length - (people ? 0 : 1), end: field.selectionStart, q: m[2] };
  };
  const choose = (i) => {
    const u = items[i];
    if (!u || !token) return;
    const storage = field.form?.elements.namedItem("format")?.value === "storage";
    const text = people ? `${u.username}, ` : storage ? `<ac:link><ri:user ri:userkey="${u.userKey}"/></ac:link> ` : `@${u.username} `;
    field.value = field.value.slice(0, token.start) + text + field.value.slice(token.end);
    const at = token.start + text.length;
    field.setSelectionRange(at, at);
    field.dispatchEvent(new Event("input", { bubbles: true }));
    close();
    field.focus();
  };
  const show = () => {
    list.replaceChildren();
    items.forEach((u, i) => {
      const li = el("li", { role: "option", id: `${list.id}-${i}`, "aria-selected": String(i === active) }, u.displayName + " ");
      li.append(el("span", { class: "muted" }, "@" + u.username + (u.canSee ? "" : " · cannot see this page")));
      li.addEventListener("mousedown", (e) => { e.preventDefault(); choose(i); });
      list.append(li);
    });
    list.hidden = items.length === 0;
    if (active >= 0) field.setAttribute("aria-activedescendant", `${list.id}-${active}`);
  };
  field.addEventListener("input", () => {
    token = find();
    clearTimeout(timer);
    if (!token || (people && token.q.length < 1)) { close(); return; }
    timer = setTimeout(async () => {
      const n = ++asked;
      try {
        const r = await fetch(`/ui/users?q=${encodeURIComponent(token.q)}${pageId ? "&page=" + encodeURIComponent(pageId) : ""}`, { credentials: "same-origin" });
        if (!r.ok || n !== asked) return;
        items = (await r.json()).results || [];
        active = items.length ? 0 : -1;
        show();
      } catch (_) { close(); }
    }, 120);
  });
  field.addEventListener("keydown", (e) => {
    if (list.hidden) return;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      active = (active + (e.key === "ArrowDown" ? 1 : items.length - 1)) % items.length;
      show();
    } else if (e.key === "Enter" || e.key === "Tab") {
      if (active >= 0) { e.preventDefault(); choose(active); }
    } else if (e.key === "Escape") {
      e.preventDefault();
      close();
    }
  });
  field.addEventListener("blur", () => setTimeout(close, 150));
}

// The livesearch macro renders a link to the search page (macros carry no
// forms); here it becomes a search box that goes there with the words typed.
function initLiveSearch() {
  for (const link of document.querySelectorAll(".livesearch-macro > a[href^='/search']")) {
    const form = el("form", { class: "livesearch", role: "search" });
    const input = el("input", { type: "search", placeholder: link.textContent.replace(/…$/, ""), "aria-label": link.textContent.replace(/…$/, "") });
    form.append(input, el("button", { type: "submit" }, "Search"));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const u = new URL(link.href, location.href);
      u.searchParams.set("q", input.value);
      location.assign(u.href);
    });
    link.replaceWith(form);
  }
}

// Tables marked sortable (the page properties report): each heading becomes
// a button that sorts the rows by its column, again to reverse.
function initSortable() {
  for (const table of document.querySelectorAll("table.sortable")) {
    const body = table.tBodies[0];
    if (!body) continue;
    [...table.tHead?.rows[0]?.cells || []].forEach((th, col) => {
      const b = el("button", { type: "button", class: "linklike sort" }, th.textContent);
      th.replaceChildren(b);
      b.addEventListener("click", () => {
        const down = th.getAttribute("aria-sort") !== "ascending";
        for (const h of table.tHead.rows[0].cells) h.removeAttribute("aria-sort");
        th.setAttribute("aria-sort", down ? "ascending" : "descending");
        const rows = [...body.rows].sort((a, b) => a.cells[col].textContent.localeCompare(b.cells[col].textContent, undefined, { numeric: true }));
        if (!down) rows.reverse();
        body.append(...rows);
      });
    });
  }
}

// The Create screen: typing filters the templates and blueprints listed.
function initCreateFilter() {
  const input = document.getElementById("create-filter");
  const list = document.getElementById("create-choices");
  if (!input || !list) return;
  input.addEventListener("input", () => {
    const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const li of list.children) {
      const hit = words.every((w) => li.dataset.filter.includes(w));
      li.hidden = !hit;
      if (hit) shown++;
    }
    document.getElementById("create-none").hidden = shown > 0;
  });
}

// Recently viewed: the page view tells the server (a cached view too), the
// dashboard asks for the list (so the cached dashboard is the same for every
// visit).
function initRecent() {
  const page = document.querySelector("#main-content[data-page-id]");
  if (page && document.querySelector(".user-menu, #user-menu")) {
    fetch(`/ui/viewed/${page.dataset.pageId}`, { method: "POST", credentials: "same-origin", headers: { "X-Cairn-View": "1" } }).catch(() => {});
  }
  const list = document.getElementById("recently-viewed");
  if (!list) return;
  fetch(list.dataset.source, { credentials: "same-origin" })
    .then((r) => (r.ok ? r.json() : { results: [] }))
    .then((v) => {
      list.replaceChildren();
      for (const it of v.results || []) {
        const li = el("li");
        li.append(el("a", { href: it.url }, it.title), " ", el("span", { class: "meta" }, it.space));
        list.append(li);
      }
      if (!list.children.length) list.append(el("li", { class: "muted" }, "Pages you open appear here."));
    })
    .catch(() => list.replaceChildren(el("li", { class: "muted" }, "Could not load the list.")));
}
