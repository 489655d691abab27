// The editor's document model. Every attribute is plain JSON (strings,
// numbers, booleans, arrays of strings) and node type names are stable, so a
// CRDT binding (y-prosemirror) can sync this schema as it is. Nodes parsed
// from storage carry `src` (their exact source) and `h` (a hash of what the
// serializer would write for them): see storage.js for the round trip.
import { Schema } from "prosemirror-model";

// rgb(192, 0, 0) -> #c00000, as Confluence writes colours.
function hexColour(v) {
  const m = /^rgb\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(v);
  return m ? "#" + m.slice(1).map((n) => Number(n).toString(16).padStart(2, "0")).join("") : v;
}

const kept = { before: { default: "" }, src: { default: null }, h: { default: null } };
const ATOM_ATTR = "data-cairn-attrs";

// Atoms and opaque nodes carry their attributes through the clipboard as
// JSON, so copying a macro or a link inside the editor keeps it whole.
function atomDom(tag, type, cls) {
  return (node) => [tag, { class: cls, "data-cairn": type, [ATOM_ATTR]: JSON.stringify(node.attrs), contenteditable: "false" }, labelOf(node)];
}
function atomParse(tag, type) {
  return [{ tag: `${tag}[data-cairn="${type}"]`, getAttrs: (d) => { try { return JSON.parse(d.getAttribute(ATOM_ATTR)); } catch (_) { return false; } } }];
}

export function labelOf(node) {
  const a = node.attrs;
  switch (node.type.name) {
    case "ac_link": return a.kind === "user" ? "@" + (a.label || "user") : a.label || "link";
    case "emoticon": return a.fallback || ":" + a.name + ":";
    case "time": return a.datetime;
    case "image": return a.alt || a.label || "image";
    case "macro": case "macro_inline": return "{" + a.name + "}";
    default: return "⟨kept as written⟩";
  }
}

const cellAttrs = {
  ...kept,
  colspan: { default: 1 },
  rowspan: { default: 1 },
  colwidth: { default: null },
  xattrs: { default: "" },
  trail: { default: "" },
};

function cellDom(tag) {
  return (node) => {
    const a = {};
    if (node.attrs.colspan !== 1) a.colspan = node.attrs.colspan;
    if (node.attrs.rowspan !== 1) a.rowspan = node.attrs.rowspan;
    if (node.attrs.colwidth) a["data-colwidth"] = node.attrs.colwidth.join(",");
    return [tag, a, 0];
  };
}
function cellParse(tag) {
  return [{
    tag,
    getAttrs: (d) => {
      const w = d.getAttribute("data-colwidth");
      return {
        colspan: Number(d.getAttribute("colspan") || 1),
        rowspan: Number(d.getAttribute("rowspan") || 1),
        colwidth: w && /^\d+(,\d+)*$/.test(w) ? w.split(",").map(Number) : null,
      };
    },
  }];
}

const macroAttrs = {
  ...kept,
  name: { default: "" },
  // [[name, raw XML of the value], …] in source order.
  params: { default: [] },
  // "none" | "plain" (the CDATA text in `body`) | "raw" (`body` is XML, inline macros).
  bodyKind: { default: "none" },
  body: { default: "" },
  xattrs: { default: "" },
  extra: { default: "" },
};

export const schema = new Schema({
  nodes: {
    // A long page's blocks come in sections (storage.js `parse` with
    // `sections`): ProseMirror and the browser then update and walk ~160
    // sections and the blocks of one, not thousands of top-level blocks, on
    // every key, and the editor displays a long page by sections (editor.js,
    // blockWindow). A section writes nothing of its own: the storage format
    // is that of its blocks. Short pages are blocks directly.
    doc: { content: "(block+ | section+)", attrs: { trail: { default: "" }, src: { default: null }, h: { default: null } } },
    section: {
      content: "block+",
      toDOM: () => ["div", { class: "rich-section" }, 0],
    },
    paragraph: {
      group: "block",
      content: "inline*",
      attrs: { ...kept, xattrs: { default: "" }, implicit: { default: false } },
      parseDOM: [{ tag: "p" }],
      toDOM: () => ["p", 0],
    },
    heading: {
      group: "block",
      content: "inline*",
      defining: true,
      attrs: { ...kept, level: { default: 1 }, xattrs: { default: "" } },
      parseDOM: [1, 2, 3, 4, 5, 6].map((l) => ({ tag: "h" + l, attrs: { level: l } })),
      toDOM: (n) => ["h" + n.attrs.level, 0],
    },
    blockquote: {
      group: "block",
      content: "block+",
      defining: true,
      attrs: { ...kept, xattrs: { default: "" }, trail: { default: "" } },
      parseDOM: [{ tag: "blockquote" }],
      toDOM: () => ["blockquote", 0],
    },
    code_block: {
      group: "block",
      content: "text*",
      marks: "",
      code: true,
      defining: true,
      attrs: { ...kept, xattrs: { default: "" } },
      parseDOM: [{ tag: "pre", preserveWhitespace: "full" }],
      toDOM: () => ["pre", ["code", 0]],
    },
    horizontal_rule: {
      group: "block",
      attrs: { ...kept, xattrs: { default: "" } },
      parseDOM: [{ tag: "hr" }],
      toDOM: () => ["hr"],
    },
    bullet_list: {
      group: "block",
      content: "list_item+",
      attrs: { ...kept, xattrs: { default: "" }, trail: { default: "" } },
      parseDOM: [{ tag: "ul" }],
      toDOM: () => ["ul", 0],
    },
    ordered_list: {
      group: "block",
      content: "list_item+",
      attrs: { ...kept, xattrs: { default: "" }, trail: { default: "" } },
      parseDOM: [{ tag: "ol" }],
      toDOM: () => ["ol", 0],
    },
    list_item: {
      content: "block+",
      defining: true,
      attrs: { ...kept, xattrs: { default: "" }, trail: { default: "" } },
      parseDOM: [{ tag: "li" }],
      toDOM: () => ["li", 0],
    },
    task_list: {
      group: "block",
      content: "task_item+",
      attrs: { ...kept, xattrs: { default: "" }, trail: { default: "" } },
      parseDOM: [{ tag: "ul.task-list" , priority: 60 }],
      toDOM: () => ["ul", { class: "task-list" }, 0],
    },
    task_item: {
      content: "block+",
      defining: true,
      attrs: { ...kept, taskId: { default: "" }, status: { default: "incomplete" }, xattrs: { default: "" }, extra: { default: "" }, trail: { default: "" } },
      parseDOM: [{ tag: "li[data-task-status]", getAttrs: (d) => ({ status: d.getAttribute("data-task-status") === "complete" ? "complete" : "incomplete" }) }],
      toDOM: (n) => ["li", { "data-task-status": n.attrs.status, class: "task-item" }, 0],
    },
    table: {
      group: "block",
      content: "table_row+",
      tableRole: "table",
      isolating: true,
      attrs: { ...kept, xattrs: { default: "" }, trail: { default: "" }, colgroup: { default: "" } },
      parseDOM: [{ tag: "table" }],
      toDOM: () => ["table", ["tbody", 0]],
    },
    table_row: {
      content: "(table_cell | table_header)*",
      tableRole: "row",
      attrs: { ...kept, xattrs: { default: "" }, trail: { default: "" }, section: { default: "" } },
      parseDOM: [{ tag: "tr" }],
      toDOM: () => ["tr", 0],
    },
    table_cell: { content: "block+", tableRole: "cell", isolating: true, attrs: cellAttrs, parseDOM: cellParse("td"), toDOM: cellDom("td") },
    table_header: { content: "block+", tableRole: "header_cell", isolating: true, attrs: cellAttrs, parseDOM: cellParse("th"), toDOM: cellDom("th") },
    macro: {
      group: "block",
      atom: true,
      selectable: true,
      attrs: macroAttrs,
      parseDOM: atomParse("div", "macro"),
      toDOM: atomDom("div", "macro", "cairn-macro"),
    },
    macro_rich: {
      group: "block",
      content: "block+",
      defining: true,
      isolating: true,
      attrs: { ...macroAttrs, trail: { default: "" } },
      parseDOM: [{ tag: 'div[data-cairn="macro_rich"]', contentElement: ".cairn-macro-body", getAttrs: (d) => { try { return JSON.parse(d.getAttribute(ATOM_ATTR)); } catch (_) { return false; } } }],
      toDOM: (n) => ["div", { class: "cairn-macro-rich", "data-cairn": "macro_rich", [ATOM_ATTR]: JSON.stringify(n.attrs) }, ["div", { class: "cairn-macro-body" }, 0]],
    },
    opaque_block: {
      group: "block",
      atom: true,
      attrs: { ...kept, xml: { default: "" } },
      parseDOM: atomParse("div", "opaque_block"),
      toDOM: atomDom("div", "opaque_block", "cairn-opaque"),
    },
    text: { group: "inline" },
    hard_break: {
      inline: true,
      group: "inline",
      selectable: false,
      attrs: { ...kept, xattrs: { default: "" } },
      parseDOM: [{ tag: "br" }],
      toDOM: () => ["br"],
    },
    ac_link: {
      inline: true,
      group: "inline",
      atom: true,
      // kind: page | blog-post | attachment | url | user | space | content-entity | shortcut | anchor
      attrs: { ...kept, kind: { default: "page" }, target: { default: "" }, anchor: { default: "" }, bodyKind: { default: "none" }, body: { default: "" }, label: { default: "" }, xattrs: { default: "" } },
      parseDOM: atomParse("span", "ac_link"),
      toDOM: atomDom("span", "ac_link", "cairn-link"),
    },
    image: {
      inline: true,
      group: "inline",
      atom: true,
      draggable: true,
      attrs: { ...kept, target: { default: "" }, url: { default: "" }, width: { default: "" }, height: { default: "" }, align: { default: "" }, alt: { default: "" }, label: { default: "" }, xattrs: { default: "" } },
      parseDOM: [
        ...atomParse("span", "image"),
        {
          tag: "img[src]",
          getAttrs: (d) => {
            const src = d.getAttribute("src") || "";
            if (!/^https?:\/\//.test(src)) return false;
            const esc = src.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
            return { target: `<ri:url ri:value="${esc}"/>`, url: src, label: src, alt: d.getAttribute("alt") || "" };
          },
        },
      ],
      toDOM: atomDom("span", "image", "cairn-image"),
    },
    emoticon: {
      inline: true,
      group: "inline",
      atom: true,
      attrs: { ...kept, name: { default: "smile" }, fallback: { default: "" }, xattrs: { default: "" } },
      parseDOM: atomParse("span", "emoticon"),
      toDOM: atomDom("span", "emoticon", "cairn-emoticon"),
    },
    time: {
      inline: true,
      group: "inline",
      atom: true,
      attrs: { ...kept, datetime: { default: "" }, xattrs: { default: "" } },
      parseDOM: atomParse("span", "time"),
      toDOM: atomDom("span", "time", "cairn-time"),
    },
    macro_inline: {
      inline: true,
      group: "inline",
      atom: true,
      attrs: macroAttrs,
      parseDOM: atomParse("span", "macro_inline"),
      toDOM: atomDom("span", "macro_inline", "cairn-macro-inline"),
    },
    opaque_inline: {
      inline: true,
      group: "inline",
      atom: true,
      attrs: { ...kept, xml: { default: "" } },
      parseDOM: atomParse("span", "opaque_inline"),
      toDOM: atomDom("span", "opaque_inline", "cairn-opaque"),
    },
  },
  marks: {
    link: {
      attrs: { href: { default: "" }, xattrs: { default: "" } },
      inclusive: false,
      parseDOM: [{ tag: "a[href]", getAttrs: (d) => ({ href: d.getAttribute("href") }) }],
      toDOM: (m) => ["a", { href: m.attrs.href, rel: "noopener" }, 0],
    },
    // Any other inline element around text (small, big, ins, an inline
    // comment marker, a span with a class…), written back as it was.
    wrap: {
      attrs: { tag: { default: "span" }, xattrs: { default: "" } },
      excludes: "",
      toDOM: (m) => ["span", { class: "cairn-wrap", "data-tag": m.attrs.tag }, 0],
    },
    color: {
      attrs: { color: { default: "" }, style: { default: null } },
      parseDOM: [{ style: "color", getAttrs: (v) => (/^(#[0-9a-fA-F]{3,6}|rgb\([\d\s,]+\)|[a-zA-Z]+)$/.test(v.trim()) ? { color: hexColour(v.trim()) } : false) }],
      toDOM: (m) => ["span", { style: "color: " + m.attrs.color }, 0],
    },
    strong: {
      attrs: { tag: { default: "strong" }, xattrs: { default: "" } },
      parseDOM: [{ tag: "strong" }, { tag: "b", getAttrs: (d) => d.style.fontWeight !== "normal" && null }, { style: "font-weight", getAttrs: (v) => /^(bold(er)?|[6-9]\d\d)$/.test(v) && null }],
      toDOM: () => ["strong", 0],
    },
    em: {
      attrs: { tag: { default: "em" }, xattrs: { default: "" } },
      parseDOM: [{ tag: "em" }, { tag: "i" }, { style: "font-style=italic" }],
      toDOM: () => ["em", 0],
    },
    underline: {
      attrs: { tag: { default: "u" }, xattrs: { default: "" } },
      parseDOM: [{ tag: "u" }, { style: "text-decoration=underline" }, { style: "text-decoration-line=underline" }],
      toDOM: () => ["u", 0],
    },
    strike: {
      attrs: { tag: { default: "s" }, xattrs: { default: "" } },
      parseDOM: [{ tag: "s" }, { tag: "del" }, { tag: "strike" }, { style: "text-decoration=line-through" }, { style: "text-decoration-line=line-through" }],
      toDOM: () => ["s", 0],
    },
    sub: { attrs: { tag: { default: "sub" }, xattrs: { default: "" } }, excludes: "sup", parseDOM: [{ tag: "sub" }], toDOM: () => ["sub", 0] },
    sup: { attrs: { tag: { default: "sup" }, xattrs: { default: "" } }, excludes: "sub", parseDOM: [{ tag: "sup" }], toDOM: () => ["sup", 0] },
    code: { attrs: { tag: { default: "code" }, xattrs: { default: "" } }, parseDOM: [{ tag: "code" }], toDOM: () => ["code", 0] },
  },
});
