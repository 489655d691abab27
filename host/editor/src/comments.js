// The rich-text editor in a comment box: new comments, replies, comment
// edits and inline-comment threads on the page view. The same editor as the
// page's (RichEditor: schema, round trip, `@` mentions, `[` links, dialogs,
// popovers), with a compact toolbar, ids of its own (a page has many comment
// boxes) and the same contract with its form: in rich mode the text area
// `body` holds the serialized storage format and `format` is "storage";
// Source and Markdown are the plain text area, one click away. Without the
// script the text area posts as it is (Markdown for a new comment, storage
// format for an edit).
import { toggleMark } from "prosemirror-commands";
import { wrapInList } from "prosemirror-schema-list";
import { RichEditor } from "./editor.js";
import { schema } from "./schema.js";
import { h } from "./dom.js";

const S = schema.nodes, M = schema.marks;
let seq = 0;

function markActive(state, type) {
  const { from, $from, to, empty } = state.selection;
  if (empty) return !!type.isInSet(state.storedMarks || $from.marks());
  return state.doc.rangeHasMark(from, to, type);
}

export class CommentEditor extends RichEditor {
  constructor(form) {
    super(form);
    const page = document.getElementById("main-content");
    this.pageId = Number(page && page.dataset.pageId) || 0;
  }

  /** An id unique on the page: `c3-tb-strong`. */
  idOf(s) {
    return `c${this.n}-${s}`;
  }

  buildUi() {
    const f = this.form;
    this.n = ++seq;
    this.textarea = f.elements.namedItem("body");
    this.format = f.elements.namedItem("format");
    this.required = this.textarea.required;
    this.label = this.textarea.getAttribute("aria-label") || "Comment";
    const id = (s) => this.idOf(s);
    this.modes = h("div", { class: "rich-modes comment-modes", role: "group", "aria-label": "Editing mode" });
    for (const [m, label] of [["rich", "Rich text"], ["source", "Source"], ["markdown", "Markdown"]]) {
      const b = h("button", { type: "button", id: id("mode-" + m), "aria-pressed": "false", "data-mode": m }, label);
      b.addEventListener("click", () => this.switchTo(m));
      this.modes.append(b);
    }
    this.toolbar = h("div", { role: "toolbar", "aria-label": "Formatting", "aria-controls": id("rich-body"), class: "rich-toolbar comment-toolbar", id: id("rich-toolbar") });
    this.status = h("p", { class: "rich-status", id: id("rich-status"), "aria-live": "polite" });
    this.mount = h("div", { class: "rich-surface comment-surface wiki-content" });
    this.wrap = h("div", { class: "rich-editor comment-rich", id: id("rich-editor"), hidden: true }, this.toolbar, this.mount);
    this.textarea.before(this.modes, this.wrap);
    this.textarea.after(this.status);
    this.buttons = [];
    const btn = (key, label, glyph, run, active) => {
      const b = h("button", { type: "button", id: id("tb-" + key), "aria-label": label, title: label, tabindex: "-1", class: "tb", "data-glyph": glyph, "data-tb": key });
      if (active) b.setAttribute("aria-pressed", "false");
      b.addEventListener("mousedown", (e) => e.preventDefault());
      b.addEventListener("click", () => {
        run();
        if (!document.querySelector(".rich-dialog")) this.view.focus();
      });
      this.buttons.push({ b, active });
      this.toolbar.append(b);
      return b;
    };
    const mark = (t) => () => toggleMark(t)(this.view.state, this.view.dispatch);
    btn("strong", "Bold (Ctrl+B)", "B", mark(M.strong), M.strong);
    btn("em", "Italic (Ctrl+I)", "I", mark(M.em), M.em);
    btn("underline", "Underline (Ctrl+U)", "U", mark(M.underline), M.underline);
    btn("strike", "Strikethrough", "S", mark(M.strike), M.strike);
    btn("code", "Code (Ctrl+E)", "</>", mark(M.code), M.code);
    btn("bullet", "Bullet list", "•", () => wrapInList(S.bullet_list)(this.view.state, this.view.dispatch));
    btn("ordered", "Numbered list", "1.", () => wrapInList(S.ordered_list)(this.view.state, this.view.dispatch));
    btn("link", "Link (Ctrl+K)", "🔗", () => this.linkDialog());
    btn("mention", "Mention someone (@)", "@", () => this.mentionDialog());
    btn("emoticon", "Insert an emoticon", "☺", () => this.emoticonDialog());
    this.rovingFocus("button");
    this.buttons[0].b.tabIndex = 0;
    f.addEventListener("submit", () => this.flush(), true);
  }

  start(source) {
    super.start(source);
    if (!this.named) {
      this.named = true;
      this.view.setProps({
        attributes: { role: "textbox", "aria-multiline": "true", "aria-label": this.label, id: this.idOf("rich-body"), "aria-describedby": this.idOf("rich-status"), spellcheck: "true", class: "rich-body" },
      });
    }
  }

  refreshToolbar() {
    const st = this.view.state;
    for (const { b, active } of this.buttons) if (active) b.setAttribute("aria-pressed", String(markActive(st, active)));
  }

  focusToolbar() {
    const items = [...this.toolbar.querySelectorAll("button")].filter((x) => !x.closest("[hidden]") && !x.disabled);
    const cur = items.find((x) => x.tabIndex === 0) || items[0];
    this.rove(items, items.indexOf(cur));
  }

  setMode(m) {
    this.mode = m;
    this.form.dataset.mode = m;
    for (const b of this.modes.querySelectorAll("button")) b.setAttribute("aria-pressed", String(b.dataset.mode === m));
    const rich = m === "rich";
    this.wrap.hidden = !rich;
    this.textarea.hidden = rich;
    // A hidden required field would stop the form without a word: the
    // server says "a comment must not be empty" instead.
    this.textarea.required = rich ? false : this.required;
    this.textarea.placeholder = m === "markdown" ? "Markdown; @ mentions someone" : m === "source" ? "Storage format" : "";
    this.format.value = m === "markdown" ? "markdown" : "storage";
    this.format.dispatchEvent(new Event("change", { bubbles: true }));
  }

  /** Focuses the text, whatever the mode. */
  focus() {
    if (this.mode === "rich") this.view.focus();
    else this.textarea.focus();
  }

  upload() {
    this.say("Images cannot be pasted into a comment: attach them to the page, then insert them with !.");
  }
}

/**
 * Mounts the rich editor on a comment form (`textarea[name=body]`,
 * `input[name=format]`), once. Rich mode unless someone already typed in the
 * text area before the editor arrived: then it stays as typed, in its mode.
 */
export function mountComment(form) {
  if (form.cairnEditor) return form.cairnEditor;
  const ed = new CommentEditor(form);
  form.cairnEditor = ed;
  const ta = ed.textarea;
  const markdown = ed.format.value === "markdown";
  if (ta.value !== ta.defaultValue) {
    ed.setMode(markdown ? "markdown" : "source");
    return ed;
  }
  try {
    ed.start(markdown ? "" : ta.value);
    ed.setMode("rich");
  } catch (e) {
    ed.setMode(markdown ? "markdown" : "source");
    ed.say(`The rich-text editor cannot open this comment (${e.message}): it is shown as storage format.`);
  }
  return ed;
}
