// The bundle's entry: mounts the rich editor on the page editor's form and
// exposes window.CairnEditor (the round trip and the paste cleaner, for the
// browser tests and benchmarks; mountComment, which app.js calls on the
// page view when a comment box is first used).
import { parse, serialize, roundTrip, canonical } from "./storage.js";
import { cleanHtml } from "./paste.js";
import { toMarkdown } from "./markdown.js";
import { mount } from "./editor.js";
import { mountComment } from "./comments.js";

const api = {
  parse,
  serialize,
  roundTrip,
  canonical: (src, opts) => canonical(parse(src, opts)),
  cleanHtml,
  toMarkdown: (src) => toMarkdown(parse(src)),
  mount,
  mountComment,
  editor: null,
};
window.CairnEditor = api;

function start() {
  const form = document.getElementById("editor");
  if (form && form.querySelector("textarea#body") && form.querySelector("#format") && !form.dataset.plainEditor) {
    api.editor = mount(form);
  }
}
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
