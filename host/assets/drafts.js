// Drafts: the editor saves what is typed to the server every few seconds
// while it changes, when the tab is hidden and when the page is left, so a
// crashed browser or a dead node loses at most the last few seconds. The
// dashboard lists the viewer's drafts. No inline scripts (the CSP forbids them).
"use strict";

(function () {
  const SAVE_URL = "/ui/drafts";

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function clock(iso) {
    const d = new Date(iso);
    return isNaN(d) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  // The editor's form (`form#editor`): any `input` event marks it changed
  // (the rich-text editor keeps `textarea#body` current and fires them).
  function initAutosave(form) {
    const status = document.getElementById("draft-status");
    const draftField = form.querySelector("input[name=draft]");
    const every = Number(form.dataset.autosaveMs) || 5000;
    let dirty = false;
    let saving = false;
    let leaving = false;
    let timer = null;

    const show = (text) => { if (status) status.textContent = text; };
    const payload = () => new URLSearchParams(new FormData(form));

    function answered(v) {
      if (v.state === "saved") {
        if (draftField && v.draft) draftField.value = v.draft;
        form.dataset.draftSaved = v.savedAt;
        show("Draft saved " + clock(v.savedAt));
      } else if (v.state === "unchanged") {
        show("No unpublished changes");
      }
    }

    async function save() {
      if (!dirty || saving || leaving) return;
      dirty = false;
      saving = true;
      show("Saving draft…");
      try {
        const r = await fetch(SAVE_URL, { method: "POST", credentials: "same-origin", body: payload() });
        if (!r.ok) throw new Error("status " + r.status);
        answered(await r.json());
      } catch (e) {
        dirty = true;
        show("Draft not saved yet; trying again");
      } finally {
        saving = false;
      }
    }

    const changed = () => {
      dirty = true;
      if (!timer) timer = setInterval(save, every);
    };
    // The rich-text surface's own input events are left out: what is saved
    // is textarea#body, which the editor writes (with an input event) when
    // typing pauses; saving on every key would only encode a stale copy of a
    // long body while someone types.
    // (Nor do the editor's own controls — its toolbar, its find bar — change
    // the draft: what they change in the text reaches textarea#body too.)
    const own = (e) => e.target.closest && e.target.closest(".rich-editor");
    form.addEventListener("input", (e) => { if (!own(e)) changed(); });
    form.addEventListener("change", (e) => { if (!own(e)) changed(); });
    // Publishing deletes the draft: nothing may save it again afterwards.
    form.addEventListener("submit", () => { leaving = true; if (timer) clearInterval(timer); });
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "hidden") save();
    });
    // Leaving: a request that outlives the page (beacons carry up to 64 KB;
    // larger bodies rely on the saves before).
    addEventListener("pagehide", () => {
      if (!dirty || leaving) return;
      dirty = false;
      const body = payload();
      if (!(navigator.sendBeacon && navigator.sendBeacon(SAVE_URL, body))) {
        fetch(SAVE_URL, { method: "POST", credentials: "same-origin", body, keepalive: true }).catch(() => {});
      }
    });

    // The conflict view's merge of both changes.
    const use = document.getElementById("use-merged");
    const merged = document.getElementById("merged-body");
    const body = form.querySelector("#body");
    if (use && merged && body) {
      use.addEventListener("click", () => {
        body.value = merged.value;
        body.dispatchEvent(new Event("input", { bubbles: true }));
      });
    }
  }

  // The dashboard's "Drafts": the viewer's own, read by script so the
  // dashboard stays one cached page for everyone.
  function initDraftList() {
    const list = document.getElementById("my-drafts");
    if (!list) return;
    fetch(list.dataset.source, { credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : { results: [] }))
      .then((v) => {
        list.replaceChildren();
        for (const it of v.results || []) {
          const li = el("li");
          const when = el("time", { datetime: it.savedAt }, it.saved);
          li.append(el("a", { href: it.url }, it.title), " ", el("span", { class: "meta" }, it.space + (it.new ? " · new" : "") + " · "), when);
          list.append(li);
        }
        if (!list.children.length) list.append(el("li", { class: "muted" }, "What you write and do not publish appears here."));
      })
      .catch(() => list.replaceChildren(el("li", { class: "muted" }, "Could not load your drafts.")));
  }

  const form = document.getElementById("editor");
  if (form) initAutosave(form);
  initDraftList();
})();
