// Pasted HTML (Word, Google Docs, web pages) made clean before ProseMirror
// parses it: formatting carried by styles becomes elements (strong, em, u,
// s, sub, sup), a colour stays as `<span style="color: …">`, and everything
// else — classes, ids, mso-* styles, Google's docs-internal-guid wrapper,
// Word's list markers and conditional comments, fonts, sizes — goes.

const DROP = new Set(["SCRIPT", "STYLE", "META", "LINK", "TITLE", "HEAD", "XML", "O:P", "IFRAME", "OBJECT", "EMBED", "FORM", "INPUT", "BUTTON", "SELECT", "TEXTAREA", "SVG", "CANVAS", "VIDEO", "AUDIO", "NOSCRIPT"]);
const KEEP_ATTRS = { A: ["href", "title"], TD: ["colspan", "rowspan"], TH: ["colspan", "rowspan"], OL: ["start"], IMG: ["src", "alt", "width", "height"] };
const DEFAULT_COLOURS = /^(black|windowtext|inherit|initial|currentcolor|#000|#000000|rgb\(0,\s*0,\s*0\)|rgba\(0,\s*0,\s*0,\s*1\))$/i;

function wrapChildren(doc, el, tag) {
  const w = doc.createElement(tag);
  while (el.firstChild) w.appendChild(el.firstChild);
  el.appendChild(w);
}

function unwrap(el) {
  const p = el.parentNode;
  while (el.firstChild) p.insertBefore(el.firstChild, el);
  p.removeChild(el);
}

// Word writes list items as paragraphs with `mso-list: lN levelM`.
function wordLists(doc) {
  const paras = [...doc.querySelectorAll("p, h1, h2, h3, h4, h5, h6")].filter((p) => /mso-list:\s*l\d+\s+level\d+/i.test(p.getAttribute("style") || ""));
  let stack = [];
  let last = null;
  for (const p of paras) {
    const m = /mso-list:\s*l(\d+)\s+level(\d+)/i.exec(p.getAttribute("style"));
    const level = Number(m[2]);
    const marker = [...p.querySelectorAll("span")].find((s) => /mso-list:\s*ignore/i.test(s.getAttribute("style") || ""));
    const markerText = marker ? marker.textContent.trim() : "";
    const ordered = /^(\(?[0-9]+[.)]|\(?[a-zA-Z][.)]|[ivxIVX]+[.)])$/.test(markerText);
    if (marker) marker.remove();
    const contiguous = last && last.nextElementSibling === p;
    if (!contiguous) stack = [];
    while (stack.length > level) stack.pop();
    while (stack.length < level) {
      const list = doc.createElement(ordered ? "ol" : "ul");
      if (stack.length === 0) p.parentNode.insertBefore(list, p);
      else {
        const parentList = stack[stack.length - 1];
        const li = parentList.lastElementChild || parentList.appendChild(doc.createElement("li"));
        li.appendChild(list);
      }
      stack.push(list);
    }
    const li = doc.createElement("li");
    while (p.firstChild) li.appendChild(p.firstChild);
    stack[stack.length - 1].appendChild(li);
    last = p;
    // keep `p` in place until the next item is checked for contiguity
    p.setAttribute("data-cairn-gone", "");
    p.textContent = "";
  }
  for (const p of doc.querySelectorAll("[data-cairn-gone]")) {
    // a following item checks `last.nextElementSibling`; by now all are placed
    p.remove();
  }
}

function clean(doc, node) {
  for (const br of node.querySelectorAll ? node.querySelectorAll("br.Apple-interchange-newline") : []) br.remove();
  for (const child of [...node.childNodes]) {
    if (child.nodeType === 8) { child.remove(); continue; }
    if (child.nodeType !== 1) continue;
    const el = child;
    const tag = el.tagName.toUpperCase();
    if (DROP.has(tag) || tag.includes(":")) {
      if (tag.includes(":") && !DROP.has(tag) && el.textContent.trim()) { clean(doc, el); unwrap(el); } else el.remove();
      continue;
    }
    clean(doc, el);
    const style = el.getAttribute("style") || "";
    const get = (prop) => {
      const m = new RegExp("(?:^|;)\\s*" + prop + "\\s*:\\s*([^;]+)", "i").exec(style);
      return m ? m[1].trim() : "";
    };
    // Google Docs wraps a whole copy in <b style="font-weight:normal" id="docs-internal-guid-…">.
    if (tag === "B" && (/^docs-internal-guid/.test(el.id || "") || /^(normal|400)$/.test(get("font-weight")))) { unwrap(el); continue; }
    const weight = get("font-weight");
    if (/^(bold|bolder|[6-9]00)$/.test(weight) && !["B", "STRONG", "H1", "H2", "H3", "H4", "H5", "H6", "TH"].includes(tag)) wrapChildren(doc, el, "strong");
    if (/italic/.test(get("font-style")) && !["I", "EM"].includes(tag)) wrapChildren(doc, el, "em");
    const deco = get("text-decoration") + " " + get("text-decoration-line");
    // Links are underlined and coloured by whoever shows them, not by the text.
    const inLink = !!el.closest("a");
    if (/underline/.test(deco) && tag !== "U" && !inLink) wrapChildren(doc, el, "u");
    if (/line-through/.test(deco) && !["S", "DEL", "STRIKE"].includes(tag)) wrapChildren(doc, el, "s");
    const va = get("vertical-align");
    if (va === "super" && tag !== "SUP") wrapChildren(doc, el, "sup");
    if (va === "sub" && tag !== "SUB") wrapChildren(doc, el, "sub");
    const colour = get("color");
    const keepColour = !inLink && colour && !DEFAULT_COLOURS.test(colour) && !/^(var|hsl)/i.test(colour) && /^(#[0-9a-f]{3,8}|rgba?\([\d\s.,%]+\)|[a-z]+)$/i.test(colour);
    for (const a of [...el.attributes]) {
      if (!(KEEP_ATTRS[tag] || []).includes(a.name.toLowerCase())) el.removeAttribute(a.name);
    }
    if (tag === "A" && /^\s*javascript:/i.test(el.getAttribute("href") || "")) el.removeAttribute("href");
    if (keepColour && tag !== "A") {
      if (tag === "SPAN" || tag === "FONT") el.setAttribute("style", "color: " + colour);
      else wrapChildren(doc, el, "span"), el.firstChild.setAttribute("style", "color: " + colour);
    }
    if ((tag === "SPAN" || tag === "FONT") && !el.getAttribute("style")) unwrap(el);
    else if (tag === "DIV" || tag === "SECTION" || tag === "ARTICLE" || tag === "MAIN" || tag === "CENTER") {
      // divs become paragraphs unless they hold blocks
      if (el.querySelector("p, div, ul, ol, table, h1, h2, h3, h4, h5, h6, pre, blockquote")) unwrap(el);
      else {
        const p = doc.createElement("p");
        while (el.firstChild) p.appendChild(el.firstChild);
        el.replaceWith(p);
      }
    }
  }
}

/** Clean HTML for ProseMirror's parser (see the module comment). */
export function cleanHtml(html) {
  const doc = new DOMParser().parseFromString(html, "text/html");
  wordLists(doc);
  clean(doc, doc.body);
  // Word's spacing paragraphs (only &nbsp;) and the line break browsers add
  // after a copied block are not content.
  for (const br of doc.body.querySelectorAll("br.Apple-interchange-newline")) br.remove();
  for (const p of doc.body.querySelectorAll("p")) if (!p.textContent.replace(/\u00a0/g, "").trim() && !p.querySelector("img, br")) p.remove();
  return doc.body.innerHTML;
}

/** Whether plain text reads as Markdown worth converting. */
export function looksLikeMarkdown(text) {
  return /^(#{1,6} |\s*[-*+] |\s*\d+\. |```|> |\|.*\|\s*$)/m.test(text) || /\*\*[^*\n]+\*\*|\[[^\]\n]+\]\([^)\s]+\)|`[^`\n]+`/.test(text);
}
