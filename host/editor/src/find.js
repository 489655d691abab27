// Find and replace in the rich-text editor (Ctrl/Cmd+F, or the toolbar's
// button): a bar above the text with Find and Replace fields, Match case
// and Whole words, Previous / Next / Replace / Replace all and a live
// "n of m" count.
//
// It searches the ProseMirror document, not the DOM: on a long page most
// blocks are empty placeholders (editor.js, blockWindow), which the
// browser's own find-in-page cannot see. The current match becomes the
// selection, and the window of displayed blocks follows the selection.
//
// Matches are within one textblock (never across blocks); inline atoms
// (mentions, images, inline macros) count as one object character that no
// query matches, and block atoms (macros' plain or opaque bodies) are not
// searched. Code blocks and the rich bodies of macros are text like any
// other. Replacing goes through `tr.insertText`, so only the matched text
// changes (keeping the marks of its first character) and every other block
// is written back byte for byte (storage.js).
//
// Cost: nothing while the bar is closed (the state stays the same object
// and there are no decorations). Open, the matches are found again when
// the query or its options change; an edit searches again only the
// textblocks it touched. At most CAP matches around the current one are
// decorated, so a query matching thousands of times on a 1 MB page keeps
// typing fast.
import { Plugin, PluginKey, TextSelection } from "prosemirror-state";
import { Decoration, DecorationSet } from "prosemirror-view";
import { closeHistory } from "prosemirror-history";
import { h } from "./dom.js";

export const findKey = new PluginKey("cairnFind");
// (About the blocks a long page displays around the selection: ProseMirror
// visits every highlighted block's decorations for each top-level block on
// each key, so more would cost typing on a 1 MB page without being seen.)
const CAP = 300;
// A document this size (positions) or larger searches the query once typing
// in the Find field pauses.
const LONG_DOC = 100000;
// Past this many steps (a Replace all, a big paste) searching the whole
// document again is simpler and no slower than mapping each step.
const MANY_STEPS = 20;
const CLOSED = { open: false, query: "", matchCase: false, wholeWords: false, matches: [], current: -1, deco: DecorationSet.empty };

// ---------- matching ----------

/** The query as a global regular expression, or null for an empty query. */
export function queryRegExp({ query, matchCase, wholeWords }) {
  if (!query) return null;
  const src = query.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  // Letters, digits and _ in any script make up words.
  const word = wholeWords ? ["(?<![\\p{L}\\p{N}_])", "(?![\\p{L}\\p{N}_])"] : ["", ""];
  return new RegExp(word[0] + src + word[1], matchCase ? "gu" : "giu");
}

// Inline leaves (atoms, line breaks) stand as one character of the text
// (their size in the document), one no query contains.
const LEAF = "\ufffc";

/** The matches in one textblock at `pos`: [{from, to}] in document positions. */
function searchBlock(node, pos, re, out) {
  const text = node.textBetween(0, node.content.size, undefined, LEAF);
  re.lastIndex = 0;
  for (let m; (m = re.exec(text)); ) {
    if (!m[0].length) {
      re.lastIndex++;
      continue;
    }
    out.push({ from: pos + 1 + m.index, to: pos + 1 + m.index + m[0].length });
  }
  return out;
}

function searchAll(doc, re) {
  const out = [];
  if (!re) return out;
  doc.descendants((n, pos) => {
    if (n.isTextblock) {
      searchBlock(n, pos, re, out);
      return false;
    }
    return !n.isAtom;
  });
  return out;
}

/** Where the transaction changed the document: ranges in the new document. */
function changedRanges(tr) {
  const maps = tr.mapping.maps, ranges = [];
  for (let i = 0; i < maps.length; i++) {
    maps[i].forEach((oldFrom, oldTo, from, to) => {
      for (let j = i + 1; j < maps.length; j++) {
        from = maps[j].map(from, -1);
        to = maps[j].map(to, 1);
      }
      ranges.push([from, to]);
    });
  }
  return ranges;
}

/**
 * The matches after an edit: those of untouched textblocks mapped, the
 * touched ones searched again. {matches, touched: [[from, to]] of the
 * touched blocks, found: their matches}, or {matches} alone after a search
 * of the whole document.
 */
function remap(prev, tr, doc, re) {
  if (!re) return { matches: [] };
  if (tr.mapping.maps.length > MANY_STEPS) return { matches: searchAll(doc, re) };
  const size = doc.content.size;
  const blocks = new Map();
  for (const [from, to] of changedRanges(tr)) {
    doc.nodesBetween(Math.max(0, from - 1), Math.min(size, to + 1), (n, pos) => {
      if (n.isTextblock) {
        blocks.set(pos, n);
        return false;
      }
      return !n.isAtom;
    });
  }
  const touched = [...blocks.keys()].sort((a, b) => a - b);
  const found = [];
  for (const pos of touched) searchBlock(blocks.get(pos), pos, re, found);
  // Old matches that survive whole (same length, nothing deleted) and lie
  // outside every touched block; both lists are in document order.
  const maps = tr.mapping.maps;
  let kept = [], k = 0, b = 0;
  let shift = null;
  if (maps.length === 1) {
    // One step (a key typed): the matches ending before the change and
    // before the first touched block stay as they are (found by bisection,
    // not by walking them), and those after a single changed range move by
    // its size, without mapping each (a frequent query has tens of
    // thousands of matches on a long page).
    let first = Infinity, ranges = 0, end = 0, delta = 0;
    maps[0].forEach((oldFrom, oldTo, from, to) => {
      first = Math.min(first, oldFrom);
      ranges++;
      end = oldTo;
      delta = to - from - (oldTo - oldFrom);
    });
    const limit = Math.min(first, touched.length ? touched[0] : Infinity);
    let lo = 0, hi = prev.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (prev[mid].to < limit) lo = mid + 1;
      else hi = mid;
    }
    kept = prev.slice(0, lo);
    k = lo;
    if (ranges === 1) shift = { end, delta };
  }
  for (; k < prev.length; k++) {
    const m = prev[k];
    let a, z;
    if (shift && m.from >= shift.end) {
      a = m.from + shift.delta;
      z = m.to + shift.delta;
    } else {
      const ra = tr.mapping.mapResult(m.from, 1), rz = tr.mapping.mapResult(m.to, -1);
      if (ra.deleted || rz.deleted || rz.pos - ra.pos !== m.to - m.from) continue;
      a = ra.pos;
      z = rz.pos;
    }
    while (b < touched.length && touched[b] + blocks.get(touched[b]).nodeSize <= a) b++;
    if (b < touched.length && touched[b] <= a) continue;
    kept.push(a === m.from ? m : { from: a, to: z });
  }
  // Merge the two ordered lists.
  const out = [];
  let i = 0, j = 0;
  while (i < kept.length || j < found.length) {
    if (j >= found.length || (i < kept.length && kept[i].from < found[j].from)) out.push(kept[i++]);
    else out.push(found[j++]);
  }
  return { matches: out, touched: touched.map((pos) => [pos, pos + blocks.get(pos).nodeSize]), found };
}

/** The index of the first match at or after `pos` (wrapping to the first), or -1. */
function firstFrom(matches, pos) {
  if (!matches.length) return -1;
  let lo = 0, hi = matches.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (matches[mid].from < pos) lo = mid + 1;
    else hi = mid;
  }
  return lo < matches.length ? lo : 0;
}

/** The index of the last match ending at or before `pos` (wrapping to the last), or -1. */
function lastBefore(matches, pos) {
  if (!matches.length) return -1;
  // Matches do not overlap: their ends are in order too.
  let lo = 0, hi = matches.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (matches[mid].to <= pos) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 ? lo - 1 : matches.length - 1;
}

const PLAIN = { class: "rich-match" }, CURRENT = { class: "rich-match rich-match-current" };
const matchDeco = (m, current) => Decoration.inline(m.from, m.to, current ? CURRENT : PLAIN, current ? { current: true } : {});

// At most CAP matches around the current one are highlighted. Building a
// set walks every top-level block for every decoration (tens of ms on a
// 1 MB page): done when the query changes; an edit or a move to another
// match patches the set instead (patchEdit, patchCurrent).
function decorate(doc, matches, current) {
  if (!matches.length) return DecorationSet.empty;
  const lo = Math.max(0, Math.min(Math.max(current, 0) - CAP / 2, matches.length - CAP));
  const hi = Math.min(matches.length, lo + CAP);
  const decos = [];
  for (let i = lo; i < hi; i++) decos.push(matchDeco(matches[i], i === current));
  return DecorationSet.create(doc, decos);
}

/** The set mapped over an edit, the touched blocks' matches highlighted again. */
function patchEdit(deco, tr, doc, { touched, found }) {
  let d = deco.map(tr.mapping, doc);
  for (const [from, to] of touched) d = d.remove(d.find(from, to));
  return d.add(doc, found.map((m) => matchDeco(m, false)));
}

/** The set with match `current` as the current one; null when it is not highlighted (too far). */
function patchCurrent(deco, doc, matches, current) {
  let d = deco;
  const was = d.find(undefined, undefined, (spec) => spec.current);
  // (remove() empties the array it is given: the new decorations first.)
  if (was.length) {
    const plain = was.map((x) => matchDeco(x, false));
    d = d.remove(was).add(doc, plain);
  }
  const m = matches[current];
  if (!m) return d;
  const here = d.find(m.from, m.to).filter((x) => x.from === m.from && x.to === m.to);
  if (!here.length) return null;
  return d.remove(here).add(doc, [matchDeco(m, true)]);
}

// ---------- the plugin ----------

// Meta (findKey): {open: false} closes; otherwise any of query, matchCase,
// wholeWords (opening the search if closed), current (an index) or at (the
// position the current match should be at or after, once the edit is done).
function apply(tr, prev, old, state) {
  const meta = tr.getMeta(findKey);
  if (!meta && !prev.open) return prev;
  if (meta && meta.open === false) return CLOSED;
  const next = { ...prev, open: true };
  if (meta) for (const k of ["query", "matchCase", "wholeWords"]) if (meta[k] !== undefined) next[k] = meta[k];
  const options = !prev.open || next.query !== prev.query || next.matchCase !== prev.matchCase || next.wholeWords !== prev.wholeWords;
  let deco = null;
  if (options) {
    next.matches = searchAll(state.doc, queryRegExp(next));
    next.current = firstFrom(next.matches, state.selection.from);
  } else if (tr.docChanged) {
    const r = remap(prev.matches, tr, state.doc, queryRegExp(next));
    next.matches = r.matches;
    const was = prev.matches[prev.current];
    const at = meta && meta.at !== undefined ? meta.at : was ? tr.mapping.map(was.from, -1) : state.selection.from;
    next.current = firstFrom(next.matches, at);
    if (r.touched) deco = patchCurrent(patchEdit(prev.deco, tr, state.doc, r), state.doc, next.matches, next.current);
  } else if (meta && meta.current !== undefined && meta.current !== prev.current) {
    next.current = meta.current;
    deco = patchCurrent(prev.deco, state.doc, next.matches, next.current);
  } else if (!meta && tr.selectionSet) {
    // The caret moved (a click, the arrows): the current match, and the
    // count's "n", become the first match from there, as Next would go.
    const i = firstFrom(prev.matches, state.selection.from);
    if (i === prev.current) return prev;
    next.current = i;
    deco = patchCurrent(prev.deco, state.doc, next.matches, i);
  } else return prev;
  next.deco = deco || decorate(state.doc, next.matches, next.current);
  return next;
}

/** The plugin; `onChange(state)` runs after each update of the view (the bar's count). */
export function findPlugin(onChange) {
  return new Plugin({
    key: findKey,
    state: { init: () => CLOSED, apply },
    props: {
      decorations: (state) => {
        const f = findKey.getState(state);
        return f.open ? f.deco : null;
      },
    },
    view: (view) => {
      onChange(view.state);
      return { update: (v, prev) => findKey.getState(v.state) !== findKey.getState(prev) && onChange(v.state) };
    },
  });
}

// ---------- commands ----------

const sameRange = (sel, m) => !!m && sel.from === m.from && sel.to === m.to;

/** Selects match `i` (and scrolls to it; the window of displayed blocks follows the selection). */
function selectMatch(view, i) {
  const f = findKey.getState(view.state);
  const m = f.matches[i];
  if (!m) return false;
  const tr = view.state.tr.setSelection(TextSelection.create(view.state.doc, m.from, m.to)).setMeta(findKey, { current: i }).setMeta("addToHistory", false);
  view.dispatch(tr.scrollIntoView());
  return true;
}

/** The next match (after the selected one, else the first at or after the selection). */
export function findNext(view) {
  const f = findKey.getState(view.state), sel = view.state.selection;
  if (!f.matches.length) return false;
  const i = sameRange(sel, f.matches[f.current]) ? (f.current + 1) % f.matches.length : firstFrom(f.matches, sel.from);
  return selectMatch(view, i);
}

/** The previous match (before the selected one, else the last before the selection). */
export function findPrevious(view) {
  const f = findKey.getState(view.state), sel = view.state.selection;
  if (!f.matches.length) return false;
  const i = sameRange(sel, f.matches[f.current]) ? (f.current - 1 + f.matches.length) % f.matches.length : lastBefore(f.matches, sel.from);
  return selectMatch(view, i);
}

// Text replacing [from, to]: `insertText` keeps the marks of the first
// character; no stored marks (what the caret would type) get in.
function replaceIn(tr, from, to, text) {
  tr.setStoredMarks(null);
  if (text) tr.insertText(text, from, to);
  else tr.delete(from, to);
}

/** Replaces the current match, then selects the next one. */
export function replaceCurrent(view, text) {
  const f = findKey.getState(view.state);
  const m = f.matches[f.current];
  if (!m) return false;
  const tr = closeHistory(view.state.tr);
  replaceIn(tr, m.from, m.to, text);
  view.dispatch(tr.setMeta(findKey, { at: tr.mapping.map(m.to) }).scrollIntoView());
  endStep(view);
  const after = findKey.getState(view.state);
  if (after.current >= 0) selectMatch(view, after.current);
  return true;
}

/** Replaces every match in one transaction (one undo step); returns how many. */
export function replaceAll(view, text) {
  const f = findKey.getState(view.state);
  if (!f.matches.length) return 0;
  const tr = closeHistory(view.state.tr);
  // From the last to the first, so the positions before each stay valid.
  for (let i = f.matches.length - 1; i >= 0; i--) replaceIn(tr, f.matches[i].from, f.matches[i].to, text);
  view.dispatch(tr.scrollIntoView());
  endStep(view);
  return f.matches.length;
}

// A replacement is an undo step of its own: what is typed next does not join it.
function endStep(view) {
  view.dispatch(closeHistory(view.state.tr).setMeta("addToHistory", false));
}

// ---------- the bar ----------

/** The find bar: `ed` is the RichEditor (its `view` once started). */
export class FindBar {
  constructor(ed) {
    this.ed = ed;
    this.note = "";
    const field = (id, label) => {
      const input = h("input", { id, type: "text", autocomplete: "off", spellcheck: "false" });
      return [h("label", { for: id }, label), input];
    };
    const check = (id, label) => {
      const input = h("input", { id, type: "checkbox" });
      input.addEventListener("change", () => this.setQuery());
      return [input, h("label", { class: "rich-find-option", for: id }, input, " " + label)];
    };
    const button = (id, label, run, name) => {
      const b = h("button", { type: "button", id, "aria-label": name || null }, label);
      b.addEventListener("click", run);
      return b;
    };
    const [qLabel, q] = field("find-q", "Find");
    const [rLabel, r] = field("find-r", "Replace with");
    this.q = q;
    this.r = r;
    [this.matchCase, this.caseLabel] = check("find-case", "Match case");
    [this.wholeWords, this.wordsLabel] = check("find-words", "Whole words");
    this.count = h("span", { class: "rich-find-count", id: "find-count", "aria-live": "polite" });
    this.el = h("div", { class: "rich-find", id: "rich-find", role: "search", "aria-label": "Find and replace", hidden: true },
      h("span", { class: "rich-find-field" }, qLabel, q),
      h("span", { class: "rich-find-field" }, rLabel, r),
      this.caseLabel, this.wordsLabel,
      button("find-prev", "Previous", () => this.run(findPrevious), "Previous match (Shift+Enter)"),
      button("find-next", "Next", () => this.run(findNext), "Next match (Enter)"),
      button("find-replace", "Replace", () => this.replace()),
      button("find-all", "Replace all", () => this.replaceAll()),
      this.count,
      button("find-close", "Close", () => this.close(), "Close find and replace (Escape)"));
    // On a long document a search costs tens of milliseconds: the query is
    // searched once typing in the field pauses (at once on a short one, and
    // before Enter, Next or Previous use it).
    this.pending = 0;
    q.addEventListener("input", () => {
      clearTimeout(this.pending);
      if (this.view.state.doc.content.size < LONG_DOC) this.setQuery();
      else this.pending = setTimeout(() => this.setQuery(), 150);
    });
    q.addEventListener("keydown", (e) => {
      if (e.key !== "Enter" || e.isComposing) return;
      // Inside the page's form: Enter must not submit it.
      e.preventDefault();
      this.run(e.shiftKey ? findPrevious : findNext);
    });
    r.addEventListener("keydown", (e) => {
      if (e.key !== "Enter" || e.isComposing) return;
      e.preventDefault();
      this.replace();
    });
    this.el.addEventListener("keydown", (e) => {
      if (e.key === "Escape") {
        e.preventDefault();
        e.stopPropagation();
        this.close();
      } else if ((e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === "f") {
        // Not the browser's find: back to this one's field.
        e.preventDefault();
        this.q.focus();
        this.q.select();
      }
    });
  }

  get view() {
    return this.ed.view;
  }

  /** Opens the bar (the selected text, if short and in one block, as the query) and focuses Find. */
  open() {
    const { state } = this.view;
    const sel = state.selection;
    if (!sel.empty && sel.$from.parent === sel.$to.parent && sel.to - sel.from <= 200) {
      const text = state.doc.textBetween(sel.from, sel.to, undefined, LEAF);
      if (!text.includes(LEAF)) this.q.value = text;
    }
    this.el.hidden = false;
    this.setQuery();
    this.q.focus();
    this.q.select();
  }

  /** Closes the bar; the text gets the focus back, at the current match. */
  close() {
    const view = this.view;
    const f = findKey.getState(view.state);
    const m = f.matches[f.current];
    const tr = view.state.tr.setMeta(findKey, { open: false }).setMeta("addToHistory", false);
    if (m && !sameRange(view.state.selection, m)) tr.setSelection(TextSelection.create(view.state.doc, m.from, m.to));
    view.dispatch(tr.scrollIntoView());
    this.el.hidden = true;
    view.focus();
  }

  setQuery() {
    clearTimeout(this.pending);
    this.pending = 0;
    this.note = "";
    this.view.dispatch(this.view.state.tr.setMeta(findKey, { query: this.q.value, matchCase: this.matchCase.checked, wholeWords: this.wholeWords.checked }).setMeta("addToHistory", false));
  }

  // A query still waiting for typing to pause is searched now.
  settle() {
    if (this.pending) this.setQuery();
  }

  run(cmd) {
    this.settle();
    this.note = "";
    if (cmd(this.view)) this.reveal();
    else this.sync(this.view.state);
  }

  replace() {
    this.settle();
    this.note = "";
    if (replaceCurrent(this.view, this.r.value)) this.reveal();
  }

  replaceAll() {
    this.settle();
    const n = replaceAll(this.view, this.r.value);
    this.note = n ? `Replaced ${n}` : "No results";
    this.sync(this.view.state);
  }

  // `scrollIntoView` scrolls only when the DOM selection is in the editor;
  // with the focus here, the selected match is scrolled to from its block.
  reveal() {
    const view = this.view;
    const { from } = view.state.selection;
    let el = view.domAtPos(from).node;
    if (el.nodeType !== 1) el = el.parentNode;
    const r = view.coordsAtPos(from);
    const top = this.el.getBoundingClientRect().bottom;
    if (el && el.scrollIntoView && (r.top < top || r.bottom > innerHeight)) el.scrollIntoView({ block: "center" });
  }

  /** Shows the plugin's state: open or not, the count (or what Replace all did). */
  sync(state) {
    const f = findKey.getState(state);
    if (!f) return;
    if (!f.open) {
      if (!this.el.hidden) this.el.hidden = true;
      return;
    }
    const text = this.note || (!f.query ? "" : f.matches.length ? `${f.current + 1} of ${f.matches.length}` : "No results");
    if (this.count.textContent !== text) this.count.textContent = text;
  }
}
