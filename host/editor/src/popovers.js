// Editing what is already in the text, in place: a small popover beside a
// selected link (`ac:link` to a page, attachment or anchor, or a web
// address), mention, image or date changes its target, text, size,
// alignment… or removes it. (tasks.js opens it on a task's assignee and
// due date.)
//
// Invariant: only what the reader changes is touched — an edited node is
// remade with new attributes (so it is written in its canonical form), every
// other node keeps its source byte for byte (storage.js).
//
// Keyboard: Alt+Enter (or Ctrl+K on a link) opens the form of what is
// selected; Escape goes back to the text.
import { Plugin, NodeSelection } from "prosemirror-state";
import { schema } from "./schema.js";
import { escapeAttr } from "./xml.js";
import { h } from "./dom.js";

const S = schema.nodes, M = schema.marks;

// ---------- what is selected ----------

/** The run of `mark` around `$pos` in its text block: {from, to}. */
function markRange($pos, mark) {
  const parent = $pos.parent;
  let pos = $pos.start(), runFrom = null;
  for (let i = 0; i < parent.childCount; i++) {
    const c = parent.child(i);
    const end = pos + c.nodeSize;
    if (mark.isInSet(c.marks)) {
      if (runFrom === null) runFrom = pos;
      const last = i + 1 === parent.childCount || !mark.isInSet(parent.child(i + 1).marks);
      if (last && $pos.pos >= runFrom && $pos.pos <= end) return { from: runFrom, to: end };
    } else runFrom = null;
    pos = end;
  }
  return null;
}

/** What the popover is about: a node (link, mention, image, date) or a web link's text. */
export function selectedTarget(state) {
  const sel = state.selection;
  if (sel instanceof NodeSelection) {
    const n = sel.node;
    if (n.type === S.ac_link) return { type: n.attrs.kind === "user" ? "mention" : "link", pos: sel.from, node: n };
    if (n.type === S.image) return { type: "image", pos: sel.from, node: n };
    if (n.type === S.time) return { type: "time", pos: sel.from, node: n };
    return null;
  }
  const { $from, $to } = sel;
  if (!$from.parent.inlineContent || $from.parent !== $to.parent) return null;
  let here = $from.marks().find((m) => m.type === M.link);
  // A selection that starts where the link does (a double-clicked word).
  if (!here && !sel.empty && $from.nodeAfter) here = $from.nodeAfter.marks.find((m) => m.type === M.link);
  if (!here) return null;
  const r = markRange($from, here);
  if (!r || $to.pos > r.to) return null;
  return { type: "url", mark: here, from: r.from, to: r.to };
}

function sameTarget(a, b) {
  if (!a || !b || a.type !== b.type) return false;
  if (a.node) return a.pos === b.pos && a.node === b.node;
  return a.from === b.from && a.to === b.to && a.mark.eq(b.mark);
}

// ---------- the ri: target of a link, read and written ----------

function readTarget(xml) {
  const d = new DOMParser().parseFromString(`<x xmlns:ac="a" xmlns:ri="r">${xml || ""}</x>`, "application/xml");
  const el = d.documentElement.firstElementChild;
  const out = {};
  if (el && !d.querySelector("parsererror")) for (const a of el.attributes) out[a.name] = a.value;
  return out;
}

function pageTarget(title, space) {
  return `<ri:page${space ? ` ri:space-key="${escapeAttr(space)}"` : ""} ri:content-title="${escapeAttr(title)}"/>`;
}

/** `attrs` (raw ` name="v"` text) with `name` set to `value` (removed when empty). */
export function setXattr(xattrs, name, value) {
  const re = new RegExp(`\\s+${name.replace(/[.:-]/g, "\\$&")}\\s*=\\s*("[^"]*"|'[^']*')`);
  const rest = (xattrs || "").replace(re, "");
  return value ? ` ${name}="${escapeAttr(value)}"` + rest : rest;
}

function xattrValue(xattrs, name) {
  const m = new RegExp(`\\s${name.replace(/[.:-]/g, "\\$&")}\\s*=\\s*("([^"]*)"|'([^']*)')`).exec(xattrs || "");
  if (!m) return "";
  const t = document.createElement("textarea");
  t.innerHTML = m[2] != null ? m[2] : m[3];
  return t.value;
}

const KIND_NAMES = { page: "page", "blog-post": "blog post", attachment: "attachment", anchor: "anchor", url: "web address", space: "space", "content-entity": "content", shortcut: "shortcut" };

// ---------- the popover ----------

class Popover {
  constructor(view, ed) {
    this.view = view;
    this.ed = ed;
    this.target = null;
    this.editing = false;
    const id = (s) => (ed.idOf ? ed.idOf(s) : s);
    this.idOf = id;
    this.dom = h("div", { class: "rich-popover", id: id("rich-popover"), role: "dialog", "aria-label": "Link", hidden: true });
    this.dom.addEventListener("keydown", (e) => {
      if (e.key === "Escape") {
        e.preventDefault();
        e.stopPropagation();
        this.editing = false;
        this.view.focus();
        this.show(this.target);
      }
    });
    (ed.wrap || view.dom.parentNode).append(this.dom);
    this.update(view, null);
  }

  update(view, prev) {
    const st = view.state;
    if (prev && prev.doc === st.doc && prev.selection.eq(st.selection)) return;
    const t = selectedTarget(st);
    if (sameTarget(t, this.target) && !this.dom.hidden) {
      this.place();
      return;
    }
    if (!t && this.dom.hidden) return;
    this.editing = false;
    this.show(t);
  }

  destroy() {
    this.dom.remove();
  }

  place() {
    const t = this.target;
    if (!t) return;
    const at = t.node ? t.pos : t.from;
    let c;
    try {
      c = this.view.coordsAtPos(at);
    } catch (_) {
      return;
    }
    const box = this.dom.offsetParent ? this.dom.offsetParent.getBoundingClientRect() : { left: 0, top: 0 };
    this.dom.style.left = `${Math.max(0, c.left - box.left)}px`;
    this.dom.style.top = `${c.bottom - box.top + 4}px`;
  }

  // A line saying what it is, with Edit and Remove; or the form.
  show(t) {
    this.target = t;
    if (!t) {
      this.dom.hidden = true;
      this.dom.replaceChildren();
      return;
    }
    const names = { link: "Link", url: "Link", mention: "Mention", image: "Image", time: "Date" };
    this.dom.setAttribute("aria-label", names[t.type]);
    this.dom.hidden = false;
    if (this.editing) this.form(t);
    else this.summary(t);
    this.place();
  }

  summary(t) {
    const a = t.node ? t.node.attrs : null;
    let what, edit, remove;
    if (t.type === "link") {
      const r = readTarget(a.target);
      const where = a.kind === "page" ? `page “${r["ri:content-title"] || ""}”${r["ri:space-key"] ? " in " + r["ri:space-key"] : ""}` : a.kind === "attachment" ? `attachment ${r["ri:filename"] || ""}` : a.kind === "url" ? r["ri:value"] || "" : a.kind === "anchor" ? "" : `${KIND_NAMES[a.kind] || a.kind} ${a.label}`;
      what = `Link to ${where}${a.anchor ? "#" + a.anchor : ""}`;
      [edit, remove] = ["Edit link", "Remove link"];
    } else if (t.type === "url") {
      what = `Link to ${t.mark.attrs.href}`;
      [edit, remove] = ["Edit link", "Remove link"];
    } else if (t.type === "mention") {
      what = `Mention of ${a.label || "someone"}`;
      [edit, remove] = ["Change person", "Remove mention"];
    } else if (t.type === "image") {
      what = `Image ${a.label}${a.width || a.height ? ` (${a.width || "auto"} × ${a.height || "auto"})` : ""}${a.align ? ", " + a.align : ""}`;
      [edit, remove] = ["Edit image", "Remove image"];
    } else {
      what = `Date ${a.datetime}`;
      [edit, remove] = ["Change date", "Remove date"];
    }
    const e = h("button", { type: "button", class: "pop-edit", id: this.idOf("pop-edit") }, edit);
    const x = h("button", { type: "button", class: "pop-remove", id: this.idOf("pop-remove") }, remove);
    // The text keeps its focus (and selection) when these are clicked.
    for (const b of [e, x]) b.addEventListener("mousedown", (ev) => ev.preventDefault());
    e.addEventListener("click", () => this.open());
    x.addEventListener("click", () => this.remove());
    const hint = h("span", { class: "pop-hint" }, " (Alt+Enter)");
    this.dom.replaceChildren(h("span", { class: "pop-what", "aria-live": "polite" }, what), hint, e, x);
  }

  /** Opens the form of the selected link, mention, image or date and focuses it. */
  open() {
    const t = selectedTarget(this.view.state);
    if (!t) return false;
    this.editing = true;
    this.show(t);
    const first = this.dom.querySelector("input, select");
    if (first) first.focus();
    return true;
  }

  done() {
    this.editing = false;
    this.view.focus();
    this.show(selectedTarget(this.view.state));
  }

  remove() {
    const t = this.target;
    if (!t) return;
    const st = this.view.state;
    let tr;
    if (t.type === "url") tr = st.tr.removeMark(t.from, t.to, t.mark);
    else if (t.type === "link") tr = st.tr.replaceWith(t.pos, t.pos + t.node.nodeSize, schema.text(t.node.attrs.label || " ", t.node.marks));
    else tr = st.tr.delete(t.pos, t.pos + t.node.nodeSize);
    this.editing = false;
    this.view.dispatch(tr.scrollIntoView());
    this.view.focus();
  }

  form(t) {
    const err = h("p", { class: "rich-dialog-error", role: "alert" });
    const body = h("div", { class: "pop-fields" });
    let apply;
    if (t.type === "link" || t.type === "url") apply = this.linkForm(t, body);
    else if (t.type === "mention") apply = this.mentionForm(t, body);
    else if (t.type === "image") apply = this.imageForm(t, body);
    else apply = this.timeForm(t, body);
    const save = h("button", { type: "submit", class: "primary", id: this.idOf("pop-save") }, "Save");
    const cancel = h("button", { type: "button", id: this.idOf("pop-cancel") }, "Cancel");
    cancel.addEventListener("click", () => this.done());
    // Not a <form>: the popover sits inside the page's form.
    const f = h("div", { class: "pop-form" }, body, err, h("div", { class: "rich-dialog-buttons" }, save, cancel));
    const submit = () => {
      try {
        if (apply && apply() === false) return;
        this.done();
      } catch (x) {
        err.textContent = x.message;
      }
    };
    save.type = "button";
    save.addEventListener("click", submit);
    f.addEventListener("keydown", (e) => {
      if (e.defaultPrevented) return;
      if (e.key === "Enter" && e.target.tagName === "INPUT" && e.target.getAttribute("aria-expanded") !== "true") {
        e.preventDefault();
        submit();
      }
    });
    this.dom.replaceChildren(f);
  }

  field(key, label, value, attrs) {
    const id = this.idOf("pop-" + key);
    const input = h("input", { id, type: "text", value: value || "", ...(attrs || {}) });
    return { input, box: h("div", { class: "pop-field" }, h("label", { for: id }, label), input) };
  }

  linkForm(t, body) {
    const ed = this.ed;
    const a = t.node ? t.node.attrs : null;
    const r = a ? readTarget(a.target) : {};
    const kind0 = t.type === "url" ? "web" : a.kind === "url" ? "web" : a.kind;
    const text0 = t.type === "url" ? this.view.state.doc.textBetween(t.from, t.to, "") : a.label;
    const kinds = [["page", "A page"], ["attachment", "An attachment"], ["anchor", "An anchor on this page"], ["web", "A web address"]];
    if (!kinds.some(([k]) => k === kind0)) kinds.push([kind0, `The same ${KIND_NAMES[kind0] || kind0} (edit it in Source mode)`]);
    const kid = this.idOf("pop-kind");
    const kind = h("select", { id: kid }, ...kinds.map(([k, l]) => h("option", { value: k, selected: k === kind0 }, l)));
    let chosen = null;
    const page = ed.combo(this.idOf("pop-page"), "Page title", async (q) => {
      chosen = null;
      if (!q) return [];
      const space = (ed.form.elements.namedItem("space") || {}).value || "";
      const res = await fetch("/ui/pages/complete?" + new URLSearchParams({ q, space }), { credentials: "same-origin" });
      const v = res.ok ? await res.json() : { results: [] };
      return v.results.map((p) => ({ label: p.title, detail: p.spaceKey, value: p }));
    }, (it) => {
      chosen = it.value;
      page.input.value = it.value.title;
      page.list.replaceChildren();
      page.input.setAttribute("aria-expanded", "false");
      const here = (ed.form.elements.namedItem("space") || {}).value || "";
      space.input.value = it.value.spaceKey === here ? "" : it.value.spaceKey;
    });
    page.input.value = kind0 === "page" ? r["ri:content-title"] || "" : "";
    const space = this.field("space", "Space key (empty: this page's space)", kind0 === "page" ? r["ri:space-key"] || "" : "");
    const anchor = this.field("anchor", "Anchor (optional for a page)", a ? a.anchor : "");
    const file = this.field("file", "File name", kind0 === "attachment" ? r["ri:filename"] || "" : "");
    const web = this.field("web", "Web address", t.type === "url" ? t.mark.attrs.href : kind0 === "web" ? r["ri:value"] || "" : "", { type: "url" });
    const text = this.field("text", "Link text", text0);
    const boxes = { page: [page.box, space.box, anchor.box], attachment: [file.box], anchor: [anchor.box], web: [web.box] };
    const shown = () => {
      for (const [k, list] of Object.entries(boxes)) for (const b of list) if (k !== kind.value) b.hidden = true;
      for (const b of boxes[kind.value] || []) b.hidden = false;
    };
    kind.addEventListener("change", shown);
    body.append(h("div", { class: "pop-field" }, h("label", { for: kid }, "Link to"), kind), page.box, space.box, file.box, web.box, anchor.box, text.box);
    shown();
    return () => {
      const k = kind.value;
      const label = text.input.value;
      const st = this.view.state;
      const marks = t.node ? t.node.marks : (st.doc.resolve(t.from).nodeAfter || { marks: [] }).marks.filter((m) => m.type !== M.link);
      if (k === "web" && (t.type === "url" || a.kind !== "url")) {
        const href = web.input.value.trim();
        if (!href) throw new Error("Say where the link goes: a web address.");
        const mk = M.link.create({ href, xattrs: t.type === "url" && t.mark.attrs.href === href ? t.mark.attrs.xattrs : "" });
        if (t.type === "url" && label === text0) {
          this.view.dispatch(st.tr.removeMark(t.from, t.to, t.mark).addMark(t.from, t.to, mk));
        } else {
          const at = t.node ? t.pos : t.from, end = t.node ? t.pos + t.node.nodeSize : t.to;
          this.view.dispatch(st.tr.replaceWith(at, end, schema.text(label || href, mk.addToSet(marks))));
        }
        return;
      }
      let target = a ? a.target : "", anc = "", natural;
      if (k === "page") {
        const title = page.input.value.trim();
        if (!title) throw new Error("Say which page: its title.");
        const sp = space.input.value.trim();
        target = chosen && chosen.title === title ? pageTarget(title, sp) : r["ri:content-title"] === title && (r["ri:space-key"] || "") === sp && a && a.kind === "page" ? a.target : pageTarget(title, sp);
        anc = anchor.input.value.trim().replace(/^#/, "");
        natural = title;
      } else if (k === "attachment") {
        const name = file.input.value.trim();
        if (!name) throw new Error("Say which attachment: its file name.");
        target = a && a.kind === "attachment" && r["ri:filename"] === name ? a.target : `<ri:attachment ri:filename="${escapeAttr(name)}"/>`;
        natural = name;
      } else if (k === "anchor") {
        anc = anchor.input.value.trim().replace(/^#/, "");
        if (!anc) throw new Error("Say which anchor.");
        target = "";
        natural = "#" + anc;
      } else if (k === "web") {
        const href = web.input.value.trim();
        if (!href) throw new Error("Say where the link goes: a web address.");
        target = r["ri:value"] === href ? a.target : `<ri:url ri:value="${escapeAttr(href)}"/>`;
        natural = href;
      } else {
        anc = a.anchor;
        natural = a.label;
      }
      const kindOut = k === "web" ? "url" : k;
      // Text left as it was stays as it was (a link titled from its target
      // follows the new target); other text is the link's body.
      let bodyKind = "none", bodyText = "", shown = natural;
      if (a && label === text0) [bodyKind, bodyText, shown] = [a.bodyKind, a.body, a.bodyKind === "none" ? natural : a.label];
      else if (label && label !== natural) [bodyKind, bodyText, shown] = ["plain", label, label];
      const attrs = { kind: kindOut, target, anchor: anc, bodyKind, body: bodyText, label: shown };
      if (t.node) {
        this.view.dispatch(st.tr.setNodeMarkup(t.pos, null, { ...t.node.attrs, ...attrs }));
        this.view.dispatch(this.view.state.tr.setSelection(NodeSelection.create(this.view.state.doc, t.pos)));
      } else {
        this.view.dispatch(st.tr.replaceWith(t.from, t.to, S.ac_link.create(attrs, null, marks)));
      }
    };
  }

  mentionForm(t, body) {
    const ed = this.ed;
    const c = ed.combo(this.idOf("pop-person"), "Person", async (q) => {
      if (!q) return [];
      const res = await fetch("/ui/users?" + new URLSearchParams({ q, ...(ed.pageId ? { page: ed.pageId } : {}) }), { credentials: "same-origin" });
      const v = res.ok ? await res.json() : { results: [] };
      return v.results.map((u) => ({ label: u.displayName, detail: "@" + u.username + (u.canSee === false ? " (cannot see this page)" : ""), value: u }));
    }, (it) => {
      const u = it.value;
      const cur = this.view.state.doc.nodeAt(t.pos);
      if (cur && cur.type === S.ac_link) {
        const target = `<ri:user ri:userkey="${escapeAttr(u.userKey)}"/>`;
        const attrs = cur.attrs.target === target ? cur.attrs : { ...cur.attrs, target, label: u.displayName, bodyKind: "none", body: "" };
        if (attrs !== cur.attrs) this.view.dispatch(this.view.state.tr.setNodeMarkup(t.pos, null, attrs));
        this.view.dispatch(this.view.state.tr.setSelection(NodeSelection.create(this.view.state.doc, t.pos)));
      }
      this.done();
    });
    body.append(c.box, h("p", { class: "meta" }, "Type a name and choose the person."));
    return () => {
      if (c.input.value.trim()) throw new Error("Choose the person from the list.");
    };
  }

  imageForm(t, body) {
    const a = t.node.attrs;
    const num = { inputmode: "numeric", autocomplete: "off" };
    const w = this.field("width", "Width (pixels)", a.width, num);
    const hh = this.field("height", "Height (pixels)", a.height, num);
    const aid = this.idOf("pop-align");
    const align = h("select", { id: aid }, ...[["", "Default"], ["left", "Left"], ["center", "Centre"], ["right", "Right"]].map(([v, l]) => h("option", { value: v, selected: v === a.align }, l)));
    const alt = this.field("alt", "Alternative text", a.alt);
    const title0 = xattrValue(a.xattrs, "ac:title");
    const title = this.field("title", "Title", title0);
    const src0 = a.url || a.label;
    const src = this.field("src", "Source (attachment name or web address)", src0);
    body.append(h("div", { class: "pop-row" }, w.box, hh.box), h("div", { class: "pop-field" }, h("label", { for: aid }, "Alignment"), align), alt.box, title.box, src.box);
    return () => {
      const px = (f, what) => {
        const v = f.input.value.trim();
        if (v && !/^\d+$/.test(v)) throw new Error(`The ${what} is a number of pixels.`);
        return v;
      };
      const attrs = { ...a, width: px(w, "width"), height: px(hh, "height"), align: align.value, alt: alt.input.value };
      if (title.input.value !== title0) attrs.xattrs = setXattr(a.xattrs, "ac:title", title.input.value);
      const s = src.input.value.trim();
      if (!s) throw new Error("Say which image: an attachment name or a web address.");
      if (s !== src0) {
        const url = /^https?:\/\//.test(s);
        Object.assign(attrs, { target: url ? `<ri:url ri:value="${escapeAttr(s)}"/>` : `<ri:attachment ri:filename="${escapeAttr(s)}"/>`, url: url ? s : "", label: s });
      }
      const same = Object.keys(attrs).every((k) => attrs[k] === a[k]);
      if (same) return;
      this.view.dispatch(this.view.state.tr.setNodeMarkup(t.pos, null, attrs));
      this.view.dispatch(this.view.state.tr.setSelection(NodeSelection.create(this.view.state.doc, t.pos)));
    };
  }

  timeForm(t, body) {
    const a = t.node.attrs;
    const d = this.field("date", "Date", /^\d{4}-\d{2}-\d{2}$/.test(a.datetime) ? a.datetime : "", { type: "date" });
    body.append(d.box);
    return () => {
      const v = d.input.value;
      if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) throw new Error("Choose a date.");
      if (v === a.datetime) return;
      this.view.dispatch(this.view.state.tr.setNodeMarkup(t.pos, null, { ...a, datetime: v }));
      this.view.dispatch(this.view.state.tr.setSelection(NodeSelection.create(this.view.state.doc, t.pos)));
    };
  }
}

/**
 * The plugin of in-place editing: the popover (a plugin view, `ed.popover`)
 * and Alt+Enter / Ctrl+K to open its form.
 */
export function popoverPlugins(ed) {
  let pop = null;
  return [
    new Plugin({
      view(view) {
        pop = new Popover(view, ed);
        ed.popover = pop;
        return pop;
      },
      props: {
        handleKeyDown(view, e) {
          if (!pop) return false;
          const altEnter = e.key === "Enter" && e.altKey && !e.ctrlKey && !e.metaKey;
          const modK = (e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === "k";
          if (altEnter || (modK && /^(link|url)$/.test((selectedTarget(view.state) || {}).type || ""))) {
            if (pop.open()) {
              e.preventDefault();
              return true;
            }
          }
          return false;
        },
      },
    }),
  ];
}
