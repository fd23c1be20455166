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
import { NECESSARY, Saved, build, current, erase, now, read, write } from "./cookie";
import { once, ran, scan, watch } from "./blocker";
import { gpc, gpcOff, signal } from "./signals";
import { floating, hideFirst, init, placeholder, ready, root, sheet, showFirst, warn } from "./ui";
import { How, openSettings } from "./settings";
import { declare } from "./declaration";
import { resume, send } from "./send";

type Listener = (choices: Choices) => void;
interface Api {
  _samtycke: 1;
  open(): void;
  choices(): Choices | null;
  withdraw(): void;
  on(event: string, listener: Listener): void;
  apply(): void;
}
type Call = ((api: Api) => void) | [keyof Api, ...unknown[]];

const config = __SAMTYCKE_CONFIG__;
/** The page's globals the banner reads and sets. */
const page = window as unknown as { Samtycke?: Api; samtyckeQueue?: Call[] | { push(call: Call): void } };
const ownScript = document.currentScript as HTMLScriptElement | null;
const listeners: Record<string, Listener[]> = {};
const HELD = "data-samtycke-held";
/** Each held iframe's placeholder. */
const placeholders = new Map<Element, Element>();
/** choices: the visitor's current decision (null: none valid); pending: only the automatic GPC one. */
let choices: Choices | null = null, pending = false, consentId = "", chosenAt = 0, lang = config.default_language, gpcOn = false, api: Api;
/** The second layer has been opened: the first layer, built a task after start, then stays away. */
let opened = false;

/** Runs f, never letting an error reach the host page. */
const safe = <A extends unknown[]>(f: (...args: A) => void) => (...args: A) => { try { f(...args); } catch (e) { warn(e); } };
const copy = () => choices && { ...choices };
const granted = (category: string) => category == NECESSARY || !!(choices && !pending && choices[category]);
const apply = safe(() => { scan(document); declare(document); });
const grantsAny = (choice: Choices) => config.categories.some((k) => k.id != NECESSARY && choice[k.id]);
const grantsAll = (choice: Choices) => config.categories.every((k) => choice[k.id]);
const undecided = () => !choices || pending;
const refuseAll = () => build(config, () => false);

// A random v4 UUID, by hand: crypto.randomUUID exists in secure contexts only.
const uuid = (): string => "10000000-1000-4000-8000-100000000000".replace(/[018]/g,
  (c) => (+c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (+c / 4)))).toString(16));

/** Every category, except those GPC turns off while it is on. */
const acceptAll = () => build(config, (category) => !(gpcOn && gpcOff(config, category)));

/** The floating button shows after a choice, unless the site turned it off and the page has its own settings link. */
const showFloating = () => floating(!undecided() && !(config.appearance.floating_button == "off" && document.querySelector("[data-samtycke-open]")), open);

function decide(choice: Choices, method: Method, source: Source) {
  choices = choice;
  pending = method == "gpc";
  consentId = consentId || uuid();
  chosenAt = now();
  const saved: Saved = { id: consentId, t: chosenAt, g: config.categories.filter((k) => k.id != NECESSARY && choice[k.id]).map((k) => k.id), p: pending };
  write(config, saved);
  erase(config, (category) => !choice[category]);
  if (!pending) {
    hideFirst();
    ready(showFloating);
  }
  apply();
  signal(config, choice);
  document.dispatchEvent(new CustomEvent("samtycke:change", { detail: { choices: copy(), method } }));
  for (const listener of listeners.change || []) {
    try { listener(copy()!); } catch (e) { warn(e); }
  }
  const stored = send({
    site: config.site, consent_id: consentId, config_version: config.version, choices: choice, method,
    lang, url: location.href, gpc: gpcOn, source, event_id: uuid(),
  });
  // Reloaded once the decision is answered or kept, or at most 3 s later (a server that hangs).
  if (config.consent.reload_on_withdraw !== false && [...ran].some((category) => !choice[category]))
    Promise.race([stored, new Promise((done) => setTimeout(done, 3e3))]).then(() => location.reload());
}

/** Opens the second layer; from this call on, the first layer stays away until it closes undecided. */
const open = safe(() => {
  opened = true;
  ready(() => {
    const had = choices && !pending ? choices : null, from = root().activeElement || document.activeElement;
    hideFirst();
    floating(false, open);
    openSettings({ ch: had, id: consentId, t: had ? chosenAt : 0, gpc: gpcOn }, from, safe((choice: Choices, how: How) => {
      if (how == "accept_all") choice = acceptAll();
      decide(choice, had && grantsAny(had) && !grantsAny(choice) ? "withdraw" : how == "accept_all" && !grantsAll(choice) ? "custom" : how, "settings");
    }), () => (undecided() ? first() : showFloating()));
  });
});

/** Shows the first layer. */
const first = () => ready(() => showFirst(gpcOn, safe((action: string) => {
  if (action == "settings") open();
  else if (action == "reject_all") decide(refuseAll(), "reject_all", "banner");
  else {
    const choice = acceptAll();
    decide(choice, grantsAll(choice) ? "accept_all" : "custom", "banner");
  }
})));

const withdraw = safe(() => decide(refuseAll(), "withdraw", "settings"));

// A held iframe is hidden (by a document-level constructed sheet, CSP-safe)
// behind a placeholder that offers to load it once or to allow its category.
let heldSheet = false;
const hold = (frame: HTMLIFrameElement, category: string) => {
  if (placeholders.has(frame)) return;
  if (!heldSheet) {
    heldSheet = true;
    try { document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet(`iframe[${HELD}]{display:none!important}`)]; } catch (e) { /* old browser */ }
  }
  frame.setAttribute(HELD, "");
  placeholders.set(frame, placeholder(frame, category, safe((action: string) => {
    if (action == "once") {
      once.add(frame);
      apply();
    } else decide({ ...(choices && !pending ? choices : refuseAll()), [category]: true }, "custom", "settings");
  })));
};
const free = (frame: HTMLIFrameElement) => {
  const shown = placeholders.get(frame);
  if (!shown) return;
  shown.remove();
  placeholders.delete(frame);
  frame.removeAttribute(HELD);
};
/** Keeps each placeholder right after its iframe: removed with it, moved with it. */
const tidy = () => placeholders.forEach((shown, frame) => {
  if (!frame.isConnected) {
    shown.remove();
    placeholders.delete(frame);
  } else if (frame.nextSibling != shown) frame.after(shown);
});

const run = safe((call: Call) => {
  if (typeof call == "function") call(api);
  else (api[call[0]] as (...args: unknown[]) => void)(...call.slice(1));
});

const start = safe(() => {
  const loaded = page.Samtycke;
  if (loaded && loaded._samtycke) return loaded.apply(); // loaded twice: just rescan
  signal(config, null); // the defaults, before any other Consent Mode command
  gpcOn = gpc();
  const offered = config.languages, pick = (wanted: string) => {
    const base = wanted.split("-")[0].toLowerCase();
    return offered.indexOf(wanted) >= 0 ? wanted : offered.indexOf(base) >= 0 ? base : "";
  };
  lang = pick(document.documentElement.lang) || pick(navigator.language || "") || lang;
  init(config, lang);
  const saved = read()[0];
  if (saved) {
    consentId = saved.id; // kept across re-prompts
    if (current(config, saved, now())) {
      choices = build(config, (category) => saved.g.indexOf(category) >= 0);
      pending = saved.p;
      chosenAt = saved.t;
      if (config.consent.cookie_domain) write(config, saved); // moves a host-only cookie to the shared domain
      erase(config, (category) => !choices![category]);
    }
  }
  resume(config.endpoint);
  api = page.Samtycke = {
    _samtycke: 1, open, apply, withdraw, choices: copy,
    on: (event, listener) => { (listeners[event] = listeners[event] || []).push(listener); },
  };
  watch(granted, hold, free, tidy, (ownScript && ownScript.nonce) || "", declare);
  apply();
  document.addEventListener("click", (e) => {
    if (e.composedPath().some((n) => n instanceof Element && n.hasAttribute("data-samtycke-open"))) {
      e.preventDefault();
      open();
    }
  }, true);
  if (undecided()) {
    if (gpcOn && !pending) decide(refuseAll(), "gpc", "banner");
    // The first layer is built in a task of its own: this one has protected
    // the page (Consent Mode defaults, blocking), and the two together
    // could block the page's main thread for over 50 ms on a slow device
    // (measured: building it in this task brings long tasks and no earlier
    // banner). Asked again once the page is parsed: a script of the page may
    // open the second layer on DOMContentLoaded after this timer ran.
    setTimeout(safe(() => ready(() => { if (!opened && undecided()) first(); })));
  } else {
    signal(config, choices);
    ready(showFloating);
  }
  const queued = page.samtyckeQueue;
  page.samtyckeQueue = { push: run };
  if (Array.isArray(queued)) queued.forEach(run);
});

start();
