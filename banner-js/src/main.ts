// Samtycke visitor banner. Bundled by the server with esbuild (IIFE, minified,
// es2019) and served with the site's published configuration inlined in place
// of __SAMTYCKE_CONFIG__.
import type { Choices, Method } from "./config";
import { NECESSARY, build, read, write } from "./cookie";
import { scan, watch } from "./blocker";
import { hide, show } from "./ui";
import { send } from "./send";

type Fn = (choices: Choices) => void;
interface Api {
  _samtycke: 1;
  open(): void;
  choices(): Choices | null;
  on(event: string, fn: Fn): void;
  apply(): void;
}

const cfg = __SAMTYCKE_CONFIG__;
const W = window as unknown as { Samtycke?: Api };
const me = document.currentScript as HTMLScriptElement | null;
const fns: Record<string, Fn[]> = {};
let choices: Choices | null = null, id = "", lang = cfg.default_language;

const warn = (e: unknown) => console.warn("samtycke:", e);
/** Runs f, never letting an error reach the host page. */
const safe = (f: () => void) => () => { try { f(); } catch (e) { warn(e); } };
const copy = () => choices && { ...choices };
const ok = (cat: string) => cat == NECESSARY || !!(choices && choices[cat]);
const apply = safe(() => scan(document, ok));
const open = safe(() => show(cfg, lang, choose));

const uuid = (): string => {
  const c = crypto;
  if (c.randomUUID) return c.randomUUID();
  const b = c.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 15) | 64;
  b[8] = (b[8] & 63) | 128;
  const x = Array.from(b, (v) => (v + 256).toString(16).slice(1)).join("");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
};

function choose(m: Method) {
  try {
    const ch = (choices = build(cfg, () => m == "accept_all"));
    id = id || uuid();
    write(cfg, id, ch);
    hide();
    apply();
    document.dispatchEvent(new CustomEvent("samtycke:change", { detail: { choices: copy() } }));
    for (const f of fns.change || []) {
      try { f(copy()!); } catch (e) { warn(e); }
    }
    send(cfg.endpoint, {
      site: cfg.site, consent_id: id, config_version: cfg.version, choices: ch, method: m,
      lang, url: location.href, gpc: navigator.globalPrivacyControl === true, source: "banner",
    });
  } catch (e) { warn(e); }
}

const start = safe(() => {
  if (W.Samtycke && W.Samtycke._samtycke) return;
  W.Samtycke = {
    _samtycke: 1, open, apply, choices: copy,
    on: (ev, fn) => { (fns[ev] = fns[ev] || []).push(fn); },
  };
  const ls = cfg.languages, pick = (l: string) => {
    const p = l.split("-")[0].toLowerCase();
    return ls.indexOf(l) >= 0 ? l : ls.indexOf(p) >= 0 ? p : "";
  };
  lang = pick(document.documentElement.lang) || pick(navigator.language || "") || lang;
  const c = read(cfg);
  if (c) ({ id, choices } = c);
  watch(ok, (me && me.nonce) || "");
  apply();
  document.addEventListener("click", (e) => {
    const t = e.target;
    if (t instanceof Element && t.closest("[data-samtycke-open]")) { e.preventDefault(); open(); }
  }, true);
  if (!c) open();
});

start();
