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
      for (const c of $$<HTMLElement>("input,select,textarea", best)) c.setAttribute("aria-invalid", "true");
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

function editor(form: HTMLFormElement) {
  const frame = document.getElementById(form.dataset.preview || "") as HTMLIFrameElement | null;
  const state = $<HTMLElement>("#save-state");
  const site = form.action.replace(/\/edit$/, "");
  const view = { lang: "sv", layer: "1" };
  const pressed = $<HTMLElement>("[data-preview-lang][aria-pressed=true]");
  if (pressed) view.lang = pressed.dataset.previewLang || "sv";

  const reload = () => {
    if (frame) frame.src = `${site}/preview?lang=${encodeURIComponent(view.lang)}&layer=${view.layer}&t=${Date.now()}`;
  };
  let timer = 0;
  let busy = false;
  let again = false;
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
  const save = async () => {
    if (busy) { again = true; return; }
    busy = true;
    if (state) state.textContent = "Saving…";
    try {
      const body = new URLSearchParams(new FormData(form) as unknown as Record<string, string>);
      body.set("op", "save");
      const res = await fetch(form.action, { method: "POST", body, headers: { Accept: "application/json" }, credentials: "same-origin" });
      const data = await res.json();
      if (!res.ok) {
        if (state) state.textContent = "Not saved: " + (data.error ? data.error.message : res.statusText);
        return;
      }
      showProblems(form, data.problems || []);
      if (state) state.textContent = data.saved;
      reload();
    } catch (e) {
      if (state) state.textContent = "Not saved: the server did not answer. Your changes are still in the form.";
    } finally {
      busy = false;
      if (held) {
        const b = held;
        held = null;
        again = false;
        form.requestSubmit(b);
      } else if (again) { again = false; save(); }
    }
  };
  // pending: typed but not yet sent; inflight: the save being sent.
  let pending = false;
  let submitting = false;
  let inflight: Promise<void> | null = null;
  const send = () => { pending = false; inflight = save().finally(() => { inflight = null; }); return inflight; };
  const schedule = () => { window.clearTimeout(timer); pending = true; timer = window.setTimeout(send, 600); };
  // flush sends what is typed now and waits for every save to land.
  const flush = async () => {
    window.clearTimeout(timer);
    if (pending) await send();
    while (inflight || busy) await (inflight || new Promise((r) => window.setTimeout(r, 50)));
  };
  // A link (Review and publish, a tab, a section of another page) leaves
  // only once the last edit is saved: the publish page reads the draft.
  document.addEventListener("click", (e) => {
    const a = (e.target as Element).closest && (e.target as Element).closest<HTMLAnchorElement>("a[href]");
    if (!a || a.target || a.origin !== location.origin || a.getAttribute("href")!.startsWith("#")) return;
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

  const group = (attr: string, apply: (value: string) => void) => {
    for (const b of $$<HTMLButtonElement>(`[${attr}]`)) {
      b.addEventListener("click", () => {
        for (const o of $$<HTMLButtonElement>(`[${attr}]`)) o.setAttribute("aria-pressed", String(o === b));
        apply(b.getAttribute(attr) || "");
      });
    }
  };
  group("data-preview-lang", (v) => { view.lang = v; reload(); });
  group("data-preview-layer", (v) => { view.layer = v; reload(); });
  group("data-preview-width", (v) => { if (frame) frame.classList.toggle("mobile", v === "mobile"); });
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

const form = document.getElementById("editor");
if (form instanceof HTMLFormElement) editor(form);
copyButtons();
