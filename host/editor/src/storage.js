// Storage format <-> the editor's document.
//
// Invariant (the round trip): serialize(parse(x)) === x for every
// well-formed body. Each node made from source keeps its exact source text
// (`src`) and `h`, the hash of what `gen` writes for it at parse time. On
// save a node whose `gen` still hashes to `h` is unchanged and is written as
// `src`; an edited node is written canonically, its unchanged children still
// as their source. Whitespace between blocks lives in `before`/`trail`
// attributes; anything the schema does not model is an opaque node holding
// its exact XML.
import { parseXml, attr, rawAttrs, textOf, escapeText, escapeAttr, cdata } from "./xml.js";
import { schema } from "./schema.js";

const BLOCK_TAGS = new Set(["p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "hr", "ul", "ol", "table", "ac:task-list", "ac:layout", "div", "ac:layout-section", "ac:layout-cell", "ac:rich-text-body", "dl", "section"]);
const MARK_TAGS = {
  strong: "strong", b: "strong", em: "em", i: "em", u: "underline", s: "strike", del: "strike", strike: "strike",
  code: "code", sub: "sub", sup: "sup", a: "link",
};
const WRAP_TAGS = new Set(["span", "small", "big", "font", "abbr", "cite", "q", "kbd", "var", "samp", "mark", "ins", "dfn", "tt", "ac:inline-comment-marker"]);
const INLINE_TAGS = new Set([...Object.keys(MARK_TAGS), ...WRAP_TAGS, "br", "ac:link", "ac:image", "ac:emoticon", "time"]);

// cyrb53: a fast 53-bit string hash (collisions are not a security concern here).
export function hash(str) {
  let h1 = 0xdeadbeef, h2 = 0x41c6ce57;
  for (let i = 0; i < str.length; i++) {
    const ch = str.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

const isWs = (x) => x.type === "text" && /^\s*$/.test(x.text) && x.text.indexOf("\u00a0") < 0;

class Reader {
  constructor(src) {
    this.src = src;
  }
  slice(x) {
    return this.src.slice(x.start, x.end);
  }
  inner(x) {
    return x.selfClosing ? "" : this.src.slice(x.openEnd, x.closeStart);
  }
  // A node made from source `x`: its attrs gain `src` and the hash of gen.
  kept(type, attrs, content, marks, x) {
    const node = type.create({ ...attrs, src: this.slice(x) }, content, marks);
    if (!type.validContent(node.content)) throw new Error("content does not fit " + type.name);
    return born(node);
  }
  opaqueBlock(x, before) {
    const xml = this.slice(x);
    return born(schema.nodes.opaque_block.create({ before, xml, src: xml }));
  }
  opaqueInline(x, marks) {
    const xml = this.slice(x);
    return born(schema.nodes.opaque_inline.create({ xml, src: xml }, null, marks));
  }

  // Children of a block container: blocks, with runs of inline content in
  // implicit paragraphs, whitespace between blocks kept in `before`/trail.
  blocks(xs) {
    const out = [];
    let ws = "";
    let run = [];
    const flush = () => {
      let tail = "";
      while (run.length && isWs(run[run.length - 1])) tail = this.slice(run.pop()) + tail;
      if (run.length) {
        const inl = this.inline(run, []);
        const text = run.map((x) => this.slice(x)).join("");
        out.push(born(schema.nodes.paragraph.create({ before: ws, implicit: true, src: text }, inl)));
        ws = "";
      }
      ws += tail;
      run = [];
    };
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i];
      if (run.length === 0 && isWs(x)) {
        ws += this.slice(x);
        continue;
      }
      if (this.blockish(x, xs, i, run)) {
        flush();
        out.push(this.block(x, ws));
        ws = "";
      } else run.push(x);
    }
    flush();
    if (out.length) return { nodes: out, trail: ws };
    // Nothing there: an empty paragraph that writes nothing until typed in
    // (then it is a real <p>).
    return { nodes: [born(schema.nodes.paragraph.create({ before: ws, src: "" }))], trail: "" };
  }

  blockish(x, xs, i, run) {
    if (x.type === "text") return false;
    if (x.type === "el" && BLOCK_TAGS.has(x.name)) return true;
    if (x.type === "el" && INLINE_TAGS.has(x.name)) return false;
    if (run.length) return false;
    // Unknown elements, macros and comments standing alone are blocks;
    // next to text they are inline.
    for (let j = i + 1; j < xs.length; j++) {
      const y = xs[j];
      if (isWs(y)) continue;
      if (y.type === "text") return false;
      if (y.type === "el" && INLINE_TAGS.has(y.name)) return false;
      return true;
    }
    return true;
  }

  block(x, before) {
    try {
      return this.blockOf(x, before) || this.opaqueBlock(x, before);
    } catch (_) {
      return this.opaqueBlock(x, before);
    }
  }

  blockOf(x, before) {
    const n = schema.nodes;
    if (x.type !== "el") return null;
    const name = x.name;
    if (name === "p") return this.kept(n.paragraph, { before, xattrs: rawAttrs(x) }, this.inline(x.children, []), null, x);
    if (/^h[1-6]$/.test(name)) return this.kept(n.heading, { before, level: Number(name[1]), xattrs: rawAttrs(x) }, this.inline(x.children, []), null, x);
    if (name === "blockquote") {
      const b = this.blocks(x.children);
      return this.kept(n.blockquote, { before, xattrs: rawAttrs(x), trail: b.trail }, b.nodes, null, x);
    }
    if (name === "pre") {
      if (x.children.some((c) => c.type !== "text")) return null;
      const t = textOf(x);
      return this.kept(n.code_block, { before, xattrs: rawAttrs(x) }, t ? [schema.text(t)] : [], null, x);
    }
    if (name === "hr") return x.children.length ? null : this.kept(n.horizontal_rule, { before, xattrs: rawAttrs(x) }, null, null, x);
    if (name === "ul" || name === "ol") {
      const { items, trail } = this.items(x, "li", (li, b) => {
        const c = this.blocks(li.children);
        return this.kept(n.list_item, { before: b, xattrs: rawAttrs(li), trail: c.trail }, c.nodes, null, li);
      });
      return items && this.kept(name === "ul" ? n.bullet_list : n.ordered_list, { before, xattrs: rawAttrs(x), trail }, items, null, x);
    }
    if (name === "ac:task-list") {
      const { items, trail } = this.items(x, "ac:task", (t, b) => this.task(t, b));
      return items && this.kept(n.task_list, { before, xattrs: rawAttrs(x), trail }, items, null, x);
    }
    if (name === "table") return this.table(x, before);
    if (name === "ac:structured-macro") return this.macro(x, before, false, null);
    return null;
  }

  // The element's children named `tag` (whitespace between them kept), or
  // no items when anything else is in there.
  items(x, tag, make) {
    const items = [];
    let ws = "";
    for (const c of x.children) {
      if (isWs(c)) ws += this.slice(c);
      else if (c.type === "el" && c.name === tag) {
        const it = make(c, ws);
        if (!it) return { items: null };
        items.push(it);
        ws = "";
      } else return { items: null };
    }
    return items.length ? { items, trail: ws } : { items: null };
  }

  task(t, before) {
    let id = null, status = null, body = null, extra = "";
    for (const c of t.children) {
      if (isWs(c)) continue;
      if (c.type !== "el") return null;
      if (c.name === "ac:task-id" && id === null) id = textOf(c);
      else if (c.name === "ac:task-status" && status === null) status = textOf(c);
      else if (c.name === "ac:task-body" && body === null) body = c;
      else extra += this.slice(c);
    }
    if (status === null || body === null) return null;
    const b = this.blocks(body.children);
    return this.kept(schema.nodes.task_item, { before, taskId: id || "", status, xattrs: rawAttrs(t), extra, trail: b.trail }, b.nodes, null, t);
  }

  table(x, before) {
    const n = schema.nodes;
    const rows = [];
    let ws = "", colgroup = "", widths = [];
    const addRows = (els, section) => {
      let rws = "";
      for (const r of els) {
        if (isWs(r)) { rws += this.slice(r); continue; }
        if (r.type !== "el" || r.name !== "tr") return false;
        const cells = [];
        let cws = "";
        for (const c of r.children) {
          if (isWs(c)) { cws += this.slice(c); continue; }
          if (c.type !== "el" || (c.name !== "td" && c.name !== "th")) return false;
          const b = this.blocks(c.children);
          const span = (k) => Math.max(1, parseInt(attr(c, k) || "1", 10) || 1);
          const col = cells.reduce((s, cell) => s + cell.attrs.colspan, 0);
          const w = widths.slice(col, col + span("colspan"));
          cells.push(this.kept(c.name === "td" ? n.table_cell : n.table_header, {
            before: cws, colspan: span("colspan"), rowspan: span("rowspan"),
            colwidth: w.length && w.every((v) => v > 0) ? w : null,
            xattrs: rawAttrs(c, ["colspan", "rowspan"]), trail: b.trail,
          }, b.nodes, null, c));
          cws = "";
        }
        rows.push(this.kept(n.table_row, { before: ws + rws, xattrs: rawAttrs(r), trail: cws, section }, cells, null, r));
        ws = "";
        rws = "";
      }
      ws += rws;
      return true;
    };
    for (const c of x.children) {
      if (isWs(c)) { ws += this.slice(c); continue; }
      if (c.type !== "el") return null;
      if (c.name === "colgroup" && !rows.length && !colgroup) {
        colgroup = this.slice(c);
        widths = c.children.filter((k) => k.type === "el" && k.name === "col").map((k) => {
          const m = /width:\s*([\d.]+)px/.exec(attr(k, "style") || "") || /^(\d+)$/.exec(attr(k, "width") || "");
          return m ? Math.round(parseFloat(m[1])) : 0;
        });
        ws = "";
      } else if (c.name === "tbody" || c.name === "thead" || c.name === "tfoot") {
        if (c.attrs.length || !addRows(c.children, c.name)) return null;
      } else if (c.name === "tr") {
        if (!addRows([c], "")) return null;
      } else return null;
    }
    if (!rows.length) return null;
    return this.kept(n.table, { before, xattrs: rawAttrs(x), trail: ws, colgroup }, rows, null, x);
  }

  macroParts(x) {
    const params = [];
    let body = null, bodyKind = "none", extra = "";
    for (const c of x.children) {
      if (isWs(c)) continue;
      if (c.type !== "el") return null;
      if (c.name === "ac:parameter" && c.attrs.length === 1 && c.attrs[0].name === "ac:name") params.push([c.attrs[0].value, this.inner(c)]);
      else if (c.name === "ac:plain-text-body" && !body && !c.attrs.length) {
        if (!c.children.every((k) => k.type === "cdata")) return null;
        body = c;
        bodyKind = "plain";
      } else if (c.name === "ac:rich-text-body" && !body && !c.attrs.length) {
        body = c;
        bodyKind = "rich";
      } else if (!body) extra += this.slice(c);
      else return null;
    }
    return { params, body, bodyKind, extra };
  }

  macro(x, before, inline, marks) {
    const name = attr(x, "ac:name");
    if (!name) return null;
    const p = this.macroParts(x);
    if (!p) return null;
    const base = { name, params: p.params, xattrs: rawAttrs(x, ["ac:name"]), extra: p.extra };
    if (inline) {
      const body = p.body ? this.slice(p.body) : "";
      return this.kept(schema.nodes.macro_inline, { ...base, bodyKind: body ? "raw" : "none", body }, null, marks, x);
    }
    if (p.bodyKind === "rich") {
      const b = this.blocks(p.body.children);
      return this.kept(schema.nodes.macro_rich, { ...base, before, bodyKind: "rich", trail: b.trail }, b.nodes, null, x);
    }
    const text = p.body ? textOf(p.body) : "";
    return this.kept(schema.nodes.macro, { ...base, before, bodyKind: p.bodyKind, body: text }, null, null, x);
  }

  // Inline content: text with marks, inline atoms, opaque inline nodes.
  inline(xs, marks) {
    const out = [];
    for (const x of xs) {
      if (x.type === "text") {
        if (x.text) out.push(schema.text(x.text, marks));
        continue;
      }
      let node = null;
      try {
        node = this.inlineOf(x, marks, out);
      } catch (_) {
        node = null;
      }
      if (node === true) continue;
      out.push(node || this.opaqueInline(x, marks));
    }
    return out;
  }

  inlineOf(x, marks, out) {
    const n = schema.nodes, m = schema.marks;
    if (x.type !== "el") return null;
    const name = x.name;
    const markName = MARK_TAGS[name];
    if ((markName || WRAP_TAGS.has(name)) && x.children.length) {
      let mark;
      if (name === "a") {
        if (attr(x, "href") === null) return null;
        mark = m.link.create({ href: attr(x, "href"), xattrs: rawAttrs(x, ["href"]) });
      } else if (name === "span" && x.attrs.length === 1 && x.attrs[0].name === "style" && /^\s*color:\s*[^;]+;?\s*$/.test(x.attrs[0].value)) {
        mark = m.color.create({ color: /color:\s*([^;]+)/.exec(x.attrs[0].value)[1].trim(), style: x.attrs[0].value });
      } else if (markName) {
        mark = m[markName].create({ tag: name, xattrs: rawAttrs(x) });
      } else {
        mark = m.wrap.create({ tag: name, xattrs: rawAttrs(x) });
      }
      // A mark that is already on the text cannot nest: keep the element as written.
      if (mark.isInSet(marks) || (mark.type.excludes(mark.type) && marks.some((k) => k.type === mark.type))) return null;
      const inner = this.inline(x.children, mark.addToSet(marks));
      if (!inner.length) return null;
      out.push(...inner);
      return true;
    }
    if (name === "br" && !x.children.length) return this.kept(n.hard_break, { xattrs: rawAttrs(x) }, null, marks, x);
    if (name === "ac:link") return this.link(x, marks);
    if (name === "ac:image") return this.image(x, marks);
    if (name === "ac:emoticon" && !x.children.length && attr(x, "ac:name")) {
      return this.kept(n.emoticon, { name: attr(x, "ac:name"), fallback: attr(x, "ac:emoji-fallback") || "", xattrs: rawAttrs(x, ["ac:name"]) }, null, marks, x);
    }
    if (name === "time" && !x.children.length && attr(x, "datetime") !== null) {
      return this.kept(n.time, { datetime: attr(x, "datetime"), xattrs: rawAttrs(x, ["datetime"]) }, null, marks, x);
    }
    if (name === "ac:structured-macro") return this.macro(x, "", true, marks);
    return null;
  }

  link(x, marks) {
    let target = null, kind = "anchor", bodyKind = "none", body = "", label = "";
    for (const c of x.children) {
      if (isWs(c)) return null;
      if (c.type !== "el") return null;
      if (c.name.startsWith("ri:") && target === null) {
        target = this.slice(c);
        kind = c.name.slice(3);
        label = attr(c, "ri:content-title") || attr(c, "ri:filename") || attr(c, "ri:value") || attr(c, "ri:username") || attr(c, "ri:userkey") || attr(c, "ri:space-key") || "";
      } else if (c.name === "ac:plain-text-link-body" && bodyKind === "none" && c.children.every((k) => k.type === "cdata")) {
        bodyKind = "plain";
        body = textOf(c);
      } else if (c.name === "ac:link-body" && bodyKind === "none") {
        bodyKind = "rich";
        body = this.inner(c);
      } else return null;
    }
    const anchor = attr(x, "ac:anchor") || "";
    if (bodyKind === "plain") label = body;
    else if (bodyKind === "rich") label = textOf({ type: "el", children: parseXml(body) }) || label;
    if (!label) label = anchor ? "#" + anchor : kind;
    return this.kept(schema.nodes.ac_link, {
      kind, target: target || "", anchor, bodyKind, body, label, xattrs: rawAttrs(x, ["ac:anchor"]),
    }, null, marks, x);
  }

  image(x, marks) {
    const els = x.children.filter((c) => !isWs(c));
    if (els.length !== 1 || els[0].type !== "el" || !/^ri:(attachment|url)$/.test(els[0].name)) return null;
    const t = els[0];
    const url = t.name === "ri:url" ? attr(t, "ri:value") || "" : "";
    const label = t.name === "ri:attachment" ? attr(t, "ri:filename") || "" : url;
    if (x.children.length !== 1) return null;
    return this.kept(schema.nodes.image, {
      target: this.slice(t), url, label,
      width: attr(x, "ac:width") || "", height: attr(x, "ac:height") || "", align: attr(x, "ac:align") || "", alt: attr(x, "ac:alt") || "",
      xattrs: rawAttrs(x, ["ac:width", "ac:height", "ac:align", "ac:alt"]),
    }, null, marks, x);
  }
}

// With `sections`, a body of more than SECTIONED top-level blocks is parsed
// into sections of SECTION blocks (schema.js): the editor's long pages.
export const SECTION = 48;
export const SECTIONED = 400;

/**
 * The editor document for storage-format `src`; throws XmlError when it is
 * not well formed. `sections`: a long body's blocks come in sections.
 */
export function parse(src, { sections = false, size = SECTION, from = SECTIONED } = {}) {
  const r = new Reader(src);
  const xs = parseXml(src);
  const b = r.blocks(xs);
  let content = b.nodes;
  if (sections && content.length > from) {
    content = [];
    for (let i = 0; i < b.nodes.length; i += size) content.push(schema.nodes.section.create(null, b.nodes.slice(i, i + size)));
  }
  return born(schema.nodes.doc.create({ trail: b.trail, src }, content));
}

// Nodes exactly as the parser made them: ProseMirror never changes a node,
// so one still in the document is unchanged and writes its source without
// being serialized. An edited copy shares its original's attrs object, so
// its ORIGIN finds the original to hash what it wrote (`h`, computed once, on
// the first save after an edit, or by sealHashes).
// (Symbol properties: cheaper than WeakSet/WeakMap entries on big pages,
// and invisible to JSON.)
const PRISTINE = Symbol("pristine");
const ORIGIN = Symbol("origin");
// The length of what the original wrote: a different length is a change,
// found without hashing (a long page's text is a megabyte).
const LENGTH = Symbol("length");
function born(node) {
  node[PRISTINE] = true;
  node.attrs[ORIGIN] = node;
  return node;
}

function sealed(a) {
  if (a.h == null) {
    const o = a[ORIGIN];
    if (o) {
      const g = gen(o);
      a.h = hash(g);
      a[LENGTH] = g.length;
    }
  }
  return a.h;
}

/**
 * Computes `h` for every node from source, so that the round trip no longer
 * needs the parser's node objects (e.g. before handing the document to a
 * CRDT binding that recreates nodes from their JSON).
 */
export function sealHashes(doc) {
  doc.descendants((n) => {
    if (n.attrs.src != null) sealed(n.attrs);
  });
  if (doc.attrs.src != null) sealed(doc.attrs);
}

const memo = new WeakMap();
let fresh = false;

/** Storage format for a node (the document or any node in it). */
export function serialize(node) {
  if (fresh) return gen(node);
  let s = memo.get(node);
  if (s !== undefined) return s;
  if (node[PRISTINE] === true) s = node.attrs.src;
  else {
    const g = gen(node);
    const a = node.attrs;
    s = a && a.src != null && sealed(a) != null && (a[LENGTH] === undefined || a[LENGTH] === g.length) && hash(g) === a.h ? a.src : g;
  }
  memo.set(node, s);
  return s;
}

const textblock = (n) => n.type.name === "paragraph" || n.type.name === "heading";

// `prev`/`next`: whether the blocks before and after `frag` (in the
// neighbouring sections) end and start with a textblock.
function blocksOut(frag, prev = false, next = false) {
  let s = "";
  const kids = [];
  frag.forEach((c) => kids.push(c));
  kids.forEach((c, i) => {
    const out = serialize(c);
    const wrap = c.attrs.implicit && ((i > 0 ? textblock(kids[i - 1]) : prev) || (i + 1 < kids.length ? textblock(kids[i + 1]) : next));
    s += c.attrs.before + (wrap ? "<p>" + out + "</p>" : out);
  });
  return s;
}

// A long page's sections are written as their blocks, one after the other;
// each section's text is kept (by node, with what its neighbours' edges
// were), so writing an edited page back costs the edited section.
const sectionMemo = new WeakMap();
function sectionsOut(doc) {
  let s = "";
  const n = doc.childCount;
  for (let i = 0; i < n; i++) {
    const sec = doc.child(i);
    const prev = i > 0 && textblock(doc.child(i - 1).lastChild);
    const next = i + 1 < n && textblock(doc.child(i + 1).firstChild);
    const key = (prev ? 1 : 0) + (next ? 2 : 0);
    let m = fresh ? null : sectionMemo.get(sec);
    if (!m || m.key !== key) {
      m = { key, s: blocksOut(sec.content, prev, next) };
      if (!fresh) sectionMemo.set(sec, m);
    }
    s += m.s;
  }
  return s;
}

function itemsOut(frag) {
  let s = "";
  frag.forEach((c) => (s += c.attrs.before + serialize(c)));
  return s;
}

function openTag(mark) {
  const a = mark.attrs;
  switch (mark.type.name) {
    case "link": return `<a href="${escapeAttr(a.href)}"${a.xattrs}>`;
    case "color": return `<span style="${escapeAttr(a.style != null ? a.style : "color: " + a.color + ";")}">`;
    default: return `<${a.tag}${a.xattrs}>`;
  }
}
const closeTag = (mark) => (mark.type.name === "link" ? "</a>" : mark.type.name === "color" ? "</span>" : `</${mark.attrs.tag}>`);

function inlineOut(node) {
  let s = "";
  const active = [];
  node.forEach((child) => {
    const marks = child.marks;
    let keep = 0;
    while (keep < active.length && keep < marks.length && marks[keep].eq(active[keep])) keep++;
    while (active.length > keep) s += closeTag(active.pop());
    for (let i = keep; i < marks.length; i++) {
      s += openTag(marks[i]);
      active.push(marks[i]);
    }
    s += child.isText ? escapeText(child.text) : serialize(child);
  });
  while (active.length) s += closeTag(active.pop());
  return s;
}

function macroOut(a, body) {
  let s = `<ac:structured-macro ac:name="${escapeAttr(a.name)}"${a.xattrs}>`;
  for (const [k, v] of a.params) s += `<ac:parameter ac:name="${escapeAttr(k)}">${v}</ac:parameter>`;
  return s + a.extra + body + "</ac:structured-macro>";
}

/** What the serializer writes for `node` from its attributes and children. */
export function gen(node) {
  const a = node.attrs;
  switch (node.type.name) {
    case "doc": return (node.firstChild && node.firstChild.type.name === "section" ? sectionsOut(node) : blocksOut(node.content)) + a.trail;
    case "paragraph": return a.implicit ? inlineOut(node) : `<p${a.xattrs}>${inlineOut(node)}</p>`;
    case "heading": return `<h${a.level}${a.xattrs}>${inlineOut(node)}</h${a.level}>`;
    case "blockquote": return `<blockquote${a.xattrs}>${blocksOut(node.content)}${a.trail}</blockquote>`;
    case "code_block": return `<pre${a.xattrs}>${escapeText(node.textContent)}</pre>`;
    case "horizontal_rule": return `<hr${a.xattrs}/>`;
    case "bullet_list": return `<ul${a.xattrs}>${itemsOut(node.content)}${a.trail}</ul>`;
    case "ordered_list": return `<ol${a.xattrs}>${itemsOut(node.content)}${a.trail}</ol>`;
    case "list_item": return `<li${a.xattrs}>${blocksOut(node.content)}${a.trail}</li>`;
    case "task_list": return `<ac:task-list${a.xattrs}>${itemsOut(node.content)}${a.trail}</ac:task-list>`;
    case "task_item":
      return `<ac:task${a.xattrs}><ac:task-id>${escapeText(a.taskId)}</ac:task-id><ac:task-status>${escapeText(a.status)}</ac:task-status>${a.extra}<ac:task-body>${blocksOut(node.content)}${a.trail}</ac:task-body></ac:task>`;
    case "table": return tableOut(node);
    case "table_row": return `<tr${a.xattrs}>${itemsOut(node.content)}${a.trail}</tr>`;
    case "table_cell":
    case "table_header": {
      const tag = node.type.name === "table_cell" ? "td" : "th";
      const spans = (a.colspan > 1 ? ` colspan="${a.colspan}"` : "") + (a.rowspan > 1 ? ` rowspan="${a.rowspan}"` : "");
      return `<${tag}${spans}${a.xattrs}>${blocksOut(node.content)}${a.trail}</${tag}>`;
    }
    case "macro":
      return macroOut(a, a.bodyKind === "plain" ? `<ac:plain-text-body>${cdata(a.body)}</ac:plain-text-body>` : "");
    case "macro_rich": return macroOut(a, `<ac:rich-text-body>${blocksOut(node.content)}${a.trail}</ac:rich-text-body>`);
    case "macro_inline": return macroOut(a, a.bodyKind === "raw" ? a.body : "");
    case "opaque_block":
    case "opaque_inline": return a.xml;
    case "hard_break": return `<br${a.xattrs}/>`;
    case "ac_link": {
      const anchor = a.anchor ? ` ac:anchor="${escapeAttr(a.anchor)}"` : "";
      const body = a.bodyKind === "plain" ? `<ac:plain-text-link-body>${cdata(a.body)}</ac:plain-text-link-body>` : a.bodyKind === "rich" ? `<ac:link-body>${a.body}</ac:link-body>` : "";
      return `<ac:link${anchor}${a.xattrs}>${a.target}${body}</ac:link>`;
    }
    case "image": {
      const at = (k, v) => (v ? ` ac:${k}="${escapeAttr(v)}"` : "");
      return `<ac:image${at("align", a.align)}${at("width", a.width)}${at("height", a.height)}${at("alt", a.alt)}${a.xattrs}>${a.target}</ac:image>`;
    }
    case "emoticon": return `<ac:emoticon ac:name="${escapeAttr(a.name)}"${a.xattrs}/>`;
    case "time": return `<time datetime="${escapeAttr(a.datetime)}"${a.xattrs}/>`;
    default: throw new Error("no storage format for " + node.type.name);
  }
}

function tableOut(node) {
  const a = node.attrs;
  let s = `<table${a.xattrs}>`;
  const first = node.firstChild;
  const widths = [];
  let anyWidth = false;
  first.forEach((c) => {
    for (let i = 0; i < c.attrs.colspan; i++) {
      const w = c.attrs.colwidth && c.attrs.colwidth[i];
      if (w) anyWidth = true;
      widths.push(w || 0);
    }
  });
  s += anyWidth ? "<colgroup>" + widths.map((w) => (w ? `<col style="width: ${w}.0px;"/>` : "<col/>")).join("") + "</colgroup>" : a.colgroup;
  let section = null;
  node.forEach((row) => {
    const sec = row.attrs.section || "tbody";
    if (sec !== section) {
      if (section) s += `</${section}>`;
      s += `<${sec}>`;
      section = sec;
    }
    s += row.attrs.before + serialize(row);
  });
  if (section) s += `</${section}>`;
  return s + a.trail + "</table>";
}

/** What the serializer writes for `node` as if every node in it had been edited. */
export function canonical(node) {
  fresh = true;
  try {
    return gen(node);
  } finally {
    fresh = false;
  }
}

/** Parses (with `opts`, as `parse`) and writes back `src`: equal to `src` for every well-formed body. */
export function roundTrip(src, opts) {
  return serialize(parse(src, opts));
}
