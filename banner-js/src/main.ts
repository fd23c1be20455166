// Samtycke visitor banner. Bundled by the server with esbuild (IIFE, minified,
// es2019) and served with the site's published configuration inlined in place
// of __SAMTYCKE_CONFIG__.
//
// Decisions and their methods (what the consent log records):
//   first layer   Accept all → accept_all, Reject all → reject_all        (source banner)
//   second layer  Accept all → accept_all, Reject all → reject_all, Save → custom;
//                 any of them granting nothing after a choice that granted
//                 something → withdraw                                      (source settings)
//   placeholder   Always allow → custom, the previous choice plus that category (settings)
//   API           Samtycke.withdraw() → withdraw                            (settings)
//   GPC           on a visitor's first view (per notice fingerprint) one automatic
//                 gpc decision granting nothing (banner); the banner stays up. Accept
//                 all then grants every category except the ones GPC turns off
//                 (marketing and whatever Consent Mode maps ads to) and is recorded
//                 as custom; switching marketing on in the second layer is an
//                 explicit custom choice. Every row carries gpc: true.
//
// Scripts cannot be unloaded: a decision that refuses a category whose
// scripts ran on this page reloads the page once it is stored (answered,
// or kept for the next page view), unless the site turned that off
// (consent.reload_on_withdraw: false) because it stops its trackers itself
// in on("change"). Every page view deletes the declared first-party cookies
// and storage of the refused categories, so that what a tracker wrote again
// before it was stopped never outlives the page view.
import type { Choices, Method, Source } from "./config";
import { NECESSARY, Saved, build, erase, now, read, write } from "./cookie";
import { once, ran, scan, watch } from "./blocker";
import { gpc, gpcOff, signal } from "./signals";
import { floating, hideFirst, init, placeholder, ready, root, sheet, showFirst, warn } from "./ui";
import { How, openSettings } from "./settings";
import { declare } from "./declaration";
import { resume, send } from "./send";

type Fn = (choices: Choices) => void;
interface Api {
  _samtycke: 1;
  open(): void;
  choices(): Choices | null;
  withdraw(): void;
  on(event: string, fn: Fn): void;
  apply(): void;
}
type Call = ((api: Api) => void) | [keyof Api, ...unknown[]];

const cfg = __SAMTYCKE_CONFIG__;
const W = window as unknown as { Samtycke?: Api; samtyckeQueue?: Call[] | { push(c: Call): void } };
const me = document.currentScript as HTMLScriptElement | null;
const fns: Record<string, Fn[]> = {};
const HELD = "data-samtycke-held";
const holders = new Map<Element, Element>();
/** choices: the visitor's current decision (null: none valid); pending: only the automatic GPC one. */
let choices: Choices | null = null, pending = false, id = "", at = 0, lang = cfg.default_language, gpcOn = false, api: Api;
/** The second layer has been opened: the first layer, built a task after start, then stays away. */
let opened = false;

/** Runs f, never letting an error reach the host page. */
const safe = <A extends unknown[]>(f: (...a: A) => void) => (...a: A) => { try { f(...a); } catch (e) { warn(e); } };
const copy = () => choices && { ...choices };
const ok = (cat: string) => cat == NECESSARY || !!(choices && !pending && choices[cat]);
const apply = safe(() => { scan(document); declare(document); });
const grants = (ch: Choices) => cfg.categories.some((k) => k.id != NECESSARY && ch[k.id]);
const full = (ch: Choices) => cfg.categories.every((k) => ch[k.id]);
const asked = () => !choices || pending;

// A random v4 UUID, by hand: crypto.randomUUID exists in secure contexts only.
const uuid = (): string => "10000000-1000-4000-8000-100000000000".replace(/[018]/g,
  (c) => (+c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (+c / 4)))).toString(16));

/** Every category, except those GPC turns off while it is on. */
const all = () => build(cfg, (c) => !(gpcOn && gpcOff(cfg, c)));

/** The floating button shows after a choice, unless the site turned it off and the page has its own settings link. */
const fab = () => floating(!asked() && !(cfg.appearance.floating_button == "off" && document.querySelector("[data-samtycke-open]")), open);

function decide(ch: Choices, m: Method, src: Source) {
  choices = ch;
  pending = m == "gpc";
  id = id || uuid();
  at = now();
  const s: Saved = { id, t: at, g: cfg.categories.filter((k) => k.id != NECESSARY && ch[k.id]).map((k) => k.id), p: pending };
  write(cfg, s);
  erase(cfg, (c) => !ch[c]);
  if (!pending) {
    hideFirst();
    ready(fab);
  }
  apply();
  signal(cfg, ch);
  document.dispatchEvent(new CustomEvent("samtycke:change", { detail: { choices: copy(), method: m } }));
  for (const f of fns.change || []) {
    try { f(copy()!); } catch (e) { warn(e); }
  }
  const stored = send({
    site: cfg.site, consent_id: id, config_version: cfg.version, choices: ch, method: m,
    lang, url: location.href, gpc: gpcOn, source: src, event_id: uuid(),
  });
  // Reloaded once the decision is answered or kept, or at most 3 s later (a server that hangs).
  if (cfg.consent.reload_on_withdraw !== false && [...ran].some((c) => !ch[c]))
    Promise.race([stored, new Promise((ok) => setTimeout(ok, 3e3))]).then(() => location.reload());
}

/** Opens the second layer; from this call on, the first layer stays away until it closes undecided. */
const open = safe(() => {
  opened = true;
  ready(() => {
    const had = choices && !pending ? choices : null, from = root().activeElement || document.activeElement;
    hideFirst();
    floating(false, open);
    openSettings({ ch: had, id, t: had ? at : 0, gpc: gpcOn }, from, safe((ch: Choices, how: How) => {
      if (how == "accept_all") ch = all();
      decide(ch, had && grants(had) && !grants(ch) ? "withdraw" : how == "accept_all" && !full(ch) ? "custom" : how, "settings");
    }), () => (asked() ? first() : fab()));
  });
});

/** Shows the first layer. */
const first = () => ready(() => showFirst(gpcOn, safe((a: string) => {
  if (a == "settings") open();
  else if (a == "reject_all") decide(build(cfg, () => false), "reject_all", "banner");
  else {
    const ch = all();
    decide(ch, full(ch) ? "accept_all" : "custom", "banner");
  }
})));

const withdraw = safe(() => decide(build(cfg, () => false), "withdraw", "settings"));

// A held iframe is hidden (by a document-level constructed sheet, CSP-safe)
// behind a placeholder that offers to load it once or to allow its category.
let heldSheet = false;
const hold = (f: HTMLIFrameElement, cat: string) => {
  if (holders.has(f)) return;
  if (!heldSheet) {
    heldSheet = true;
    try { document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet(`iframe[${HELD}]{display:none!important}`)]; } catch (e) { /* old browser */ }
  }
  f.setAttribute(HELD, "");
  holders.set(f, placeholder(f, cat, safe((a: string) => {
    if (a == "once") {
      once.add(f);
      apply();
    } else decide({ ...(choices && !pending ? choices : build(cfg, () => false)), [cat]: true }, "custom", "settings");
  })));
};
const free = (f: HTMLIFrameElement) => {
  const p = holders.get(f);
  if (!p) return;
  p.remove();
  holders.delete(f);
  f.removeAttribute(HELD);
};
/** Keeps each placeholder right after its iframe: removed with it, moved with it. */
const tidy = () => holders.forEach((p, f) => {
  if (!f.isConnected) {
    p.remove();
    holders.delete(f);
  } else if (f.nextSibling != p) f.after(p);
});

const run = safe((c: Call) => {
  if (typeof c == "function") c(api);
  else (api[c[0]] as (...a: unknown[]) => void)(...c.slice(1));
});

const start = safe(() => {
  const old = W.Samtycke;
  if (old && old._samtycke) return old.apply(); // loaded twice: just rescan
  signal(cfg, null); // the defaults, before any other Consent Mode command
  gpcOn = gpc();
  const ls = cfg.languages, pick = (l: string) => {
    const p = l.split("-")[0].toLowerCase();
    return ls.indexOf(l) >= 0 ? l : ls.indexOf(p) >= 0 ? p : "";
  };
  lang = pick(document.documentElement.lang) || pick(navigator.language || "") || lang;
  init(cfg, lang);
  const s = read()[0];
  if (s) {
    id = s.id; // kept across re-prompts
    if (s.fp == cfg.fingerprint && s.t + cfg.consent.lifetime_days * 86400 > now()) {
      choices = build(cfg, (c) => s.g.indexOf(c) >= 0);
      pending = s.p;
      at = s.t;
      if (cfg.consent.cookie_domain) write(cfg, s); // moves a host-only cookie to the shared domain
      erase(cfg, (c) => !choices![c]);
    }
  }
  resume(cfg.endpoint);
  api = W.Samtycke = {
    _samtycke: 1, open, apply, withdraw, choices: copy,
    on: (ev, fn) => { (fns[ev] = fns[ev] || []).push(fn); },
  };
  watch(ok, hold, free, tidy, (me && me.nonce) || "", declare);
  apply();
  document.addEventListener("click", (e) => {
    if (e.composedPath().some((n) => n instanceof Element && n.hasAttribute("data-samtycke-open"))) {
      e.preventDefault();
      open();
    }
  }, true);
  if (asked()) {
    if (gpcOn && !pending) decide(build(cfg, () => false), "gpc", "banner");
    // The first layer is built in a task of its own: this one has protected
    // the page (Consent Mode defaults, blocking), and the two together
    // could block the page's main thread for over 50 ms on a slow device.
    // Asked again once the page is parsed: a script of the page may open the
    // second layer on DOMContentLoaded after this timer ran.
    setTimeout(safe(() => ready(() => { if (!opened && asked()) first(); })));
  } else {
    signal(cfg, choices);
    ready(fab);
  }
  const q = W.samtyckeQueue;
  W.samtyckeQueue = { push: run };
  if (Array.isArray(q)) q.forEach(run);
});

start();
