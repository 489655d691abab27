// The document as Markdown, for switching to Markdown mode: only what
// Markdown holds (headings, paragraphs, lists, quotes, preformatted text,
// rules, bold, italic, code, links to URLs). Anything else returns null and
// the editor stays in storage format rather than lose it.

const esc = (s) => s.replace(/([\\`*_[\]#<>])/g, "\\$1");

function inline(node) {
  let out = "";
  let ok = true;
  node.forEach((c) => {
    if (c.isText) {
      let t = c.marks.some((m) => m.type.name === "code") ? "`" + c.text + "`" : esc(c.text);
      for (const m of c.marks) {
        const n = m.type.name;
        if (n === "strong") t = `**${t}**`;
        else if (n === "em") t = `*${t}*`;
        else if (n === "link") t = `[${t}](${m.attrs.href})`;
        else if (n !== "code") ok = false;
      }
      out += t;
    } else if (c.type.name === "hard_break") out += "  \n";
    else ok = false;
  });
  return ok ? out : null;
}

function blocks(node, indent) {
  const parts = [];
  let ok = true;
  node.forEach((b) => {
    const t = b.type.name;
    let s = null;
    if (t === "section") s = blocks(b, indent);
    else if (t === "paragraph") s = inline(b);
    else if (t === "heading") {
      const i = inline(b);
      s = i === null ? null : "#".repeat(b.attrs.level) + " " + i;
    } else if (t === "horizontal_rule") s = "---";
    else if (t === "code_block") s = "```\n" + b.textContent + "\n```";
    else if (t === "blockquote") {
      const inner = blocks(b, "");
      s = inner === null ? null : inner.split("\n").map((l) => "> " + l).join("\n");
    } else if (t === "bullet_list" || t === "ordered_list") {
      const items = [];
      let n = 1;
      b.forEach((li) => {
        const marker = t === "bullet_list" ? "- " : `${n++}. `;
        const inner = blocks(li, " ".repeat(marker.length));
        if (inner === null) ok = false;
        else items.push(marker + inner.replace(/^\s+/, ""));
      });
      s = items.join("\n");
    }
    if (s === null) ok = false;
    else parts.push(s.split("\n").map((l, i) => (i === 0 ? l : indent + l)).join("\n"));
  });
  if (!ok) return null;
  return parts.join(indent ? "\n" : "\n\n");
}

export function toMarkdown(doc) {
  const md = blocks(doc, "");
  return md === null ? null : md.trim() ? md + "\n" : "";
}
