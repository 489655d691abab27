// The rich-text editor in the page editor's form. Contract with the form
// (and with the drafts' autosave, which listens to the form's input
// events): in rich mode `textarea#body` always holds the serialized storage
// format (updated shortly after every change and before submit, with an
// `input` event) and `format` is "storage"; Source and Markdown modes are
// the plain text area as before.
import { EditorState, Selection, TextSelection, NodeSelection, Plugin, PluginKey } from "prosemirror-state";
import { EditorView, Decoration, DecorationSet } from "prosemirror-view";
import { keymap } from "prosemirror-keymap";
import { history, undo, redo } from "prosemirror-history";
import { baseKeymap, toggleMark, setBlockType, wrapIn, chainCommands, exitCode } from "prosemirror-commands";
import { wrapInList, splitListItem, liftListItem, sinkListItem } from "prosemirror-schema-list";
import { inputRules, InputRule, wrappingInputRule, textblockTypeInputRule } from "prosemirror-inputrules";
import { dropCursor } from "prosemirror-dropcursor";
import { gapCursor } from "prosemirror-gapcursor";
import { tableEditing, columnResizing, goToNextCell, addRowAfter, addColumnAfter, deleteRow, deleteColumn, mergeCells, splitCell, toggleHeaderRow } from "prosemirror-tables";
import { DOMParser as PMDOMParser, Slice, Fragment, NodeRange } from "prosemirror-model";
import { schema, labelOf } from "./schema.js";
import { parse, serialize, SECTION, SECTIONED } from "./storage.js";
import { escapeAttr, escapeText } from "./xml.js";
import { cleanHtml, looksLikeMarkdown } from "./paste.js";
import { toMarkdown } from "./markdown.js";
import { popoverPlugins } from "./popovers.js";
import { taskPlugins } from "./tasks.js";
import { findPlugin, FindBar } from "./find.js";
import { h } from "./dom.js";

const S = schema.nodes, M = schema.marks;

function formField(form, name) {
  const f = form.elements.namedItem(name);
  return f && f.value !== undefined ? f.value : "";
}

async function post(form, url, fields) {
  const body = new URLSearchParams({ _csrf: formField(form, "_csrf"), space: formField(form, "space"), id: formField(form, "id"), ...fields });
  const r = await fetch(url, { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body });
  if (!r.ok) throw new Error(`${url}: ${r.status}`);
  return r.text();
}

// ---------- macros: the list, their previews ----------

let macroList = null;
function macros() {
  if (!macroList) {
    macroList = fetch("/ui/macros", { credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : { results: [] }))
      .then((v) => v.results || [])
      .catch(() => []);
  }
  return macroList;
}

// Macro output comes from the server (the plugin renders it): cached by the
// macro's storage format, fetched only for macros on screen, two at a time,
// so a long page does not send hundreds of requests while someone types.
const previewCache = new Map();
const previewQueue = [];
let previewsInFlight = 0;
function pumpPreviews() {
  while (previewsInFlight < 2 && previewQueue.length) {
    const job = previewQueue.shift();
    previewsInFlight++;
    post(job.form, "/ui/preview", { format: "storage", body: job.xml })
      .catch(() => '<p class="muted">The preview is not available.</p>')
      .then((html) => {
        previewsInFlight--;
        job.resolve(html);
        pumpPreviews();
      });
  }
}
function macroPreview(form, xml) {
  if (!previewCache.has(xml)) {
    previewCache.set(xml, new Promise((resolve) => previewQueue.push({ form, xml, resolve })));
    pumpPreviews();
  }
  return previewCache.get(xml);
}
const onScreen = typeof IntersectionObserver === "function"
  ? new IntersectionObserver((entries) => {
      for (const e of entries) {
        if (!e.isIntersecting) continue;
        onScreen.unobserve(e.target);
        const view = e.target.cairnMacroView;
        if (view) view.render();
      }
    }, { rootMargin: "400px" })
  : null;

function paramText(raw) {
  const d = new DOMParser().parseFromString(`<x xmlns:ac="a" xmlns:ri="r">${raw}</x>`, "application/xml");
  if (d.querySelector("parsererror")) return raw;
  const page = d.getElementsByTagName("ri:page")[0];
  if (page) return page.getAttribute("ri:content-title") || "";
  return d.documentElement.textContent;
}

function paramXml(type, value) {
  if (type === "page" && value) return `<ac:link><ri:page ri:content-title="${escapeAttr(value)}"/></ac:link>`;
  return escapeText(value);
}

class MacroView {
  constructor(node, view, getPos, ed) {
    this.node = node;
    this.ed = ed;
    this.view = view;
    this.getPos = getPos;
    const inline = node.type === S.macro_inline;
    const rich = node.type === S.macro_rich;
    this.dom = h(inline ? "span" : "div", { class: inline ? "cairn-macro-inline" : rich ? "cairn-macro-rich" : "cairn-macro", "data-macro": node.attrs.name });
    const edit = h("button", { type: "button", class: "cairn-macro-edit", "aria-label": `Edit the ${node.attrs.name} macro`, contenteditable: "false" }, "Edit");
    edit.addEventListener("mousedown", (e) => e.preventDefault());
    edit.addEventListener("click", () => ed.editMacro(this.getPos()));
    this.head = h(inline ? "span" : "div", { class: "cairn-macro-head", contenteditable: "false" }, h("span", { class: "cairn-macro-name" }, node.attrs.name), edit);
    this.out = h(inline ? "span" : "div", { class: "cairn-macro-out", contenteditable: "false" });
    this.dom.append(this.head);
    if (rich) {
      this.contentDOM = h("div", { class: "cairn-macro-body" });
      this.dom.append(this.contentDOM);
    } else {
      this.dom.append(this.out);
      this.dom.cairnMacroView = this;
      if (onScreen) onScreen.observe(this.dom);
      else this.render();
    }
  }
  render() {
    this.shown = true;
    const xml = serialize(this.node);
    macroPreview(this.ed.form, xml).then((html) => {
      if (this.node && serialize(this.node) === xml) this.out.innerHTML = html;
    });
  }
  update(node) {
    if (node.type !== this.node.type) return false;
    const same = node.attrs.name === this.node.attrs.name && JSON.stringify(node.attrs.params) === JSON.stringify(this.node.attrs.params) && node.attrs.body === this.node.attrs.body;
    this.node = node;
    if (!same && !this.contentDOM && this.shown) this.render();
    return true;
  }
  destroy() {
    if (onScreen) onScreen.unobserve(this.dom);
    this.dom.cairnMacroView = null;
  }
  stopEvent(e) {
    return !!e.target.closest && !!e.target.closest(".cairn-macro-head");
  }
  ignoreMutation(m) {
    return !this.contentDOM || !this.contentDOM.contains(m.target);
  }
}

class AtomView {
  constructor(node, ed) {
    const a = node.attrs;
    const t = node.type.name;
    if (t === "image") {
      const src = a.url || (ed.pageId && a.label ? `/download/attachments/${ed.pageId}/${encodeURIComponent(a.label)}` : "");
      this.dom = h("span", { class: "cairn-image" + (a.align ? " align-" + a.align : "") });
      if (src) this.dom.append(h("img", { src, alt: a.alt || a.label, width: a.width || null, height: a.height || null }));
      else this.dom.append(labelOf(node));
    } else if (t === "emoticon") {
      this.dom = a.fallback ? h("span", { class: "cairn-emoticon" }, a.fallback) : h("img", { class: "cairn-emoticon", src: `/assets/emoticons/${a.name}.svg`, alt: a.name });
    } else if (t === "ac_link") {
      this.dom = h("span", { class: a.kind === "user" ? "cairn-mention" : "cairn-link", title: a.kind === "user" ? "Mention" : `Link to ${a.kind} ${a.label}` }, labelOf(node));
    } else if (t === "time") {
      this.dom = h("time", { class: "cairn-time", datetime: a.datetime }, a.datetime);
    } else {
      this.dom = h(node.isInline ? "span" : "div", { class: "cairn-opaque", title: "Kept exactly as written (edit it in Source mode)" }, node.attrs.xml.length > 80 ? node.attrs.xml.slice(0, 80) + "…" : node.attrs.xml);
    }
  }
}

// ---------- the editor ----------

const EMOTICONS = ["smile", "sad", "cheeky", "laugh", "wink", "thumbs-up", "thumbs-down", "information", "tick", "cross", "warning", "plus", "minus", "question", "light-on", "light-off", "yellow-star", "red-star", "green-star", "blue-star"];

function markActive(state, type) {
  const { from, $from, to, empty } = state.selection;
  if (empty) return !!type.isInSet(state.storedMarks || $from.marks());
  return state.doc.rangeHasMark(from, to, type);
}

function insertNode(node) {
  return (state, dispatch) => {
    if (dispatch) dispatch(state.tr.replaceSelectionWith(node).scrollIntoView());
    return true;
  };
}

function taskListCmd(state, dispatch) {
  const { $from, $to } = state.selection;
  const range = $from.blockRange($to);
  if (!range) return false;
  if (!dispatch) return true;
  const blocks = [];
  state.doc.nodesBetween(range.start, range.end, (n, pos, parent) => {
    if (parent === range.parent) blocks.push(n);
    return false;
  });
  let id = Date.now() % 100000;
  const items = blocks.map((b) => S.task_item.create({ taskId: String(id++) }, b.isTextblock ? S.paragraph.create(null, b.content) : b));
  const tr = state.tr.replaceWith(range.start, range.end, S.task_list.create(null, items));
  // The selection stays on the same text, now in the tasks.
  const at = (p) => {
    let old = range.start, now = range.start + 1;
    for (let i = 0; i < blocks.length; i++) {
      if (p < old + blocks[i].nodeSize || i === blocks.length - 1) return now + 1 + Math.max(0, Math.min(p - old, blocks[i].nodeSize));
      old += blocks[i].nodeSize;
      now += items[i].nodeSize;
    }
    return now;
  };
  tr.setSelection(TextSelection.between(tr.doc.resolve(at($from.pos)), tr.doc.resolve(at($to.pos))));
  dispatch(tr.scrollIntoView());
  return true;
}

function newTable(rows, cols) {
  const cell = (t) => t.create(null, S.paragraph.create());
  const rs = [];
  for (let r = 0; r < rows; r++) {
    const cs = [];
    for (let c = 0; c < cols; c++) cs.push(cell(r === 0 ? S.table_header : S.table_cell));
    rs.push(S.table_row.create(null, cs));
  }
  return S.table.create(null, rs);
}

// Long pages: a body of more than SECTIONED top-level blocks is edited as
// sections of SECTION blocks (schema.js; storage.js parses it so). Only the
// sections on and near the screen, and those around the selection, are
// displayed; each other one is an empty placeholder (`div.rich-far`, a leaf
// to ProseMirror), its height (the sum of its blocks', measured once shown,
// else the average of their type) kept as a margin on the next displayed
// section, so the page scrolls as if it were there. The document stays
// whole: the selection, undo and the round trip are as on a short page.
// What this saves on every key of a 1 MB page (7,600 blocks, 160 sections):
// Chromium's style, layout and paint of what is off screen, and the walks
// of its editing step from the start of the editable element (syncing the
// selection and the text around it for input methods), which grow with the
// nodes before the caret; ProseMirror's update of the top-level nodes
// (their decorations, the copy of the document's children) and the writing
// back of the page (by section, storage.js). The caret's section, and its
// neighbour when the caret is within NEAR blocks of their boundary, is
// always displayed, so what is typed, a block an input rule makes and the
// arrow keys never reach a placeholder. Scrolling moves the window (a
// transaction with windowKey's meta). The browser's find-in-page does not
// see hidden sections; the editor's own Find and replace (find.js, Ctrl+F)
// searches the document, and the window follows the match it selects.
const NEAR = 12;
const windowKey = new PluginKey("cairnWindow");
const isLong = (doc) => doc.firstChild.type === S.section;
// Heights by block (nodes are immutable: an unchanged block keeps its height).
const heights = new WeakMap();
const typeHeights = new Map();
function blockEstimate(n) {
  const h = heights.get(n);
  if (h !== undefined) return h;
  const t = typeHeights.get(n.type.name);
  return t ? t[0] / t[1] : 40;
}
function estimate(section) {
  let h = 0;
  for (let i = 0; i < section.childCount; i++) h += blockEstimate(section.child(i));
  return h;
}
function measured(n, h) {
  if (heights.has(n)) return;
  heights.set(n, h);
  const t = typeHeights.get(n.type.name) || [0, 0];
  t[0] += h;
  t[1]++;
  typeHeights.set(n.type.name, t);
}

// A section without the window's decoration is a placeholder, one with it
// is a `div.rich-section` holding its blocks; each gives way to the other
// (its update fails) when that changes.
const isNear = (d) => d.spec.near;
class FarSection {
  constructor() {
    this.dom = document.createElement("div");
    this.dom.className = "rich-far";
  }
  update(node, outer) {
    return !outer.some(isNear);
  }
  ignoreMutation() {
    return true;
  }
}
class NearSection {
  constructor() {
    this.dom = this.contentDOM = document.createElement("div");
    this.dom.className = "rich-section";
  }
  update(node, outer) {
    return outer.some(isNear);
  }
}
const sectionView = (node, view, getPos, outer) => (outer.some(isNear) ? new NearSection() : new FarSection());

// The sections the selection needs displayed: those of its ends, and the
// neighbour of an end within NEAR blocks of their boundary.
function selectionSections(doc, sel) {
  const out = [];
  for (const $p of [sel.$anchor, sel.$head]) {
    const i = $p.index(0);
    if ($p.depth === 0) {
      out.push(i - 1, i);
      continue;
    }
    const j = $p.index(1);
    out.push(i);
    if (j < NEAR) out.push(i - 1);
    if (j >= doc.child(i).childCount - NEAR) out.push(i + 1);
  }
  return out;
}

// The decorations: class "near" on the displayed sections; a margin for the
// hidden ones before each displayed run, and after the last.
function windowDecorations(doc, sel, from, to) {
  const near = new Set(selectionSections(doc, sel));
  const decos = [];
  let pos = 0, gap = 0, last = null;
  for (let i = 0; i < doc.childCount; i++) {
    const n = doc.child(i);
    if ((i >= from && i <= to) || near.has(i)) {
      last = { pos, n, gap };
      decos.push(last);
      gap = 0;
    } else gap += estimate(n);
    pos += n.nodeSize;
  }
  return DecorationSet.create(doc, decos.map((d) => {
    let style = d.gap ? `margin-top:${Math.round(d.gap)}px` : "";
    if (d === last && gap) style += `${style ? ";" : ""}margin-bottom:${Math.round(gap)}px`;
    return Decoration.node(d.pos, d.pos + d.n.nodeSize, style ? { class: "near", style } : { class: "near" }, { near: true });
  }));
}

function blockWindow() {
  const empty = { from: 0, to: 1, key: "", deco: DecorationSet.empty };
  return new Plugin({
    key: windowKey,
    state: {
      init: (config, state) => isLong(state.doc)
        ? { from: 0, to: 1, key: selectionSections(state.doc, state.selection).join(), deco: windowDecorations(state.doc, state.selection, 0, 1) }
        : empty,
      apply(tr, prev, old, state) {
        if (!isLong(state.doc)) return empty;
        const meta = tr.getMeta(windowKey);
        const from = meta ? meta.from : prev.from, to = meta ? meta.to : prev.to;
        const key = selectionSections(state.doc, state.selection).join();
        const same = !meta && old.doc.childCount === state.doc.childCount && key === prev.key;
        if (same && !tr.docChanged) return prev;
        // Typing changes one displayed section: the decorations map over it
        // (unless a section was replaced, which drops its decoration).
        if (same && prev.deco !== DecorationSet.empty) {
          const deco = prev.deco.map(tr.mapping, tr.doc);
          if (deco.find().length === prev.deco.find().length) return { from, to, key, deco, built: false };
        }
        return { from, to, key, deco: windowDecorations(state.doc, state.selection, from, to), built: true };
      },
    },
    props: {
      attributes: (state) => (isLong(state.doc) ? { class: "rich-long" } : {}),
      decorations: (state) => windowKey.getState(state).deco,
    },
    view: (view) => new WindowView(view),
  });
}

class WindowView {
  constructor(view) {
    this.view = view;
    this.frame = 0;
    this.onScroll = () => this.later(false);
    addEventListener("scroll", this.onScroll, { passive: true });
    addEventListener("resize", this.onScroll, { passive: true });
    this.later(true);
  }
  // After the displayed sections change (not after each key in one of them,
  // whose every version would otherwise be measured).
  update(view, prev) {
    const w = windowKey.getState(view.state);
    if (w.built && w !== windowKey.getState(prev)) this.later(true);
  }
  // Measuring and moving the window in the next frame reads a layout the
  // frame needs anyway, instead of forcing one during a key's handling.
  // Blocks are measured when the displayed sections change, not on every
  // scroll (typing at the bottom of the screen scrolls at each new line).
  later(measure) {
    this.measureToo = this.measureToo || measure;
    if (!this.frame) this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      if (this.measureToo) this.measure();
      this.measureToo = false;
      this.follow();
    });
  }
  // Heights of the displayed sections' blocks not measured yet (from the
  // top of each to that of the next, so margins count).
  measure() {
    const { doc } = this.view.state;
    if (!isLong(doc) || !this.view.dom.offsetParent) return;
    for (const d of windowKey.getState(this.view.state).deco.find()) {
      const sec = doc.nodeAt(d.from);
      const dom = this.view.nodeDOM(d.from);
      if (!sec || !dom || !dom.getBoundingClientRect) continue;
      let todo = false;
      sec.forEach((n) => { if (!heights.has(n)) todo = true; });
      if (!todo) continue;
      const tops = [];
      sec.forEach((n, off) => {
        const el = this.view.nodeDOM(d.from + 1 + off);
        tops.push(el && el.getBoundingClientRect ? el.getBoundingClientRect().top : null);
      });
      tops.push(dom.getBoundingClientRect().bottom);
      sec.forEach((n, off, i) => {
        if (tops[i] !== null && tops[i + 1] !== null) measured(n, Math.max(0, tops[i + 1] - tops[i]));
      });
    }
  }
  // Moves the window when the screen (with half a screen either side) is
  // not within the displayed sections around it.
  follow() {
    const { state } = this.view;
    const doc = state.doc;
    if (!isLong(doc) || !this.view.dom.offsetParent) return;
    const { from, to } = windowKey.getState(state);
    const r = this.view.dom.getBoundingClientRect();
    const vh = innerHeight;
    const top = -r.top - vh / 2, bottom = -r.top + vh * 1.5;
    const first = this.view.nodeDOM(this.posOf(from)), last = this.view.nodeDOM(this.posOf(Math.min(to, doc.childCount - 1)));
    if (first && last && first.getBoundingClientRect && first.getBoundingClientRect().top <= Math.max(r.top, -vh / 4) && last.getBoundingClientRect().bottom >= Math.min(r.bottom, vh * 1.25)) return;
    let y = 0, i = 0;
    for (; i < doc.childCount; i++) {
      const h = estimate(doc.child(i));
      if (y + h >= top) break;
      y += h;
    }
    const start = i;
    for (; i < doc.childCount && y < bottom; i++) y += estimate(doc.child(i));
    const end = Math.max(start, i - 1);
    if (start === from && end === to) return;
    this.view.dispatch(state.tr.setMeta(windowKey, { from: start, to: end }).setMeta("addToHistory", false));
  }
  posOf(index) {
    const doc = this.view.state.doc;
    let pos = 0;
    for (let i = 0; i < index && i < doc.childCount; i++) pos += doc.child(i).nodeSize;
    return pos;
  }
  destroy() {
    removeEventListener("scroll", this.onScroll);
    removeEventListener("resize", this.onScroll);
    if (this.frame) cancelAnimationFrame(this.frame);
  }
}

// A page that grows long while it is edited (a long paste, say) comes into
// sections, and a section that grows past twice SECTION blocks is split:
// the steps wrap and split, so positions, the selection and undo map
// through them (each joins the edit's undo step).
function sectioning() {
  return new Plugin({
    appendTransaction(trs, old, state) {
      if (!trs.some((t) => t.docChanged)) return null;
      let tr = null;
      if (!isLong(state.doc)) {
        if (state.doc.childCount <= SECTIONED) return null;
        tr = state.tr.wrap(new NodeRange(state.doc.resolve(0), state.doc.resolve(state.doc.content.size), 0), [{ type: S.section }]);
      }
      const doc = tr ? tr.doc : state.doc;
      const ends = [];
      doc.forEach((sec, off) => {
        if (sec.childCount > 2 * SECTION) ends.push([sec, off]);
      });
      if (!ends.length) return tr;
      tr = tr || state.tr;
      // From the end, so that the positions before each split stay as they were.
      for (const [sec, off] of ends.reverse()) {
        const at = [];
        sec.forEach((b, o, i) => {
          if (i > 0 && i % SECTION === 0 && sec.childCount - i >= SECTION / 2) at.push(off + 1 + o);
        });
        for (const pos of at.reverse()) tr.split(pos);
      }
      return tr;
    },
  });
}

// Runs `cmd` as if the sections joined at `boundaries` (positions between
// two sections, last first) were one, in one transaction: what a command
// does to blocks should not depend on where a long page's sections meet.
function acrossJoins(state, boundaries, cmd, dispatch, view) {
  const tr = state.tr;
  for (const at of boundaries) tr.join(at);
  if (!dispatch) return cmd(state.apply(tr), null, view);
  const out = followedBy(state, tr, cmd, view);
  if (out) dispatch(out);
  return !!out;
}

// `tr` and then what `cmd` does in the state after it, as one transaction;
// null when `cmd` does not apply there.
function followedBy(state, tr, cmd, view) {
  // The state after `tr` includes what plugins append to it (a section
  // split, say): `cmd`'s steps apply after those.
  const { state: mid, transactions } = state.applyTransaction(tr);
  let done = null;
  if (!cmd(mid, (t) => (done = t), view) || !done) return null;
  for (const t of transactions.slice(1)) for (const step of t.steps) tr.step(step);
  for (const step of done.steps) tr.step(step);
  tr.setSelection(Selection.fromJSON(tr.doc, done.selection.toJSON()));
  if (done.storedMarksSet) tr.setStoredMarks(done.storedMarks);
  if (done.scrolledIntoView) tr.scrollIntoView();
  return tr;
}

// Backspace at the start of a section's first block (dir -1), Delete at the
// end of its last (dir 1): the key acts on the blocks either side, as it
// does anywhere else, not on the sections.
function acrossSection(dir, cmd) {
  return (state, dispatch, view) => {
    const { $head, empty } = state.selection;
    if (!empty || !isLong(state.doc) || $head.depth < 2) return false;
    const i = $head.index(0);
    if (dir < 0 ? i === 0 || $head.pos !== $head.start(1) + $head.depth - 1 : i === state.doc.childCount - 1 || $head.pos !== $head.end(1) - $head.depth + 1) return false;
    return acrossJoins(state, [dir < 0 ? $head.before(1) : $head.after(1)], cmd, dispatch, view);
  };
}

// A command on the selected blocks (lists, quotes, tasks) when the
// selection spans sections: on them as if they were one section.
function inOneSection(cmd) {
  return (state, dispatch, view) => {
    const { $from, $to } = state.selection;
    if (!isLong(state.doc) || $from.depth < 1 || $to.depth < 1 || $from.index(0) === $to.index(0)) return cmd(state, dispatch, view);
    const boundaries = [];
    for (let i = $to.index(0); i > $from.index(0); i--) boundaries.push($to.posAtIndex(i, 0));
    return acrossJoins(state, boundaries, cmd, dispatch, view);
  };
}

// Keys the browser would take to the end of what is displayed: to the
// document's start and end instead.
function toEdge(end, extend) {
  return (state, dispatch) => {
    if (!isLong(state.doc)) return false;
    const edge = end ? Selection.atEnd(state.doc) : Selection.atStart(state.doc);
    if (dispatch) dispatch(state.tr.setSelection(extend ? TextSelection.between(state.selection.$anchor, edge.$head) : edge).scrollIntoView());
    return true;
  };
}

export class RichEditor {
  constructor(form) {
    this.form = form;
    this.textarea = form.querySelector("#body");
    this.format = form.querySelector("#format");
    this.pageId = Number(formField(form, "id")) || 0;
    this.syncTimer = null;
    this.mode = null;
    this.buildUi();
  }

  buildUi() {
    const f = this.form;
    this.modes = h("div", { class: "rich-modes", role: "group", "aria-label": "Editing mode" });
    for (const [m, label] of [["rich", "Rich text"], ["source", "Source"], ["markdown", "Markdown"]]) {
      const b = h("button", { type: "button", id: "mode-" + m, "aria-pressed": "false", "data-mode": m }, label);
      b.addEventListener("click", () => this.switchTo(m));
      this.modes.append(b);
    }
    this.toolbar = h("div", { role: "toolbar", "aria-label": "Formatting", "aria-controls": "rich-body", class: "rich-toolbar", id: "rich-toolbar" });
    this.status = h("p", { class: "rich-status", id: "rich-status", "aria-live": "polite" });
    this.mount = h("div", { class: "rich-surface wiki-content" });
    this.findBar = new FindBar(this);
    // The toolbar and the find bar stay at the top of the screen together.
    const head = h("div", { class: "rich-head" }, this.toolbar, this.findBar.el);
    this.wrap = h("div", { class: "rich-editor", id: "rich-editor", hidden: true }, head, this.mount);
    this.textarea.closest(".editor-panes").before(this.modes, this.wrap, this.status);
    this.buttons = [];
    const btn = (id, label, text, run, active) => {
      // The glyph is drawn by CSS (attr(data-glyph)): the button's name is its
      // label alone, not a symbol read aloud or a mismatch with it.
      const b = h("button", { type: "button", id: "tb-" + id, "aria-label": label, title: label, tabindex: "-1", class: "tb", "data-glyph": text });
      if (active) b.setAttribute("aria-pressed", "false");
      b.addEventListener("mousedown", (e) => e.preventDefault());
      b.addEventListener("click", () => {
        run();
        if (!document.querySelector(".rich-dialog") && !this.findBar.el.contains(document.activeElement)) this.view.focus();
      });
      this.buttons.push({ b, active });
      this.toolbar.append(b);
      return b;
    };
    const mark = (t) => () => toggleMark(t)(this.view.state, this.view.dispatch);
    this.block = h("select", { id: "tb-block", "aria-label": "Text style" });
    for (const [v, l] of [["p", "Paragraph"], ["1", "Heading 1"], ["2", "Heading 2"], ["3", "Heading 3"], ["4", "Heading 4"], ["5", "Heading 5"], ["6", "Heading 6"], ["pre", "Preformatted"]]) this.block.append(h("option", { value: v }, l));
    this.block.addEventListener("change", () => {
      const v = this.block.value;
      const t = v === "p" ? S.paragraph : v === "pre" ? S.code_block : S.heading;
      setBlockType(t, v === "p" || v === "pre" ? {} : { level: Number(v) })(this.view.state, this.view.dispatch);
      this.view.focus();
    });
    this.block.tabIndex = 0;
    this.toolbar.append(this.block);
    btn("strong", "Bold (Ctrl+B)", "B", mark(M.strong), M.strong);
    btn("em", "Italic (Ctrl+I)", "I", mark(M.em), M.em);
    btn("underline", "Underline (Ctrl+U)", "U", mark(M.underline), M.underline);
    btn("strike", "Strikethrough", "S", mark(M.strike), M.strike);
    btn("code", "Code", "</>", mark(M.code), M.code);
    btn("sub", "Subscript", "x₂", mark(M.sub), M.sub);
    btn("sup", "Superscript", "x²", mark(M.sup), M.sup);
    this.colour = h("input", { type: "color", id: "tb-colour", "aria-label": "Text colour", tabindex: "-1", value: "#de350b" });
    this.colour.addEventListener("change", () => {
      const { from, to, empty } = this.view.state.selection;
      if (!empty) this.view.dispatch(this.view.state.tr.addMark(from, to, M.color.create({ color: this.colour.value })));
      this.view.focus();
    });
    this.toolbar.append(this.colour);
    btn("bullet", "Bullet list", "•", () => inOneSection(wrapInList(S.bullet_list))(this.view.state, this.view.dispatch));
    btn("ordered", "Numbered list", "1.", () => inOneSection(wrapInList(S.ordered_list))(this.view.state, this.view.dispatch));
    btn("task", "Task list", "☑", () => inOneSection(taskListCmd)(this.view.state, this.view.dispatch));
    btn("quote", "Quote", "❝", () => inOneSection(wrapIn(S.blockquote))(this.view.state, this.view.dispatch));
    btn("link", "Link (Ctrl+K)", "🔗", () => this.linkDialog());
    btn("table", "Insert a table", "▦", () => insertNode(newTable(3, 3))(this.view.state, this.view.dispatch));
    btn("macro", "Insert a macro ({ or /)", "{ }", () => this.macroBrowser());
    btn("image", "Insert an image (!)", "🖼", () => this.imageDialog());
    btn("mention", "Mention someone (@)", "@", () => this.mentionDialog());
    btn("emoticon", "Insert an emoticon", "☺", () => this.emoticonDialog());
    btn("hr", "Horizontal rule", "―", () => insertNode(S.horizontal_rule.create())(this.view.state, this.view.dispatch));
    btn("find", "Find and replace (Ctrl+F)", "🔍", () => this.findBar.open());
    btn("undo", "Undo (Ctrl+Z)", "↶", () => undo(this.view.state, this.view.dispatch));
    btn("redo", "Redo (Ctrl+Y)", "↷", () => redo(this.view.state, this.view.dispatch));
    this.tableTools = h("span", { class: "tb-table", hidden: true });
    const tcmd = (id, label, text, cmd) => {
      const b = btn(id, label, text, () => cmd(this.view.state, this.view.dispatch));
      this.tableTools.append(b);
    };
    tcmd("row-after", "Add a row below", "+row", addRowAfter);
    tcmd("col-after", "Add a column to the right", "+col", addColumnAfter);
    tcmd("row-del", "Delete the row", "−row", deleteRow);
    tcmd("col-del", "Delete the column", "−col", deleteColumn);
    tcmd("merge", "Merge cells", "merge", mergeCells);
    tcmd("split", "Split the cell", "split", splitCell);
    tcmd("header-row", "Toggle the header row", "th", toggleHeaderRow);
    this.toolbar.append(this.tableTools);
    this.rovingFocus("button, select, input");
    f.addEventListener("submit", () => this.flush(), true);
  }

  // Roving focus: one tab stop for the toolbar, arrows move along the
  // controls `selector` names.
  rovingFocus(selector) {
    this.toolbar.addEventListener("keydown", (e) => {
      const items = [...this.toolbar.querySelectorAll(selector)].filter((x) => !x.closest("[hidden]"));
      const i = items.indexOf(document.activeElement);
      if (i < 0) return;
      let j = null;
      if (e.key === "ArrowRight") j = (i + 1) % items.length;
      else if (e.key === "ArrowLeft") j = (i - 1 + items.length) % items.length;
      else if (e.key === "Home") j = 0;
      else if (e.key === "End") j = items.length - 1;
      else if (e.key === "Escape") { e.preventDefault(); this.view.focus(); return; }
      if (j === null) return;
      e.preventDefault();
      this.rove(items, j);
    });
    this.toolbar.addEventListener("focusin", (e) => {
      const items = [...this.toolbar.querySelectorAll(selector)];
      const i = items.indexOf(e.target);
      if (i >= 0) this.rove(items, i, true);
    });
  }

  rove(items, j, noFocus) {
    for (const x of items) x.tabIndex = -1;
    items[j].tabIndex = 0;
    if (!noFocus) items[j].focus();
  }

  plugins() {
    const ed = this;
    const listKeys = {
      Enter: chainCommands(splitListItem(S.list_item), splitListItem(S.task_item)),
      Tab: chainCommands(goToNextCell(1), inOneSection(chainCommands(sinkListItem(S.list_item), sinkListItem(S.task_item)))),
      "Shift-Tab": chainCommands(goToNextCell(-1), inOneSection(chainCommands(liftListItem(S.list_item), liftListItem(S.task_item)))),
    };
    const br = chainCommands(exitCode, (state, dispatch) => {
      if (dispatch) dispatch(state.tr.replaceSelectionWith(S.hard_break.create()).scrollIntoView());
      return true;
    });
    const keys = {
      "Mod-b": toggleMark(M.strong),
      "Mod-i": toggleMark(M.em),
      "Mod-u": toggleMark(M.underline),
      "Mod-Shift-s": toggleMark(M.strike),
      "Mod-e": toggleMark(M.code),
      "Mod-k": () => { ed.linkDialog(); return true; },
      // The page's editor has a find bar; a comment box (CommentEditor)
      // leaves Ctrl+F to the browser.
      "Mod-f": () => { if (!ed.findBar) return false; ed.findBar.open(); return true; },
      "Mod-z": undo,
      "Mod-y": redo,
      "Shift-Mod-z": redo,
      "Shift-Enter": br,
      "Mod-Enter": br,
      "Alt-F10": () => { ed.focusToolbar(); return true; },
      "Mod-Home": toEdge(false, false),
      "Mod-End": toEdge(true, false),
      "Shift-Mod-Home": toEdge(false, true),
      "Shift-Mod-End": toEdge(true, true),
    };
    if (typeof navigator === "object" && /Mac|iP(hone|[oa]d)/.test(navigator.platform)) {
      keys["Mod-ArrowUp"] = toEdge(false, false);
      keys["Mod-ArrowDown"] = toEdge(true, false);
      keys["Shift-Mod-ArrowUp"] = toEdge(false, true);
      keys["Shift-Mod-ArrowDown"] = toEdge(true, true);
    }
    for (let l = 1; l <= 6; l++) keys[`Mod-Alt-${l}`] = setBlockType(S.heading, { level: l });
    keys["Mod-Alt-0"] = setBlockType(S.paragraph);
    const rules = [
      textblockTypeInputRule(/^(#{1,6})\s$/, S.heading, (m) => ({ level: m[1].length })),
      wrappingInputRule(/^\s*([-*])\s$/, S.bullet_list),
      wrappingInputRule(/^(\d+)\.\s$/, S.ordered_list),
      wrappingInputRule(/^\s*>\s$/, S.blockquote),
      // "[] " makes the paragraph a task ("[" opens the link dialog, where
      // "]" typed first gives the "[]" back: linkDialog).
      new InputRule(/^\[\]\s$/, (state, m, start, end) => followedBy(state, state.tr.delete(start, end), taskListCmd)),
      new InputRule(/^```$/, (state, m, start) => {
        const $s = state.doc.resolve(start);
        if ($s.parent.type !== S.paragraph || $s.parent.textContent !== "``") return null;
        const node = S.macro.create({ name: "code", bodyKind: "plain", body: "" });
        const tr = state.tr.replaceWith($s.before(), $s.after(), node);
        setTimeout(() => ed.editMacro($s.before()), 0);
        return tr;
      }),
      // "---" alone in a paragraph: a rule, and the caret in a new paragraph after it.
      new InputRule(/^---$/, (state, m, start) => {
        const $s = state.doc.resolve(start);
        if ($s.parent.type !== S.paragraph || $s.parent.textContent !== "--") return null;
        const tr = state.tr.replaceWith($s.before(), $s.after(), [S.horizontal_rule.create(), S.paragraph.create()]);
        return tr.setSelection(TextSelection.near(tr.doc.resolve($s.before() + 2)));
      }),
    ];
    return [
      ...taskPlugins(ed),
      ...popoverPlugins(ed),
      inputRules({ rules }),
      keymap(listKeys),
      keymap(keys),
      keymap(Object.fromEntries(["Backspace", "Mod-Backspace", "Shift-Backspace", "Delete", "Mod-Delete"].map((k) => [k, acrossSection(k.endsWith("Delete") ? 1 : -1, baseKeymap[k])]))),
      keymap(baseKeymap),
      history(),
      dropCursor(),
      gapCursor(),
      columnResizing(),
      tableEditing(),
      sectioning(),
      blockWindow(),
      ...(ed.findBar ? [findPlugin((state) => ed.findBar.sync(state))] : []),
      new Plugin({
        props: {
          handleTextInput(view, from, to, text) {
            const $f = view.state.doc.resolve(from);
            const before = $f.parent.textBetween(Math.max(0, $f.parentOffset - 1), $f.parentOffset, null, "\ufffc");
            const atWordStart = before === "" || /\s/.test(before);
            if (!atWordStart || !"[@{/!".includes(text) || $f.parent.type.spec.code) return false;
            if (text === "/" && before !== "") return false;
            setTimeout(() => {
              if (text === "@") ed.mentionDialog(text);
              else if (text === "[") ed.linkDialog(text);
              else if (text === "!") ed.imageDialog(text);
              else ed.macroBrowser(text);
            }, 0);
            return true;
          },
          transformPastedHTML: (html) => cleanHtml(html),
          handlePaste: (view, e) => ed.paste(e),
          handleDrop: (view, e) => ed.drop(e),
        },
      }),
    ];
  }

  start(source) {
    const doc = parse(source, { sections: true });
    const state = EditorState.create({ doc, plugins: this.plugins() });
    if (this.view) {
      this.view.updateState(state);
    } else {
      this.view = new EditorView(this.mount, {
        state,
        attributes: { role: "textbox", "aria-multiline": "true", "aria-label": "Body", id: "rich-body", "aria-describedby": "rich-status", spellcheck: "true", class: "rich-body" },
        // The caret is kept clear of the toolbar (which stays at the top of
        // the screen) and, at the bottom, a few lines above the edge: typing
        // on the last line on screen then scrolls once every few lines, not
        // at each one (each scroll costs a frame of its own).
        scrollThreshold: { top: 96, bottom: 0, left: 0, right: 0 },
        scrollMargin: { top: 120, bottom: 96, left: 5, right: 5 },
        nodeViews: {
          ...Object.assign({}, ...state.plugins.map((p) => p.props.nodeViews || {})),
          macro: (n, v, g) => new MacroView(n, v, g, this),
          macro_rich: (n, v, g) => new MacroView(n, v, g, this),
          macro_inline: (n, v, g) => new MacroView(n, v, g, this),
          ac_link: (n) => new AtomView(n, this),
          image: (n) => new AtomView(n, this),
          emoticon: (n) => new AtomView(n, this),
          time: (n) => new AtomView(n, this),
          opaque_block: (n) => new AtomView(n, this),
          opaque_inline: (n) => new AtomView(n, this),
          section: sectionView,
        },
        dispatchTransaction: (tr) => {
          const s = this.view.state.apply(tr);
          this.view.updateState(s);
          if (tr.docChanged) this.schedule();
          this.refreshToolbar();
        },
      });
    }
    this.lastSaved = source;
    this.refreshToolbar();
  }

  // Writing a long page back (and into the text area) costs tens of
  // milliseconds: done when typing pauses and the browser is idle, and
  // always before submit and mode switches (flush).
  // The write waits for an idle period long enough for it (as long as the
  // last one took), so that a key typed just after a pause does not wait
  // behind it; within a second it happens anyway.
  // (A newer change or a flush drops a write still waiting: syncToken.)
  schedule() {
    clearTimeout(this.syncTimer);
    this.syncToken = null;
    this.syncTimer = setTimeout(() => {
      if (typeof requestIdleCallback !== "function") return this.flush();
      const token = (this.syncToken = {});
      const due = performance.now() + 1000;
      const idle = (deadline) => {
        if (this.syncToken !== token) return;
        if (deadline.timeRemaining() < (this.flushMs || 0) && !deadline.didTimeout && performance.now() < due) requestIdleCallback(idle, { timeout: Math.max(1, due - performance.now()) });
        else this.flush();
      };
      requestIdleCallback(idle, { timeout: 1000 });
    }, 250);
  }

  /** Writes the document into textarea#body now (an input event if it changed). */
  flush() {
    clearTimeout(this.syncTimer);
    this.syncToken = null;
    if (this.mode !== "rich" || !this.view) return;
    const t0 = performance.now();
    const s = serialize(this.view.state.doc);
    if (s !== this.textarea.value) {
      this.textarea.value = s;
      this.textarea.dispatchEvent(new Event("input", { bubbles: true }));
    }
    this.flushMs = performance.now() - t0;
  }

  refreshToolbar() {
    const st = this.view.state;
    for (const { b, active } of this.buttons) {
      if (!active) continue;
      const on = String(markActive(st, active));
      if (b.getAttribute("aria-pressed") !== on) b.setAttribute("aria-pressed", on);
    }
    // Each control is written only when it differs: setting a select's
    // value (even to the same one) is a form control change, and each costs
    // Chromium's autofill a walk of the whole form (the 1 MB text area
    // included) after the frame.
    const put = (el, key, value) => { if (el[key] !== value) el[key] = value; };
    const p = st.selection.$from.parent;
    put(this.block, "value", p.type === S.heading ? String(p.attrs.level) : p.type === S.code_block ? "pre" : "p");
    let inTable = false;
    for (let d = st.selection.$from.depth; d > 0; d--) if (st.selection.$from.node(d).type === S.table) inTable = true;
    put(this.tableTools, "hidden", !inTable);
    put(this.buttons.find((x) => x.b.id === "tb-undo").b, "disabled", !undo(st));
    put(this.buttons.find((x) => x.b.id === "tb-redo").b, "disabled", !redo(st));
  }

  focusToolbar() {
    const items = [...this.toolbar.querySelectorAll("button, select, input")].filter((x) => !x.closest("[hidden]") && !x.disabled);
    const cur = items.find((x) => x.tabIndex === 0) || items[0];
    this.rove(items, items.indexOf(cur));
  }

  say(text) {
    this.status.textContent = text;
  }

  setMode(m) {
    this.mode = m;
    this.form.dataset.mode = m;
    for (const b of this.modes.querySelectorAll("button")) b.setAttribute("aria-pressed", String(b.dataset.mode === m));
    const rich = m === "rich";
    this.wrap.hidden = !rich;
    this.textarea.closest(".editor-panes").hidden = rich;
    const fmt = this.format.closest("label") || this.format;
    fmt.hidden = true;
    const picker = this.form.querySelector("#macro-picker");
    if (picker) (picker.closest("label") || picker).hidden = rich;
    this.format.value = m === "markdown" ? "markdown" : "storage";
    this.format.dispatchEvent(new Event("change", { bubbles: true }));
  }

  async switchTo(m) {
    if (m === this.mode) return;
    const from = this.mode;
    this.flush();
    try {
      if (m === "rich") {
        let src = this.textarea.value;
        if (from === "markdown") src = await post(this.form, "/ui/convert", { format: "markdown", body: src });
        this.start(src);
        if (src !== this.textarea.value) {
          this.textarea.value = src;
          this.setMode("rich");
          this.textarea.dispatchEvent(new Event("input", { bubbles: true }));
        } else this.setMode("rich");
        this.say("");
        this.view.focus();
        return;
      }
      if (m === "markdown" && from !== "markdown") {
        const doc = from === "rich" ? this.view.state.doc : parse(this.textarea.value);
        const md = toMarkdown(doc);
        if (md === null) {
          this.say("Markdown cannot hold everything on this page (tables, macros, tasks or other elements): it stays in storage format.");
          if (from === "rich") this.switchTo("source");
          return;
        }
        this.textarea.value = md;
      }
      if (m === "source" && from === "markdown") {
        this.textarea.value = await post(this.form, "/ui/convert", { format: "markdown", body: this.textarea.value });
      }
      this.setMode(m);
      this.textarea.dispatchEvent(new Event("input", { bubbles: true }));
      this.say("");
      this.textarea.focus();
    } catch (e) {
      this.say(`Could not switch to ${m === "rich" ? "rich text" : m}: ${e.message}`);
    }
  }

  // ---------- dialogs ----------

  dialog(title, body, onOk, okLabel, onCancel) {
    this.closeDialog();
    const returnTo = document.activeElement;
    const err = h("p", { class: "rich-dialog-error", role: "alert" });
    const ok = h("button", { type: "submit", class: "primary" }, okLabel || "Insert");
    const cancel = h("button", { type: "button" }, "Cancel");
    const fm = h("form", { class: "rich-dialog-form" }, body, err, h("div", { class: "rich-dialog-buttons" }, ok, cancel));
    const id = "rich-dialog-title";
    const d = h("div", { class: "rich-dialog", role: "dialog", "aria-modal": "true", "aria-labelledby": id }, h("h2", { id }, title), fm);
    const close = (refocus) => {
      d.remove();
      this.dialogEl = null;
      if (refocus) (this.view && this.mode === "rich" ? this.view : returnTo)?.focus();
    };
    const dismiss = () => {
      close(true);
      if (onCancel) onCancel();
    };
    cancel.addEventListener("click", dismiss);
    d.addEventListener("keydown", (e) => {
      if (e.key === "Escape") {
        e.preventDefault();
        e.stopPropagation();
        dismiss();
      }
    });
    fm.addEventListener("submit", (e) => {
      e.preventDefault();
      e.stopPropagation();
      try {
        if (onOk() !== false) close(true);
      } catch (x) {
        err.textContent = x.message;
      }
    });
    document.body.append(d);
    this.dialogEl = d;
    const first = d.querySelector("input, select, textarea, button");
    if (first) first.focus();
    return d;
  }

  closeDialog() {
    if (this.dialogEl) this.dialogEl.remove();
    this.dialogEl = null;
  }

  // A text field that completes from `fetcher(q)` -> [{label, detail, value}].
  combo(id, label, fetcher, onPick) {
    const list = h("ul", { role: "listbox", id: id + "-list", class: "rich-options", "aria-label": label });
    const input = h("input", { id, type: "text", role: "combobox", autocomplete: "off", "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": id + "-list" });
    let items = [], sel = -1, seq = 0, timer = null;
    const show = () => {
      list.replaceChildren(...items.map((it, i) => {
        const li = h("li", { role: "option", id: `${id}-opt-${i}`, "aria-selected": String(i === sel), class: "rich-option" }, it.label, it.detail ? h("span", { class: "meta" }, " " + it.detail) : null);
        li.addEventListener("mousedown", (e) => { e.preventDefault(); onPick(it); });
        return li;
      }));
      input.setAttribute("aria-expanded", String(items.length > 0));
      if (sel >= 0) input.setAttribute("aria-activedescendant", `${id}-opt-${sel}`);
      else input.removeAttribute("aria-activedescendant");
    };
    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const mine = ++seq;
        const r = await fetcher(input.value.trim()).catch(() => []);
        if (mine !== seq) return;
        items = r;
        sel = items.length ? 0 : -1;
        show();
      }, 120);
    });
    input.addEventListener("keydown", (e) => {
      if (e.key === "ArrowDown" && items.length) { e.preventDefault(); sel = (sel + 1) % items.length; show(); }
      else if (e.key === "ArrowUp" && items.length) { e.preventDefault(); sel = (sel - 1 + items.length) % items.length; show(); }
      else if (e.key === "Enter" && sel >= 0 && items[sel]) { e.preventDefault(); onPick(items[sel]); }
    });
    return { input, list, box: h("div", { class: "rich-combo" }, h("label", { for: id }, label), input, list) };
  }

  replaceTrigger(trigger, node) {
    const { state } = this.view;
    let tr = state.tr.replaceSelectionWith(node, false);
    this.view.dispatch(tr.scrollIntoView());
    void trigger;
  }

  mentionDialog(trigger) {
    const c = this.combo("mention-q", "Person", async (q) => {
      if (!q) return [];
      const r = await fetch("/ui/users?" + new URLSearchParams({ q, ...(this.pageId ? { page: this.pageId } : {}) }), { credentials: "same-origin" });
      const v = r.ok ? await r.json() : { results: [] };
      return v.results.map((u) => ({ label: u.displayName, detail: "@" + u.username + (u.canSee === false ? " (cannot see this page)" : ""), value: u }));
    }, (it) => pick(it));
    const pick = (it) => {
      const u = it.value;
      const target = `<ri:user ri:userkey="${escapeAttr(u.userKey)}"/>`;
      this.closeDialog();
      this.view.focus();
      this.replaceTrigger(trigger, S.ac_link.create({ kind: "user", target, label: u.displayName }));
      this.view.dispatch(this.view.state.tr.insertText(" "));
    };
    const typed = () => trigger && this.view.dispatch(this.view.state.tr.insertText(trigger));
    this.dialog("Mention someone", c.box, typed, trigger ? "Type @ as text" : "Close", typed);
  }

  linkDialog(trigger) {
    const { state } = this.view;
    const { from, to, empty } = state.selection;
    const selected = state.doc.textBetween(from, to, " ");
    const text = h("input", { id: "link-text", type: "text", value: selected });
    let chosen = null;
    const c = this.combo("link-to", "Page title or web address", async (q) => {
      chosen = null;
      if (!q || /^(https?:|mailto:|\/|#)/.test(q)) return [];
      const r = await fetch("/ui/pages/complete?" + new URLSearchParams({ q, space: formField(this.form, "space") }), { credentials: "same-origin" });
      const v = r.ok ? await r.json() : { results: [] };
      return v.results.map((p) => ({ label: p.title, detail: p.spaceKey, value: p }));
    }, (it) => {
      chosen = it.value;
      c.input.value = it.value.title;
      c.list.replaceChildren();
      c.input.setAttribute("aria-expanded", "false");
      if (!text.value) text.value = it.value.title;
      apply();
      this.closeDialog();
      this.view.focus();
    });
    // "[]" is the task shortcut: "]" typed first in the dialog "[" opened
    // closes it and types both, so that a space then makes the task.
    if (trigger === "[") c.input.addEventListener("keydown", (e) => {
      if (e.key !== "]" || c.input.value) return;
      e.preventDefault();
      this.closeDialog();
      this.view.focus();
      this.view.dispatch(this.view.state.tr.insertText("[]"));
    });
    const apply = () => {
      const to_ = c.input.value.trim();
      const label = text.value;
      if (!to_) throw new Error("Say where the link goes: a page title or a web address.");
      const st = this.view.state;
      const s = st.selection;
      if (/^(https?:|mailto:|\/)/.test(to_)) {
        const mk = M.link.create({ href: to_ });
        if (!s.empty && label === selected) this.view.dispatch(st.tr.addMark(s.from, s.to, mk));
        else this.view.dispatch(st.tr.replaceSelectionWith(schema.text(label || to_, [mk]), false));
        return;
      }
      let target, anchor = "";
      if (to_.startsWith("#")) anchor = to_.slice(1);
      else {
        const space = chosen && chosen.spaceKey !== formField(this.form, "space") ? ` ri:space-key="${escapeAttr(chosen.spaceKey)}"` : "";
        target = `<ri:page${space} ri:content-title="${escapeAttr(chosen ? chosen.title : to_)}"/>`;
      }
      const title = chosen ? chosen.title : to_;
      const node = S.ac_link.create({ kind: anchor ? "anchor" : "page", target: target || "", anchor, bodyKind: label && label !== title ? "plain" : "none", body: label && label !== title ? label : "", label: label || title });
      this.view.dispatch(st.tr.replaceSelectionWith(node, false));
    };
    void empty;
    const typed = () => trigger && this.view.dispatch(this.view.state.tr.insertText(trigger));
    this.dialog("Insert a link", h("div", {}, c.box, h("label", { for: "link-text" }, "Link text"), text), () => {
      if (!c.input.value.trim() && trigger) return typed();
      apply();
    }, "Insert", typed);
    if (trigger) c.input.focus();
  }

  imageDialog(trigger) {
    const inp = h("input", { id: "image-src", type: "text", placeholder: "diagram.png or https://…" });
    const w = h("input", { id: "image-width", type: "number", min: "1" });
    const body = h("div", {}, h("label", { for: "image-src" }, "Attachment name or web address"), inp, h("label", { for: "image-width" }, "Width (pixels, optional)"), w);
    if (!this.form.dataset.uploadUrl && !this.form.querySelector("input[name=draft]")) body.append(h("p", { class: "muted" }, "To upload an image, save the page first; then paste or drop it here."));
    const typed = () => trigger && this.view.dispatch(this.view.state.tr.insertText(trigger));
    this.dialog("Insert an image", body, () => {
      const v = inp.value.trim();
      if (!v) return typed();
      const url = /^https?:\/\//.test(v);
      const target = url ? `<ri:url ri:value="${escapeAttr(v)}"/>` : `<ri:attachment ri:filename="${escapeAttr(v)}"/>`;
      this.view.dispatch(this.view.state.tr.replaceSelectionWith(S.image.create({ target, url: url ? v : "", label: v, width: w.value || "" }), false));
    }, "Insert", typed);
  }

  emoticonDialog() {
    const sel = h("select", { id: "emoticon-name" }, ...EMOTICONS.map((n) => h("option", { value: n }, n)));
    this.dialog("Insert an emoticon", h("div", {}, h("label", { for: "emoticon-name" }, "Emoticon"), sel), () => {
      this.view.dispatch(this.view.state.tr.replaceSelectionWith(S.emoticon.create({ name: sel.value }), false));
    });
  }

  async macroBrowser(trigger) {
    const list = await macros();
    const q = h("input", { id: "macro-q", type: "search", "aria-controls": "macro-list", autocomplete: "off" });
    const ul = h("ul", { id: "macro-list", class: "rich-options macro-list", "aria-label": "Macros" });
    const render = () => {
      const words = q.value.toLowerCase().split(/\s+/).filter(Boolean);
      const hits = list.filter((m) => words.every((w) => `${m.name} ${m.title || ""} ${m.description || ""}`.toLowerCase().includes(w)));
      ul.replaceChildren(...hits.map((m) => {
        const b = h("button", { type: "button", class: "macro-choice", "data-macro": m.name }, h("strong", {}, m.title || m.name), " ", h("span", { class: "meta" }, m.description || ""));
        b.addEventListener("click", () => {
          this.closeDialog();
          this.view.focus();
          this.insertMacro(m);
        });
        return h("li", {}, b);
      }));
      if (!hits.length) ul.append(h("li", { class: "muted" }, "No macro matches."));
    };
    q.addEventListener("input", render);
    q.addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        e.preventDefault();
        ul.querySelector("button")?.click();
      }
    });
    render();
    const typed = () => trigger && this.view.dispatch(this.view.state.tr.insertText(trigger));
    this.dialog("Insert a macro", h("div", {}, h("label", { for: "macro-q" }, "Search the macros"), q, ul), typed, trigger ? `Type ${trigger} as text` : "Close", typed);
  }

  insertMacro(m) {
    // Only what must be said: absent parameters take their defaults.
    const params = m.params.filter((p) => p.required).map((p) => [p.name, escapeText(p.default || "")]);
    const st = this.view.state;
    let node;
    if (m.body === "rich-text") node = S.macro_rich.create({ name: m.name, params, bodyKind: "rich" }, S.paragraph.create());
    else if (m.output === "inline" && st.selection.$from.parent.inlineContent && st.selection.$from.parent.content.size > 0) node = S.macro_inline.create({ name: m.name, params });
    else node = S.macro.create({ name: m.name, params, bodyKind: m.body === "plain-text" ? "plain" : "none" });
    const tr = st.tr.replaceSelectionWith(node);
    const pos = tr.selection.from - node.nodeSize >= 0 ? tr.mapping.map(st.selection.from, -1) : st.selection.from;
    this.view.dispatch(tr.scrollIntoView());
    if (m.params.length || m.body === "plain-text") this.editMacro(this.findNodeNear(pos, node.type));
  }

  findNodeNear(pos, type) {
    let found = null;
    const doc = this.view.state.doc;
    doc.nodesBetween(Math.max(0, pos - 2), Math.min(doc.content.size, pos + 2), (n, p) => {
      if (found === null && n.type === type) found = p;
    });
    return found === null ? pos : found;
  }

  async editMacro(pos) {
    const node = this.view.state.doc.nodeAt(pos);
    if (!node || !/^macro/.test(node.type.name)) return;
    const list = await macros();
    const spec = list.find((m) => m.name === node.attrs.name) || { name: node.attrs.name, params: [], body: node.attrs.bodyKind === "plain" ? "plain-text" : "none" };
    const current = new Map(node.attrs.params);
    const fields = [];
    const body = h("div", { class: "macro-form" });
    if (spec.description) body.append(h("p", { class: "muted" }, spec.description));
    const known = new Set();
    spec.params.forEach((p, i) => {
      known.add(p.name);
      const id = "macro-param-" + i;
      const raw = current.get(p.name);
      const val = raw != null ? paramText(raw) : "";
      let input;
      if (p.type === "boolean") input = h("input", { id, type: "checkbox", checked: val === "true" || (raw == null && p.default === "true") });
      else if (p.type === "enum" && p.values && p.values.length) {
        input = h("select", { id }, h("option", { value: "" }, "(default)"), ...p.values.map((v) => h("option", { value: v, selected: v === val }, v)));
      } else input = h("input", { id, type: p.type === "int" ? "number" : "text", value: val, placeholder: p.default || "", required: p.required || null });
      input.dataset.param = p.name;
      fields.push({ p, input, raw });
      const label = (p.name || "Default parameter") + (p.required ? " (required)" : "");
      body.append(h("div", { class: "macro-field" }, h("label", { for: id }, label), input, p.description ? h("span", { class: "meta" }, " " + p.description) : null));
    });
    const others = node.attrs.params.filter(([k]) => !known.has(k));
    let text = null;
    if (node.type === S.macro && (node.attrs.bodyKind === "plain" || spec.body === "plain-text")) {
      text = h("textarea", { id: "macro-body", rows: "8", spellcheck: "false" });
      text.value = node.attrs.body;
      body.append(h("label", { for: "macro-body" }, "Body"), text);
    }
    this.dialog(`Edit the ${spec.title || spec.name} macro`, body, () => {
      const params = [];
      for (const { p, input, raw } of fields) {
        let v;
        if (p.type === "boolean") v = input.checked ? "true" : p.default === "true" ? "false" : "";
        else v = input.value;
        if (p.required && !v) throw new Error(`${p.name || "The default parameter"} is required.`);
        if (v === "" ) continue;
        params.push([p.name, raw != null && paramText(raw) === v ? raw : paramXml(p.type, v)]);
      }
      params.push(...others);
      const attrs = { ...node.attrs, params };
      if (text) {
        attrs.body = text.value;
        attrs.bodyKind = "plain";
      }
      const cur = this.view.state.doc.nodeAt(pos);
      if (cur && cur.type === node.type) this.view.dispatch(this.view.state.tr.setNodeMarkup(pos, null, attrs));
    }, "Save");
  }

  // ---------- paste and drop ----------

  paste(e) {
    const cd = e.clipboardData;
    if (!cd) return false;
    const files = [...cd.files].filter((f) => f.type.startsWith("image/"));
    if (files.length) {
      this.upload(files);
      return true;
    }
    const html = cd.getData("text/html");
    const text = cd.getData("text/plain");
    if (!html && text && looksLikeMarkdown(text)) {
      const at = this.view.state.selection;
      post(this.form, "/ui/convert", { format: "markdown", body: text })
        .then((storage) => {
          const doc = parse(storage);
          const slice = new Slice(doc.content, 0, 0);
          const tr = this.view.state.tr;
          const sel = at.map(tr.doc, tr.mapping);
          this.view.dispatch(tr.setSelection(sel).replaceSelection(slice).scrollIntoView());
        })
        .catch(() => this.view.dispatch(this.view.state.tr.insertText(text)));
      return true;
    }
    return false;
  }

  drop(e) {
    const files = [...(e.dataTransfer?.files || [])].filter((f) => f.type.startsWith("image/"));
    if (!files.length) return false;
    e.preventDefault();
    const pos = this.view.posAtCoords({ left: e.clientX, top: e.clientY });
    if (pos) this.view.dispatch(this.view.state.tr.setSelection(TextSelection.near(this.view.state.doc.resolve(pos.pos))));
    this.upload(files);
    return true;
  }

  // Where files go: the saved page's attachments, or, for a page never
  // saved, the author's draft (saved first if it has no id yet); the page
  // takes the draft's files as attachments when it is published.
  async uploadUrl() {
    if (this.form.dataset.uploadUrl) return this.form.dataset.uploadUrl;
    const field = this.form.querySelector("input[name=draft]");
    if (!field) return null;
    if (!field.value) {
      this.flush();
      const r = await fetch("/ui/drafts", { method: "POST", credentials: "same-origin", body: new URLSearchParams(new FormData(this.form)) });
      if (!r.ok) throw new Error(`the draft could not be saved (${r.status})`);
      const v = await r.json();
      if (v.draft) field.value = v.draft;
    }
    if (!field.value) return null;
    // Images of the draft show from the page's future address.
    this.pageId = Number(field.value);
    return `/ui/drafts/${field.value}/files`;
  }

  async upload(files) {
    let url;
    try {
      url = await this.uploadUrl();
    } catch (e) {
      this.say(`The image cannot be added: ${e.message}.`);
      return;
    }
    if (!url) {
      this.say("Save the page first to add images: pasted and dropped images become attachments of a saved page.");
      return;
    }
    for (const file of files) {
      const name = file.name && file.name !== "image.png" ? file.name : `pasted-${new Date().toISOString().replace(/[:.]/g, "-")}.${(file.type.split("/")[1] || "png").replace("jpeg", "jpg")}`;
      const progress = h("progress", { max: "100", value: "0", "aria-label": `Uploading ${name}` });
      const line = h("span", { class: "rich-upload" }, `Uploading ${name} `, progress);
      this.status.replaceChildren(line);
      const fd = new FormData();
      fd.append("_csrf", formField(this.form, "_csrf"));
      fd.append("file", file, name);
      const xhr = new XMLHttpRequest();
      xhr.open("POST", url);
      xhr.upload.addEventListener("progress", (ev) => {
        if (ev.lengthComputable) progress.value = Math.round((ev.loaded / ev.total) * 100);
      });
      xhr.addEventListener("load", () => {
        if (xhr.status >= 200 && xhr.status < 400) {
          this.view.dispatch(this.view.state.tr.replaceSelectionWith(S.image.create({ target: `<ri:attachment ri:filename="${escapeAttr(name)}"/>`, label: name }), false));
          this.say(`Uploaded ${name}.`);
        } else this.say(`The upload of ${name} failed (${xhr.status}).`);
      });
      xhr.addEventListener("error", () => this.say(`The upload of ${name} failed.`));
      xhr.send(fd);
    }
  }
}

/** Mounts the rich editor on the page editor's form; rich mode when the body is storage format. */
export function mount(form) {
  const ed = new RichEditor(form);
  const fmt = ed.format.value;
  if (fmt === "markdown") {
    ed.setMode("markdown");
    return ed;
  }
  try {
    const t0 = performance.now();
    ed.start(ed.textarea.value);
    ed.setMode("rich");
    ed.readyMs = performance.now() - t0;
    ed.readyAt = performance.now();
  } catch (e) {
    ed.setMode("source");
    ed.say(`The rich-text editor cannot open this body (${e.message}): it is shown as storage format.`);
  }
  return ed;
}

export { PMDOMParser, Fragment, NodeSelection };
