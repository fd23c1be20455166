// The second layer: a modal WAI-ARIA dialog (native <dialog>, opened with
// showModal) with one switch per category, each category's items (loaded
// lazily from the version's details.json on first open), the visitor's
// consent ID and the date of their choice, a link that downloads their
// receipts (when the server gave any), and Reject all / Accept all / Save.
// Built on first open, when its stylesheet (settings.css) is fetched too; Tab
// wraps inside it, Escape closes it without choosing.
import type { Choices } from "./config";
import { NECESSARY } from "./cookie";
import { actions, btn, config, gpcLine, h, lang, link, load as get, restyle, root, texts, tr, words } from "./ui";
import { RECEIPTS, stored } from "./send";

/** What the dialog shows: the current choice (null: none yet). */
export interface State {
  ch: Choices | null;
  id: string;
  /** Unix seconds of the choice; 0 if none. */
  t: number;
  gpc: boolean;
}

/** How the visitor left the dialog with a choice. */
export type How = "accept_all" | "reject_all" | "custom";

let dlg: HTMLDialogElement | null = null, back: HTMLElement | null = null, idLine: HTMLElement, gpcEl: HTMLElement, proofLine: HTMLElement,
  onSave: (ch: Choices, how: How) => void, onClose: () => void, loaded = false;

const close = () => {
  if (!dlg || !dlg.open) return;
  dlg.close();
  onClose();
  if (back && back.isConnected) back.focus();
};

const switches = () => Array.from(dlg!.querySelectorAll<HTMLInputElement>("input[data-cat]"));

/** One item of details.json, worded by the server in the visitor's language. */
interface Detail {
  name: string;
  category: string;
  /** [label, value]: provider, party, purpose, duration, type, third-country transfer. */
  rows: [string, string][];
}

const item = (it: Detail) => {
  const dl = h("dl", {});
  for (const [k, v] of it.rows) dl.append(h("dt", {}, k), h("dd", {}, v));
  return h("li", {}, h("h4", {}, it.name), dl);
};

// Fills in each category's description and items, and the justification of
// the necessary one, from details.json (one request per language, cached by
// the browser).
const load = () => {
  if (loaded) return;
  loaded = true;
  const fill = (f: (ul: Element, cat: string) => void) =>
    dlg!.querySelectorAll("ul[data-cat]").forEach((ul) => { ul.textContent = ""; f(ul, ul.getAttribute("data-cat")!); });
  get(config.details + "?lang=" + lang, "json").then((d: { items: Detail[]; none: string; justification: string; descriptions: Record<string, string> }) => {
    dlg!.querySelector("#j")!.textContent = d.justification;
    fill((ul, cat) => {
      dlg!.querySelector("#k-" + cat)!.textContent = d.descriptions[cat];
      const its = d.items.filter((x) => x.category == cat);
      ul.append(...(its.length ? its.map(item) : [h("li", {}, d.none)]));
    });
  }).catch(() => {
    loaded = false;
    fill((ul) => ul.append(h("li", {}, words.fail)));
  });
};

const build = () => {
  const d = h("dialog", { class: "m", "aria-labelledby": "mt", lang }) as HTMLDialogElement;
  const body = h("div", { class: "mb" }, h("p", {}, words.intro), (gpcEl = gpcLine()));
  for (const k of config.categories) {
    const id = k.id, nec = id == NECESSARY;
    const sw = h("input", { type: "checkbox", role: "switch", class: "s", id: "s-" + id, "data-cat": id, "aria-describedby": "k-" + id }) as HTMLInputElement;
    if (nec) sw.checked = sw.disabled = true;
    // A native disclosure: the browser keeps its expanded state and keyboard handling.
    const more = h("details", {}, h("summary", { class: "d", "aria-describedby": "h-" + id }, words.show),
      h("ul", { class: "l", id: "l-" + id, "data-cat": id }));
    const sec = h("section", { class: "k", "aria-labelledby": "h-" + id },
      h("div", { class: "kh" }, h("h3", { id: "h-" + id }, h("label", { for: "s-" + id }, tr(k.title))),
        nec ? h("span", { class: "o" }, texts.always_on, sw) : sw),
      h("p", { id: "k-" + id }));
    if (nec) sec.append(h("p", { class: "j", id: "j" }));
    sec.append(more);
    body.append(sec);
  }
  // The receipts as one JSON file, made when asked for (a Blob URL: no request, nothing on a server).
  const proof = h("a", { href: "#", download: `samtycke-receipt-${config.site}.json` }, words.proof) as HTMLAnchorElement;
  proof.addEventListener("click", () => {
    URL.revokeObjectURL(proof.href);
    proof.href = URL.createObjectURL(new Blob([JSON.stringify(stored(RECEIPTS))], { type: "application/json" }));
  });
  body.append((idLine = h("p", { class: "id" })), (proofLine = h("p", { class: "id" }, proof)), link());
  const x = h("button", { type: "button", class: "x", "aria-label": texts.close }, "×");
  x.addEventListener("click", close);
  const foot = h("div", { class: "a" }, btn("reject_all", texts.reject_all), btn("accept_all", texts.accept_all), btn("custom", texts.save));
  d.append(h("div", { class: "mh" }, h("h2", { id: "mt", tabindex: "-1" }, texts.withdraw), x), body, h("div", { class: "mf" }, foot));
  actions(foot, (a) => {
    const ch: Choices = {};
    for (const s of switches()) ch[s.getAttribute("data-cat")!] = a == "custom" ? s.checked : a == "accept_all" || s.disabled;
    dlg!.close();
    onSave(ch, a as How);
  });
  d.addEventListener("keydown", (e) => {
    if (e.key == "Escape") {
      e.preventDefault();
      close();
    } else if (e.key == "Tab") {
      const f = Array.from(d.querySelectorAll<HTMLElement>("button,summary,a[href],input:not([disabled])")),
        i = f.indexOf(root().activeElement as HTMLElement);
      if (e.shiftKey ? i <= 0 : i == f.length - 1) {
        e.preventDefault();
        f[e.shiftKey ? f.length - 1 : 0].focus();
      }
    }
  });
  d.addEventListener("cancel", (e) => { e.preventDefault(); close(); });
  return d;
};

/** Opens the second layer showing s; focus returns to from when it closes; save gets the visitor's choice, closed is called when they leave without one. */
export const openSettings = (s: State, from: Element | null, save: (ch: Choices, how: How) => void, closed: () => void) => {
  onSave = save;
  onClose = closed;
  const sr = root();
  back = from as HTMLElement | null;
  if (!dlg) dlg = build();
  for (const sw of switches()) if (!sw.disabled) sw.checked = !!(s.ch && s.ch[sw.getAttribute("data-cat")!]);
  gpcEl.hidden = !s.gpc;
  idLine.textContent = s.t ? `${words.id}: ${s.id} · ${words.at} ${new Date(s.t * 1e3).toLocaleString(lang,
    { dateStyle: "long", timeStyle: "short" } as Intl.DateTimeFormatOptions)}` : "";
  idLine.hidden = !s.t;
  proofLine.hidden = !stored(RECEIPTS).length;
  load();
  // The dialog's stylesheet comes with its first open (it is not in the first
  // load). Wait for it, up to 3 s: past that, or if it fails, the dialog opens
  // with the browser's own styles, usable all the same, and the next open
  // tries again.
  Promise.race([restyle(sr), new Promise((ok) => setTimeout(ok, 3000))]).then(() => {
    sr.append(dlg!);
    if (!dlg!.open) dlg!.showModal();
    dlg!.querySelector("h2")!.focus();
  });
};

export const settingsOpen = () => !!dlg && dlg.open;
