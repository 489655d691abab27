// A small XML reader for storage format that remembers where every node
// came from in the source text (`start`/`end` offsets): the editor's
// round-trip invariant writes unchanged nodes back as their exact source
// bytes, which a DOMParser tree cannot give. Stored bodies do not declare
// the ac:/ri: prefixes and use HTML named entities, so neither is an error.

const LATIN1 =
  "nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr deg plusmn sup2 sup3 acute micro para middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest Agrave Aacute Acirc Atilde Auml Aring AElig Ccedil Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml ETH Ntilde Ograve Oacute Ocirc Otilde Ouml times Oslash Ugrave Uacute Ucirc Uuml Yacute THORN szlig agrave aacute acirc atilde auml aring aelig ccedil egrave eacute ecirc euml igrave iacute icirc iuml eth ntilde ograve oacute ocirc otilde ouml divide oslash ugrave uacute ucirc uuml yacute thorn yuml";

const ENTITIES = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
LATIN1.split(" ").forEach((n, i) => (ENTITIES[n] = String.fromCharCode(160 + i)));
Object.assign(ENTITIES, {
  OElig: "\u0152", oelig: "\u0153", Scaron: "\u0160", scaron: "\u0161", Yuml: "\u0178", fnof: "\u0192",
  circ: "\u02c6", tilde: "\u02dc", ensp: "\u2002", emsp: "\u2003", thinsp: "\u2009", zwnj: "\u200c",
  zwj: "\u200d", lrm: "\u200e", rlm: "\u200f", ndash: "\u2013", mdash: "\u2014", lsquo: "\u2018",
  rsquo: "\u2019", sbquo: "\u201a", ldquo: "\u201c", rdquo: "\u201d", bdquo: "\u201e", dagger: "\u2020",
  Dagger: "\u2021", bull: "\u2022", hellip: "\u2026", permil: "\u2030", prime: "\u2032", Prime: "\u2033",
  lsaquo: "\u2039", rsaquo: "\u203a", oline: "\u203e", euro: "\u20ac", trade: "\u2122", larr: "\u2190",
  uarr: "\u2191", rarr: "\u2192", darr: "\u2193", harr: "\u2194", lArr: "\u21d0", rArr: "\u21d2",
  hArr: "\u21d4", forall: "\u2200", exist: "\u2203", empty: "\u2205", isin: "\u2208", ne: "\u2260",
  le: "\u2264", ge: "\u2265", asymp: "\u2248", equiv: "\u2261", infin: "\u221e", minus: "\u2212",
  radic: "\u221a", sum: "\u2211", prod: "\u220f", part: "\u2202", nabla: "\u2207", spades: "\u2660",
  clubs: "\u2663", hearts: "\u2665", diams: "\u2666", loz: "\u25ca", Alpha: "\u0391", Beta: "\u0392",
  Gamma: "\u0393", Delta: "\u0394", alpha: "\u03b1", beta: "\u03b2", gamma: "\u03b3", delta: "\u03b4",
  epsilon: "\u03b5", lambda: "\u03bb", mu: "\u03bc", pi: "\u03c0", sigma: "\u03c3", omega: "\u03c9",
  Omega: "\u03a9", check: "\u2713", cross: "\u2717",
});

/** Decodes character and entity references; an unknown one stays as written. */
export function decode(s) {
  if (s.indexOf("&") < 0) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z][A-Za-z0-9]*);/g, (m, e) => {
    if (e[0] === "#") {
      const n = e[1] === "x" || e[1] === "X" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      try {
        return String.fromCodePoint(n);
      } catch (_) {
        return m;
      }
    }
    return Object.prototype.hasOwnProperty.call(ENTITIES, e) ? ENTITIES[e] : m;
  });
}

export function escapeText(s) {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/\u00a0/g, "&nbsp;");
}

export function escapeAttr(s) {
  return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** A CDATA section holding `s`, splitting any `]]>` inside it. */
export function cdata(s) {
  return "<![CDATA[" + s.split("]]>").join("]]]]><![CDATA[>") + "]]>";
}

export class XmlError extends Error {
  constructor(message, src, at) {
    const before = src.slice(0, at);
    const line = before.split("\n").length;
    const col = at - before.lastIndexOf("\n");
    super(`${message} at line ${line}, column ${col}`);
    this.line = line;
    this.column = col;
  }
}

const NAME = /[A-Za-z_:][-A-Za-z0-9_:.]*/y;
const ATTR = /\s+([A-Za-z_:][-A-Za-z0-9_:.]*)\s*=\s*("[^"]*"|'[^']*')/y;

/**
 * Parses `src` into a list of nodes:
 * `{type: "el", name, attrs: [{name, value, raw}], start, end, openEnd, closeStart, children}`,
 * `{type: "text", start, end, text}`, `{type: "cdata", start, end, text}`,
 * `{type: "comment" | "pi", start, end}`. Throws XmlError on malformed input.
 */
export function parseXml(src) {
  const root = { type: "el", name: "#root", attrs: [], children: [], start: 0, openEnd: 0 };
  const stack = [root];
  let i = 0;
  const n = src.length;
  const push = (node) => stack[stack.length - 1].children.push(node);
  while (i < n) {
    const lt = src.indexOf("<", i);
    if (lt !== i) {
      const end = lt < 0 ? n : lt;
      const raw = src.slice(i, end);
      push({ type: "text", start: i, end, text: decode(raw) });
      i = end;
      continue;
    }
    if (src.startsWith("<!--", i)) {
      const e = src.indexOf("-->", i + 4);
      if (e < 0) throw new XmlError("unclosed comment", src, i);
      push({ type: "comment", start: i, end: e + 3 });
      i = e + 3;
    } else if (src.startsWith("<![CDATA[", i)) {
      const e = src.indexOf("]]>", i + 9);
      if (e < 0) throw new XmlError("unclosed CDATA section", src, i);
      push({ type: "cdata", start: i, end: e + 3, text: src.slice(i + 9, e) });
      i = e + 3;
    } else if (src.startsWith("<?", i)) {
      const e = src.indexOf("?>", i + 2);
      if (e < 0) throw new XmlError("unclosed processing instruction", src, i);
      push({ type: "pi", start: i, end: e + 2 });
      i = e + 2;
    } else if (src.startsWith("<!", i)) {
      const e = src.indexOf(">", i + 2);
      if (e < 0) throw new XmlError("unclosed declaration", src, i);
      push({ type: "pi", start: i, end: e + 1 });
      i = e + 1;
    } else if (src[i + 1] === "/") {
      NAME.lastIndex = i + 2;
      const m = NAME.exec(src);
      if (!m) throw new XmlError("bad closing tag", src, i);
      let j = NAME.lastIndex;
      while (j < n && /\s/.test(src[j])) j++;
      if (src[j] !== ">") throw new XmlError(`bad closing tag </${m[0]}`, src, i);
      const open = stack[stack.length - 1];
      if (open.name !== m[0]) {
        throw new XmlError(
          open === root ? `</${m[0]}> closes nothing` : `</${m[0]}> where </${open.name}> was expected`,
          src,
          i,
        );
      }
      open.closeStart = i;
      open.end = j + 1;
      stack.pop();
      i = j + 1;
    } else {
      NAME.lastIndex = i + 1;
      const m = NAME.exec(src);
      if (!m) throw new XmlError("a '<' that starts no tag (write &lt;)", src, i);
      let j = NAME.lastIndex;
      const attrs = [];
      for (;;) {
        ATTR.lastIndex = j;
        const a = ATTR.exec(src);
        if (!a) break;
        attrs.push({ name: a[1], value: decode(a[2].slice(1, -1)), raw: a[0] });
        j = ATTR.lastIndex;
      }
      while (j < n && /\s/.test(src[j])) j++;
      const el = { type: "el", name: m[0], attrs, start: i, children: [] };
      if (src.startsWith("/>", j)) {
        el.openEnd = el.closeStart = el.end = j + 2;
        el.selfClosing = true;
        push(el);
        i = j + 2;
      } else if (src[j] === ">") {
        el.openEnd = j + 1;
        push(el);
        stack.push(el);
        i = j + 1;
      } else {
        throw new XmlError(`bad attribute in <${m[0]}>`, src, j);
      }
    }
  }
  if (stack.length > 1) {
    const open = stack[stack.length - 1];
    throw new XmlError(`<${open.name}> is never closed`, src, open.start);
  }
  return root.children;
}

export function attr(el, name) {
  const a = el.attrs.find((x) => x.name === name);
  return a ? a.value : null;
}

/** The element's attributes other than `skip`, exactly as written. */
export function rawAttrs(el, skip) {
  return el.attrs
    .filter((a) => !skip || !skip.includes(a.name))
    .map((a) => a.raw)
    .join("");
}

/** The text content of a node (CDATA included). */
export function textOf(node) {
  if (node.type === "text" || node.type === "cdata") return node.text;
  if (node.type !== "el") return "";
  return node.children.map(textOf).join("");
}
