// `h(tag, attrs, ...kids)`: an element with attributes (false or null
// left out, true as an empty attribute, `on…` as event listeners) and
// children (null left out). Shared by the editor's modules.
export function h(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v == null) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const k of kids) if (k != null) e.append(k);
  return e;
}
