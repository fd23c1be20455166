// The dashboard's only script, progressive: pages work without it. It
// saves the editor's draft as the owner types, shows the validator's
// problems next to their fields, reloads the live preview, and copies
// snippets.

interface Problem { field: string; message: string }

const $ = <T extends Element>(sel: string, root: ParentNode = document) => root.querySelector<T>(sel);
const $$ = <T extends Element>(sel: string, root: ParentNode = document) => Array.from(root.querySelectorAll<T>(sel));

// Banner texts are addressed /texts/<lang>/<key> by the validator but laid
// out /texts/<key>/<lang> in the form, so languages sit side by side.
function formPath(field: string): string {
  const m = /^\/texts\/([^/]+)\/([^/]+)$/.exec(field);
  return m ? `/texts/${m[2]}/${m[1]}` : field;
}

// fieldLabel names a configuration path as the form does: the label of its
// field ("Site name", "Title (en)"), with what is below it, else the path.
function fieldLabel(form: HTMLFormElement, field: string): string {
  const path = formPath(field);
  let best: HTMLElement | null = null;
  for (const b of $$<HTMLElement>("[data-field]", form)) {
    const name = b.dataset.field || "";
    if ((path === name || path.startsWith(name + "/")) && (!best || name.length > (best.dataset.field || "").length)) best = b;
  }
  if (!best) return field;
  const control = $$<HTMLInputElement>("input,select,textarea", best).find((c) => c.name === path);
  const label = (control && control.id && $<HTMLElement>(`label[for="${control.id}"]`, form)) || $<HTMLElement>("label", best);
  let text = "";
  if (label) {
    const copy = label.cloneNode(true) as HTMLElement;
    for (const x of $$<HTMLElement>(".hint,.badge", copy)) x.remove();
    const tag = $<HTMLElement>(".lang-tag", copy);
    const lang = tag ? tag.textContent || "" : "";
    if (tag) tag.remove();
    text = (copy.textContent || "").trim() + (lang ? ` (${lang})` : "");
  }
  // Where it is: its card (a category, an item), else its section.
  const card = best.closest(".card");
  const legend = best.closest("fieldset")?.querySelector("legend");
  const where = (card ? $<HTMLElement>("h2", card)?.textContent || "" : (legend && legend.textContent || "").replace(/\s*\(.*\)$/, "")).trim();
  return (where ? where + ": " : "") + (text || field);
}

function showProblems(form: HTMLFormElement, problems: Problem[]) {
  const boxes = $$<HTMLElement>("[data-field]", form);
  for (const b of boxes) {
    const err = $<HTMLElement>(".field-error", b);
    if (err) err.textContent = "";
    for (const c of $$<HTMLElement>("input,select,textarea", b)) c.removeAttribute("aria-invalid");
  }
  const list = $<HTMLElement>("#problem-list");
  const panel = $<HTMLElement>("#problems");
  const count = $<HTMLElement>("#problem-count");
  if (list) list.textContent = "";
  for (const p of problems) {
    const path = formPath(p.field);
    let best: HTMLElement | null = null;
    let bestName = "";
    for (const b of boxes) {
      const name = b.dataset.field || "";
      if ((path === name || path.startsWith(name + "/")) && name.length > bestName.length) {
        best = b;
        bestName = name;
      }
    }
    if (best) {
      const err = $<HTMLElement>(".field-error", best);
      const rest = path.slice(bestName.length + 1);
      if (err) err.textContent += (err.textContent ? "; " : "") + (rest ? rest + ": " : "") + p.message;
      // The control of that very value (one language of a text), else all of the field's.
      const controls = $$<HTMLInputElement>("input,select,textarea", best);
      const own = controls.filter((c) => c.name === path || c.name.startsWith(path + "/"));
      for (const c of own.length ? own : controls) c.setAttribute("aria-invalid", "true");
    }
    if (list) {
      const li = document.createElement("li");
      li.textContent = `${p.field || "/"}: ${p.message}`;
      list.appendChild(li);
    }
  }
  if (count) count.textContent = String(problems.length);
  if (panel) panel.hidden = problems.length === 0;
}

// The preview's real widths: a desktop and a small phone, drawn at full
// size in the frame and scaled down to fit the pane.
const previewSizes: Record<string, [number, number]> = { desktop: [1280, 800], mobile: [360, 740] };

// previewControls wires a preview's language, layer and width buttons
// (inside root) to its frame; src(lang, layer) is the frame's address.
// It returns reload, for the editor to call after each save.
function previewControls(root: ParentNode, frame: HTMLIFrameElement, src: (lang: string, layer: string) => string) {
  const view = { lang: "sv", layer: "1", width: "desktop" };
  const pressed = (attr: string) => $<HTMLElement>(`[${attr}][aria-pressed=true]`, root)?.getAttribute(attr);
  view.lang = pressed("data-preview-lang") || view.lang;
  view.layer = pressed("data-preview-layer") || view.layer;
  view.width = pressed("data-preview-width") || view.width;
  const reload = () => { frame.src = src(view.lang, view.layer); };
  const fit = () => {
    const wrap = frame.parentElement;
    if (!wrap) return;
    const [w, h] = previewSizes[view.width] || previewSizes.desktop;
    const pad = 20;
    const avail = Math.max(wrap.clientWidth - pad, 100);
    const scale = Math.min(1, avail / (w + 2));
    // The page inside is w wide; the frame's border goes around it.
    frame.style.boxSizing = "content-box";
    frame.style.width = `${w}px`;
    frame.style.height = `${h}px`;
    frame.style.maxWidth = "none";
    frame.style.transformOrigin = "0 0";
    frame.style.transform = `scale(${scale})`;
    frame.style.marginLeft = `${Math.max(0, (avail - (w + 2) * scale) / 2)}px`;
    wrap.style.display = "block";
    wrap.style.overflow = "hidden";
    wrap.style.height = `${Math.ceil((h + 2) * scale) + pad}px`;
    frame.dataset.scale = scale.toFixed(3);
    const label = $<HTMLElement>("[data-preview-scale]", root);
    if (label) label.textContent = `${w} × ${h} px${scale < 1 ? `, shown at ${Math.round(scale * 100)} %` : ""}`;
  };
  const group = (attr: string, apply: (value: string) => void) => {
    root.addEventListener("click", (e) => {
      const b = (e.target as Element).closest && (e.target as Element).closest<HTMLButtonElement>(`[${attr}]`);
      if (!b) return;
      for (const o of $$<HTMLButtonElement>(`[${attr}]`, root)) o.setAttribute("aria-pressed", String(o === b));
      apply(b.getAttribute(attr) || "");
    });
  };
  group("data-preview-lang", (v) => { view.lang = v; reload(); });
  group("data-preview-layer", (v) => { view.layer = v; reload(); });
  group("data-preview-width", (v) => { view.width = v; fit(); });
  window.addEventListener("resize", fit);
  fit();
  return reload;
}

// Where their draft and yours differ, as the server listed it after a
// refused save: old is theirs, new is yours.
interface Differ { path: string; old?: string; new?: string }

function editor(form: HTMLFormElement) {
  const frame = document.getElementById(form.dataset.preview || "") as HTMLIFrameElement | null;
  const state = $<HTMLElement>("#save-state");
  const rev = $<HTMLInputElement>("#draft-rev");
  const site = form.action.replace(/\/edit$/, "");
  const pane = $<HTMLElement>(".preview-pane") || document;
  const reload = frame ? previewControls(pane, frame, (lang, layer) =>
    `${site}/preview?lang=${encodeURIComponent(lang)}&layer=${layer}&t=${Date.now()}`) : () => {};
  let timer = 0;
  let busy = false;
  let again = false;
  // conflicted: a save was refused because someone saved in between; no
  // more saves until the user chooses theirs or deliberately keeps theirs.
  let conflicted = false;
  // A button that submits the form (add or remove a category or item)
  // waits for a save in flight, which would otherwise land after it and
  // undo it.
  let held: HTMLElement | null = null;
  form.addEventListener("submit", (e) => {
    window.clearTimeout(timer);
    // The submitted form carries every value itself: nothing to warn about.
    submitting = true;
    if (busy) {
      e.preventDefault();
      held = (e as SubmitEvent).submitter || null;
    }
  });
  const conflict = (data: { error: { message: string }; current: { revision: string; updated_by: string; updated_at: string }; differs: Differ[] }) => {
    conflicted = true;
    const panel = $<HTMLElement>("#conflict");
    const who = $<HTMLElement>("#conflict-who");
    const rows = $<HTMLElement>("#conflict-rows");
    const at = new Date(data.current.updated_at);
    const when = isNaN(at.getTime()) ? data.current.updated_at : at.toISOString().slice(0, 19).replace("T", " ") + " UTC";
    if (who) who.textContent = `${data.current.updated_by} saved this draft at ${when}, after you opened it.`;
    if (rows) {
      rows.textContent = "";
      for (const d of data.differs || []) {
        const tr = document.createElement("tr");
        for (const [text, cls] of [[fieldLabel(form, d.path), ""], [d.old || "", "old"], [d.new || "", "new"]]) {
          const td = document.createElement("td");
          td.textContent = text;
          if (cls) td.className = cls;
          tr.appendChild(td);
        }
        rows.appendChild(tr);
      }
    }
    // Saving mine now replaces their revision, deliberately.
    if (rev) rev.value = data.current.revision;
    if (panel) { panel.hidden = false; panel.scrollIntoView({ block: "start" }); }
    if (state) state.textContent = `Not saved: ${data.current.updated_by} changed the draft meanwhile`;
  };
  const save = async () => {
    if (conflicted) return;
    if (busy) { again = true; return; }
    busy = true;
    if (state) state.textContent = "Saving…";
    try {
      const sent = snapshot(form);
      const body = new URLSearchParams(new FormData(form) as unknown as Record<string, string>);
      body.set("op", "save");
      const res = await fetch(form.action, { method: "POST", body, headers: { Accept: "application/json" }, credentials: "same-origin" });
      const data = await res.json();
      if (res.status === 412 && data.current) {
        conflict(data);
        return;
      }
      if (!res.ok) {
        if (state) state.textContent = "Not saved: " + (data.error ? data.error.message : res.statusText);
        return;
      }
      if (rev && data.revision) rev.value = data.revision;
      base = sent;
      showProblems(form, data.problems || []);
      if (state) state.textContent = data.saved;
      reload();
      relayout = data.languages || null;
    } catch (e) {
      if (state) state.textContent = "Not saved: the server did not answer. Your changes are still in the form.";
    } finally {
      busy = false;
      if (held) {
        const b = held;
        held = null;
        again = false;
        form.requestSubmit(b);
      } else if (again) { again = false; save(); } else if (relayout && !pending) {
        // Not a save: leaving meanwhile needs no warning.
        const langs = relayout;
        relayout = null;
        languages(langs).catch(() => { /* the fields stay as they are */ });
      }
    }
  };
  let relayout: string[] | null = null;
  // A language added or removed changes which fields the texts, categories
  // and items have: they are laid out again from the saved draft, without
  // reloading the page (what has focus is not replaced).
  const shown = () => $$<HTMLElement>("[data-preview-lang]", pane).map((b) => b.dataset.previewLang || "");
  const languages = async (langs: string[]) => {
    if (langs.join(",") === shown().join(",")) return;
    const res = await fetch(form.action, { credentials: "same-origin" });
    if (!res.ok || pending) return;
    const doc = new DOMParser().parseFromString(await res.text(), "text/html");
    const swap = (sel: string) => {
      const now = $<HTMLElement>(sel);
      const next = $<HTMLElement>(sel, doc);
      if (now && next && !now.contains(document.activeElement)) now.replaceWith(document.importNode(next, true));
    };
    for (const id of ["sec-texts", "sec-categories", "sec-items"]) swap("#" + id);
    swap('[data-field="/default_language"]');
    swap('.preview-pane [aria-label="Language"]');
  };
  // pending: typed but not yet sent; inflight: the save being sent.
  let pending = false;
  let submitting = false;
  let inflight: Promise<void> | null = null;
  const send = () => { if (conflicted) return Promise.resolve(); pending = false; inflight = save().finally(() => { inflight = null; }); return inflight; };
  const schedule = () => { window.clearTimeout(timer); pending = true; if (!conflicted) timer = window.setTimeout(send, 600); };
  // flush sends what is typed now and waits for every save to land.
  const flush = async () => {
    window.clearTimeout(timer);
    if (pending) await send();
    while (inflight || busy) await (inflight || new Promise((r) => window.setTimeout(r, 50)));
  };
  // base: the form as the draft last saved from it (or loaded) holds it;
  // what differs from it now is this user's own change.
  let base = snapshot(form);
  // Apply my changes to theirs: the fields changed here since base, on top
  // of their draft as the editor shows it; only when both drafts have the
  // same fields (no category, item or language added or removed).
  const apply = $<HTMLButtonElement>("#conflict-apply");
  if (apply) apply.hidden = false;
  if (apply) apply.addEventListener("click", async (e) => {
    e.preventDefault();
    const note = $<HTMLElement>("#conflict-note");
    const res = await fetch(form.action, { credentials: "same-origin" });
    const doc = new DOMParser().parseFromString(await res.text(), "text/html");
    const other = doc.getElementById("editor");
    if (!res.ok || !(other instanceof HTMLFormElement)) {
      if (note) note.textContent = "Their draft could not be read; try again.";
      return;
    }
    const theirs = snapshot(other);
    // The fields each form has (ticked or not): the same, or the paths mean other things.
    const names = (f: HTMLFormElement) => Array.from(f.elements).map((e) => (e as HTMLInputElement).name || "")
      .filter((n) => n.startsWith("/")).sort().join("\n");
    if (names(other) !== names(form)) {
      if (note) note.textContent = "Their draft has other categories, items or languages than yours had: load theirs and make your changes again, or save yours over theirs.";
      return;
    }
    const now = snapshot(form);
    const merged = new Map(theirs);
    for (const k of new Set([...now.keys(), ...base.keys()])) {
      if (!k.startsWith("/") || same(now.get(k), base.get(k))) continue;
      const v = now.get(k);
      if (v) merged.set(k, v); else merged.delete(k);
    }
    const body = new URLSearchParams();
    for (const [k, vs] of merged) for (const v of vs) body.append(k, v);
    body.set("_csrf", (form.elements.namedItem("_csrf") as HTMLInputElement).value);
    body.set("_rev", (other.elements.namedItem("_rev") as HTMLInputElement).value);
    body.set("op", "save");
    const saved = await fetch(form.action, { method: "POST", body, headers: { Accept: "application/json" }, credentials: "same-origin" });
    const data = await saved.json();
    if (saved.status === 412 && data.current) { conflict(data); return; }
    if (!saved.ok) {
      if (note) note.textContent = "Not saved: " + (data.error ? data.error.message : saved.statusText);
      return;
    }
    // The merged draft, shown as the server has it.
    submitting = true;
    location.reload();
  });
  const mine = $<HTMLButtonElement>("#conflict-mine");
  if (mine) mine.addEventListener("click", (e) => {
    e.preventDefault();
    e.stopPropagation();
    conflicted = false;
    const panel = $<HTMLElement>("#conflict");
    if (panel) panel.hidden = true;
    send();
  });
  // A link (Review and publish, a tab, a section of another page) leaves
  // only once the last edit is saved: the publish page reads the draft.
  document.addEventListener("click", (e) => {
    const a = (e.target as Element).closest && (e.target as Element).closest<HTMLAnchorElement>("a[href]");
    if (!a || a.target || a.origin !== location.origin || a.getAttribute("href")!.startsWith("#")) return;
    // Loading their draft drops mine: the user chose it.
    if (a.id === "conflict-theirs") { submitting = true; return; }
    if (!pending && !inflight && !busy) return;
    e.preventDefault();
    if (state) state.textContent = "Saving before leaving…";
    flush().then(() => { location.href = a.href; });
  });
  window.addEventListener("beforeunload", (e) => {
    if (!submitting && (pending || inflight || busy)) { e.preventDefault(); e.returnValue = ""; }
  });
  // A translation typed in is no longer missing.
  form.addEventListener("input", (e) => {
    const el = e.target as HTMLInputElement;
    if (!el.classList || !el.classList.contains("missing") || !el.value) return;
    el.classList.remove("missing");
    const badge = el.id && $<HTMLElement>(`label[for="${el.id}"] .badge-missing`);
    if (badge) badge.remove();
  });
  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
}

// snapshot is a form's values by name (a checkbox only when ticked).
function snapshot(f: HTMLFormElement): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const [k, v] of new FormData(f)) {
    if (typeof v !== "string" || k === "_csrf" || k === "_rev" || k === "op") continue;
    m.set(k, (m.get(k) || []).concat(v));
  }
  return m;
}

const same = (a?: string[], b?: string[]) => (a || []).join("\u0000") === (b || []).join("\u0000");

// A version's preview: the same language, layer and width buttons.
function versionPreview(root: HTMLElement) {
  const frame = $<HTMLIFrameElement>("iframe", root);
  const src = root.dataset.previewSrc;
  if (!frame || !src) return;
  previewControls(root, frame, (lang, layer) => `${src}&lang=${encodeURIComponent(lang)}&layer=${layer}`);
}

function copyButtons() {
  for (const b of $$<HTMLButtonElement>("[data-copy]")) {
    b.addEventListener("click", async () => {
      const src = document.getElementById(b.dataset.copy || "");
      if (!src) return;
      const label = b.textContent;
      try {
        await navigator.clipboard.writeText(src.textContent || "");
        b.textContent = "Copied";
      } catch (e) {
        const r = document.createRange();
        r.selectNodeContents(src);
        const sel = window.getSelection();
        if (sel) { sel.removeAllRanges(); sel.addRange(r); }
        b.textContent = "Selected: press Ctrl+C";
      }
      window.setTimeout(() => { b.textContent = label; }, 2000);
    });
  }
}

// exportWithProgress downloads an export bundle with fetch, showing the
// megabytes received against the number of records announced; without
// script the form is a plain download.
function exportWithProgress(form: HTMLFormElement) {
  const box = $<HTMLElement>("#export-progress");
  const bar = $<HTMLProgressElement>("#export-bar");
  const text = $<HTMLElement>("#export-text");
  if (!box || !bar || !text) return;
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const params = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (typeof v === "string" && v !== "") params.set(k, v);
    const button = $<HTMLButtonElement>("button", form);
    if (button) button.disabled = true;
    box.hidden = false;
    bar.removeAttribute("value");
    text.textContent = "Preparing…";
    try {
      const res = await fetch(form.action + "?" + params.toString(), { credentials: "same-origin" });
      if (!res.ok || !res.body) {
        const e = await res.json().catch(() => ({ message: res.statusText }));
        throw new Error(e.message || e.error || res.statusText);
      }
      const records = Number(res.headers.get("X-Samtycke-Records") || "0");
      // About 120 compressed bytes a record: an estimate for the bar only.
      const expected = Math.max(records * 120, 1);
      const reader = res.body.getReader();
      const parts: Uint8Array[] = [];
      let got = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parts.push(value);
        got += value.length;
        bar.max = 1;
        bar.value = Math.min(got / expected, 0.99);
        text.textContent = `${(got / 1048576).toFixed(1)} MB received · ${records.toLocaleString()} records`;
      }
      bar.value = 1;
      const name = /filename="([^"]+)"/.exec(res.headers.get("Content-Disposition") || "")?.[1] || "export.zip";
      const a = document.createElement("a");
      a.href = URL.createObjectURL(new Blob(parts as BlobPart[], { type: "application/zip" }));
      a.download = name;
      a.textContent = `Save ${name}`;
      text.textContent = `${records.toLocaleString()} records, ${(got / 1048576).toFixed(1)} MB. `;
      text.append(a);
      a.click();
    } catch (e) {
      text.textContent = `Export failed: ${(e as Error).message}`;
    } finally {
      if (button) button.disabled = false;
    }
  });
}

const exportForm = document.getElementById("export-form");
if (exportForm instanceof HTMLFormElement) exportWithProgress(exportForm);

for (const p of $$<HTMLElement>("[data-preview-src]")) versionPreview(p);

const form = document.getElementById("editor");
if (form instanceof HTMLFormElement) editor(form);
copyButtons();
