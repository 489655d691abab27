// A task's assignee and due date. As in Confluence (and as the server's task
// index and renderer read them, host/render/src/tasks.rs), they are no
// attributes of `ac:task`: the assignee is the first person mentioned in the
// task's body (`<ac:link><ri:user …/></ac:link>`) and the due date its first
// `<time datetime="YYYY-MM-DD"/>`. So `@` in a task assigns it (the usual
// mention), `//` opens the date picker, and the toolbar's Assign and Due date
// buttons (shown inside a task) add one at the end of the task's text or,
// when there is one, open its popover (popovers.js) to change it.
import { Plugin, NodeSelection, TextSelection } from "prosemirror-state";
import { schema } from "./schema.js";
import { h } from "./dom.js";

const S = schema.nodes;

/** The task item around the selection: {node, pos} or null. */
export function taskAt(state) {
  const $f = state.selection.$from;
  for (let d = $f.depth; d > 0; d--) if ($f.node(d).type === S.task_item) return { node: $f.node(d), pos: $f.before(d) };
  return null;
}

/** The first node of `type` in a task's own body (not in its nested tasks), matching `test`. */
function firstInTask(task, type, test) {
  let found = null;
  task.node.descendants((n, p) => {
    if (found) return false;
    if (n.type === S.task_list) return false;
    if (n.type === type && (!test || test(n))) found = { node: n, pos: task.pos + 1 + p };
    return !found;
  });
  return found;
}

/** The end of the task's first text block: where a new assignee or date goes. */
function taskEnd(task) {
  let end = null;
  task.node.forEach((c, off) => {
    if (end === null && c.isTextblock) end = task.pos + 1 + off + c.nodeSize - 1;
  });
  return end;
}

class TaskTools {
  constructor(view, ed) {
    this.view = view;
    this.ed = ed;
    const id = (s) => (ed.idOf ? ed.idOf(s) : s);
    this.idOf = id;
    if (ed.toolbar) {
      const mk = (key, label, glyph, run) => {
        const b = h("button", { type: "button", id: id("tb-" + key), "aria-label": label, title: label, tabindex: "-1", class: "tb", "data-glyph": glyph, "data-tb": key });
        b.addEventListener("mousedown", (e) => e.preventDefault());
        b.addEventListener("click", run);
        return b;
      };
      this.dom = h("span", { class: "tb-task", hidden: true },
        mk("assign", "Assign the task (@ in a task)", "@→", () => this.assign()),
        mk("due", "Set the due date (// in a task)", "📅", () => this.due()));
      ed.toolbar.append(this.dom);
    }
    this.update(view, null);
  }

  update(view, prev) {
    if (!this.dom) return;
    const st = view.state;
    if (prev && prev.doc === st.doc && prev.selection.eq(st.selection)) return;
    const inTask = !!taskAt(st);
    if (this.dom.hidden === inTask) this.dom.hidden = !inTask;
  }

  destroy() {
    if (this.dom) this.dom.remove();
  }

  /** The popover's form on an existing assignee or date. */
  change(found) {
    const st = this.view.state;
    this.view.dispatch(st.tr.setSelection(NodeSelection.create(st.doc, found.pos)));
    if (this.ed.popover) this.ed.popover.open();
  }

  /** Assign the task: change its assignee, or mention someone at the end of its text. */
  assign() {
    const task = taskAt(this.view.state);
    if (!task) return;
    const who = firstInTask(task, S.ac_link, (n) => n.attrs.kind === "user");
    if (who) return this.change(who);
    this.atTaskEnd(task);
    this.ed.mentionDialog();
  }

  /** Set the task's due date: change its date, or add one at the end of its text. */
  due() {
    const task = taskAt(this.view.state);
    if (!task) return;
    const when = firstInTask(task, S.time);
    if (when) return this.change(when);
    this.atTaskEnd(task);
    this.dateDialog();
  }

  atTaskEnd(task) {
    const st = this.view.state;
    const end = taskEnd(task);
    if (end === null) return;
    let tr = st.tr.setSelection(TextSelection.create(st.doc, end));
    const before = tr.doc.resolve(end).nodeBefore;
    if (before && !(before.isText && /\s$/.test(before.text))) tr = tr.insertText(" ");
    this.view.dispatch(tr);
  }

  /** The date picker: inserts `<time datetime="YYYY-MM-DD"/>` at the selection. */
  dateDialog() {
    const id = this.idOf("due-date");
    const today = new Date();
    const iso = new Date(today.getTime() - today.getTimezoneOffset() * 60000).toISOString().slice(0, 10);
    const input = h("input", { id, type: "date", value: iso, required: true });
    this.ed.dialog("Due date", h("div", {}, h("label", { for: id }, "Date"), input), () => {
      const v = input.value;
      if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) throw new Error("Choose a date.");
      this.view.dispatch(this.view.state.tr.replaceSelectionWith(S.time.create({ datetime: v }), false).scrollIntoView());
    }, "Set the date");
  }
}

/**
 * The task tools (a plugin view) and `//` in a task for the date picker.
 * Early in the editor's list, so `/` in a task is a character rather than
 * the macro browser, and a second one the date.
 */
export function taskPlugins(ed) {
  let tools = null;
  return [
    new Plugin({
      view(view) {
        tools = new TaskTools(view, ed);
        return tools;
      },
      props: {
        handleTextInput(view, from, to, text) {
          if (text !== "/" || !tools) return false;
          const st = view.state;
          if (!taskAt(st)) return false;
          const $f = st.doc.resolve(from);
          if ($f.parent.type.spec.code) return false;
          const before = $f.parent.textBetween(Math.max(0, $f.parentOffset - 1), $f.parentOffset, null, "\ufffc");
          if (before === "/") {
            view.dispatch(st.tr.delete(from - 1, to));
            setTimeout(() => tools.dateDialog(), 0);
          } else view.dispatch(st.tr.insertText("/", from, to));
          return true;
        },
      },
    }),
  ];
}
