// What the visitor sees, in one open shadow root on <div id="samtycke-root">:
// the first layer, the floating settings button, and (settings.ts) the second
// layer; plus placeholders for held iframes, each in a shadow root of its own.
// The second layer and the placeholders are laid out by a second stylesheet
// (settings.css), fetched when they are first needed: most page views show
// neither, so it stays out of the first load.
// CSP-safe: no inline style attributes and no <style> elements; all styles are
// constructed stylesheets adopted by the shadow roots.
import type { Appearance, BannerConfig, Localized, Texts } from "./config";
import type { Words } from "./i18n";

type Kid = Node | string;

/** Warns in the console, never in the page. */
export const warn = (...a: unknown[]) => console.warn("samtycke:", ...a);

/** Creates an element with attributes and children (text via textContent). */
export const h = (tag: string, at: Record<string, string>, ...kids: Kid[]) => {
  const e = document.createElement(tag);
  for (const k in at) e.setAttribute(k, at[k]);
  e.append(...kids);
  return e;
};

/** A button in the one style every choice shares (equal prominence). */
export const btn = (action: string, label: string) =>
  h("button", { type: "button", class: "c", "data-action": action }, label);

export const sheet = (css: string) => {
  const s = new CSSStyleSheet();
  s.replaceSync(css);
  return s;
};

/** Adopts sheets into a shadow root; without constructable stylesheets the banner is unstyled but usable. */
export const adopt = (sr: ShadowRoot, ...css: (string | CSSStyleSheet)[]) => {
  try {
    sr.adoptedStyleSheets = css.map((c) => (typeof c == "string" ? sheet(c) : c));
  } catch (e) { /* old browser */ }
};

const css = (a: Appearance) => {
  const p = a.position, r = a.radius_px ?? 8, bar = p == "bottom", fg = a.text, bg = a.background,
    bb = a.button_background, bt = a.button_text, line = fg + "2e";
  // A placeholder's box starts from nothing the page would pass on to it
  // (letter-spacing, text-transform, line-height…), as the banner's host does.
  return `.p{all:initial}
.b,.m,.f,.p{font:15px/1.55 ${a.font_family || "system-ui,-apple-system,'Segoe UI',Roboto,sans-serif"};color:${fg};text-align:left;overflow-wrap:anywhere}
*,::before{box-sizing:border-box}
.b{position:fixed;z-index:2147483646;max-height:calc(100vh - 24px);overflow:auto;padding:20px 24px;background:${bg};border:1px solid ${line};box-shadow:0 6px 32px #0000002e}
h2{margin:0 0 6px;font-size:18px;line-height:1.3;font-weight:700}
h2:focus{outline:0}
p{margin:0 0 8px}
a{color:inherit;font-weight:600;text-underline-offset:2px}
.g{padding:8px 12px;border-left:4px solid ${bb};background:${fg}0d}
.a{display:grid;grid-template-columns:repeat(3,minmax(0,1fr));gap:10px;margin-top:16px}
.c{min-height:44px;margin:0;padding:9px 18px;border:2px solid ${bb};border-radius:${r}px;background:${bb};color:${bt};font:inherit;font-weight:600;line-height:1.25;cursor:pointer}
.c:hover{box-shadow:inset 0 0 0 40px #00000024}
:focus-visible{outline:3px solid ${fg};outline-offset:2px}
.f{position:fixed;z-index:2147483646;bottom:16px;${a.floating_button == "bottom-right" ? "right" : "left"}:16px;display:grid;place-items:center;width:44px;height:44px;padding:0;border:2px solid ${bg};border-radius:50%;background:${bb};color:${bt};box-shadow:0 2px 12px #0004;cursor:pointer}
.f svg{width:24px;height:24px;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;stroke-linejoin:round}
.m,.p{--fg:${fg};--bg:${bg};--bb:${bb};--bt:${bt};--ln:${line};--r:${r}px;--r4:${r && r + 4}px}
${bar
  ? `.b{left:0;right:0;bottom:0;border-width:1px 0 0}
.w{display:grid;grid-template-columns:minmax(0,1fr) 248px;align-items:center;gap:16px 48px;max-width:1160px;margin:0 auto}
.x1{max-width:80ch}
.w .a{grid-template-columns:1fr;margin:0}
@media(max-width:1023px){.w{display:block}.w .a{grid-template-columns:repeat(3,minmax(0,1fr));margin-top:16px}}`
  : `.b{width:${p == "center" ? 560 : 440}px;max-width:calc(100% - 32px);border-radius:${r && r + 4}px;${
    p == "center" ? "transform:translate(-50%,-50%);top:50%;left:50%" : `bottom:16px;${p.slice(7)}:16px`}}
.b .a{grid-template-columns:1fr}`}
@media(max-width:639px){.b{padding:16px}.b p{font-size:14px}.c{padding:8px}${
  bar ? "" : p == "center" ? ".b{max-width:calc(100% - 16px)}" : ".b{bottom:8px;left:8px;right:8px;width:auto;max-width:none}"}}
@media(max-width:480px){.a,.w .a{grid-template-columns:1fr;gap:8px}.c{min-height:40px}}`;
};

/** GETs url from the Samtycke server, without cookies, and reads its body as how says; a status other than 2xx is an error. */
export const load = (url: string, how: "json" | "text") => fetch(url, { credentials: "omit" }).then((r) => {
  if (!r.ok) throw r.status;
  return r[how]();
});

/** The site's texts and the banner's own words in the visitor's language. */
export let texts: Texts, words: Words, lang: string, config: BannerConfig;
let shared: CSSStyleSheet | undefined;

export const init = (c: BannerConfig, l: string) => {
  config = c;
  lang = l;
  texts = words = c.texts[l] || c.texts[c.default_language];
};

/** A configured text in the visitor's language. */
export const tr = (l: Localized) => l[lang] || l[config.default_language];

/** The banner's stylesheet, parsed on first use: not in the task that protects the page. */
const styles = () => {
  try { return shared = shared || sheet(css(config.appearance)); } catch (e) { return ""; } // old browser: unstyled
};

let host: HTMLElement | null = null, sr: ShadowRoot, first: HTMLElement | null = null, fab: HTMLElement | null = null;

let styled: Promise<CSSStyleSheet | void> | null = null;

/** Adds the second stylesheet after to's own once it has come; fetched once, or again after a failure. */
export const restyle = (to: ShadowRoot) => (styled = styled || load(config.styles, "text").then(sheet, () => { styled = null; })).then((s) => {
  try {
    if (s && to.adoptedStyleSheets.indexOf(s) < 0) to.adoptedStyleSheets = [...to.adoptedStyleSheets, s];
  } catch (e) { /* old browser */ }
});

/** The banner's shadow root, created on first use. */
export const root = () => {
  if (!host) {
    host = h("div", { id: "samtycke-root" });
    sr = host.attachShadow({ mode: "open" });
    adopt(sr, ":host{all:initial!important}", styles());
    // A visitor heading for the settings (hover, focus, touch) has their
    // stylesheet fetched by the time they click, so the settings open at once.
    for (const ev of ["pointerover", "focusin", "touchstart"]) {
      sr.addEventListener(ev, (e) => { if ((e.target as Element).closest("[data-action=settings],.f")) restyle(sr); }, { passive: true });
    }
  }
  if (!host.isConnected) document.body.append(host);
  return sr;
};

/** Runs f once the document has a body. */
export const ready = (f: () => void) => {
  if (document.body) f();
  else document.addEventListener("DOMContentLoaded", f);
};

/** Calls f with the data-action of a clicked button inside e. */
export const actions = (e: Element, f: (a: string) => void) =>
  e.addEventListener("click", (ev) => {
    const b = (ev.target as Element).closest("[data-action]");
    if (b) f(b.getAttribute("data-action")!);
  });

export const link = () =>
  h("a", { href: config.notice + "?lang=" + lang, target: "_blank" }, texts.notice_link); // _blank implies noopener

export const gpcLine = () => h("p", { class: "g" }, words.gpc);

/** Shows the first layer; onAction gets accept_all, reject_all or settings. */
export const showFirst = (gpcOn: boolean, onAction: (a: string) => void) => {
  if (!first) {
    const hd = h("h2", { id: "st", tabindex: "-1" }, texts.title);
    first = h("div", { class: "b", role: "dialog", "aria-labelledby": "st", "aria-describedby": "sd", lang },
      h("div", { class: "w" },
        h("div", { class: "x1" }, hd, h("p", { id: "sd" }, texts.description), ...(gpcOn ? [gpcLine()] : []), link()),
        h("div", { class: "a" }, btn("accept_all", texts.accept_all), btn("reject_all", texts.reject_all), btn("settings", texts.settings))));
    actions(first, onAction);
  }
  const hd = first.querySelector("h2")!;
  root().append(first);
  // After the first frame (focusing forces a layout, which would lengthen the
  // script's task), unless focus has come back to one of its buttons meanwhile,
  // and never away from another document (the dashboard's editor around a
  // preview frame: its keystrokes would land in the banner).
  requestAnimationFrame(() => { if (!root().activeElement && document.hasFocus()) hd.focus(); });
};

export const hideFirst = () => { if (first) first.remove(); };

export const firstShown = () => !!first && first.isConnected;

// A cookie with a bite out of it; drawn by the stylesheet's .f svg rule.
const ICON = '<svg viewBox="0 0 24 24"><path d="M12 3a9 9 0 1 0 9 9 4 4 0 0 1-4-4 4 4 0 0 1-5-5zM8.5 11.5h.01M11 16h.01M16 14.5h.01"/></svg>';

/** Shows or hides the floating settings button. */
export const floating = (on: boolean, onClick: () => void) => {
  if (!fab) {
    fab = h("button", { type: "button", class: "f", "aria-label": texts.withdraw, title: texts.withdraw, lang });
    fab.innerHTML = ICON;
    fab.addEventListener("click", onClick);
  }
  if (on) root().append(fab);
  else fab.remove();
};

export const fabButton = () => fab;

/** Places a placeholder after a held iframe, at its size and aspect ratio; below 340×180 it turns compact. */
export const placeholder = (f: HTMLIFrameElement, cat: string, onAction: (a: string) => void) => {
  // The box the page gave the iframe (no layout shift), else its width and height attributes, else 16:9.
  const num = (a: string, m: number) => parseFloat(f.getAttribute(a) || "") || m;
  const wd = f.offsetWidth || num("width", 560), ht = f.offsetHeight || num("height", wd * 9 / 16);
  let src = "";
  try { src = new URL(f.getAttribute("data-samtycke-src")!, location.href).hostname.replace(/^www\./, ""); } catch (e) { /* keep empty */ }
  const k = config.categories.filter((x) => x.id == cat)[0], ctitle = k ? tr(k.title) : cat;
  const box = h("div", { class: "p", role: "group", "aria-label": f.title || src, lang },
    h("p", {}, words.held.replace("{p}", f.getAttribute("data-samtycke-provider") || src).replace("{c}", ctitle)),
    h("div", { class: "a" }, btn("once", words.once), btn("always", words.always)));
  actions(box, onAction);
  const ph = h("div", { class: f.className, "data-samtycke-placeholder": cat });
  adopt(ph.attachShadow({ mode: "open" }), `:host{display:block;width:${num("width", wd)}px;max-width:100%;aspect-ratio:${wd}/${ht};overflow:hidden;container-type:size}`, styles());
  ph.shadowRoot!.append(box);
  restyle(ph.shadowRoot!);
  f.after(ph);
  return ph;
};
