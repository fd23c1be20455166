// First layer of the banner, in an open shadow root on <div id="samtycke-root">.
// CSP-safe: no inline style attributes and no <style> elements; the styles are
// one constructed CSSStyleSheet adopted by the shadow root.
import type { Appearance, BannerConfig, Method, Texts } from "./config";

type Kid = Node | string;

/** Creates an element with attributes and children (text via textContent). */
const h = (tag: string, at: Record<string, string>, ...kids: Kid[]) => {
  const e = document.createElement(tag);
  for (const k in at) e.setAttribute(k, at[k]);
  e.append(...kids);
  return e;
};

const css = (a: Appearance) => {
  const p = a.position, r = a.radius_px ?? 8, bar = p == "bottom";
  return `:host{all:initial!important}
.b{--t:translate(0,0);position:fixed;z-index:2147483647;box-sizing:border-box;max-height:calc(100vh - 24px);overflow:auto;padding:20px 24px;background:${a.background};color:${a.text};font:15px/1.55 ${a.font_family || "system-ui,-apple-system,'Segoe UI',Roboto,sans-serif"};text-align:left;border:1px solid ${a.text}26;box-shadow:0 6px 32px rgba(0,0,0,.16);transform:var(--t);animation:i .25s ease-out;-webkit-text-size-adjust:100%}
@keyframes i{from{opacity:0;transform:var(--t) translateY(12px)}}
h2{margin:0 0 6px;font-size:18px;line-height:1.3;font-weight:700}
h2:focus{outline:none}
p{margin:0 0 8px}
a{color:inherit;font-weight:500;text-decoration:underline;text-underline-offset:2px}
.a{display:grid;grid-template-columns:1fr 1fr;gap:12px;margin-top:16px}
.c{box-sizing:border-box;min-height:44px;margin:0;padding:10px 20px;border:2px solid ${a.button_background};border-radius:${r}px;background:${a.button_background};color:${a.button_text};font:inherit;font-weight:600;line-height:1.25;cursor:pointer}
.c:hover{box-shadow:inset 0 0 0 40px rgba(0,0,0,.12)}
a:focus-visible,.c:focus-visible{outline:3px solid ${a.text};outline-offset:2px;border-radius:${r}px}
${bar
  ? `.b{left:0;right:0;bottom:0;border-width:1px 0 0}
.w{display:flex;align-items:center;justify-content:space-between;gap:16px 40px;max-width:1160px;margin:0 auto}
.x{max-width:76ch}
.a{flex:none;margin:0}
@media(max-width:1023px){.a{grid-template-columns:1fr}}
@media(max-width:760px){.w{display:block}.a{grid-template-columns:1fr 1fr;max-width:480px;margin-top:16px}}`
  : `.b{width:${p == "center" ? 560 : 440}px;max-width:calc(100% - 32px);border-radius:${r && r + 4}px;${
    p == "center" ? "--t:translate(-50%,-50%);top:50%;left:50%" : `bottom:16px;${p.slice(7)}:16px`}}`}
@media(max-width:480px){.b{padding:16px}.a{grid-template-columns:1fr;gap:8px}${
  bar ? "" : p == "center" ? ".b{max-width:calc(100% - 16px)}" : ".b{bottom:8px;left:8px;right:8px;width:auto;max-width:none}"}}
@media(prefers-reduced-motion:reduce){.b{animation:none}}
@media print{.b{display:none}}`;
};

let host: HTMLElement | null = null, back: Element | null = null;

/** Shows the first layer (once); onChoice gets the clicked button's action. */
export const show = (c: BannerConfig, lang: string, onChoice: (m: Method) => void) => {
  if (!document.body) {
    document.addEventListener("DOMContentLoaded", () => show(c, lang, onChoice));
    return;
  }
  if (host) return;
  const t: Texts = c.texts[lang] || c.texts[c.default_language];
  const btn = (m: Method) => h("button", { type: "button", class: "c", "data-action": m }, t[m]);
  const hd = h("h2", { id: "t", tabindex: "-1" }, t.title);
  const box = h("div", { class: "b", role: "dialog", "aria-labelledby": "t", "aria-describedby": "d", lang },
    h("div", { class: "w" },
      h("div", { class: "x" },
        hd,
        h("p", { id: "d" }, t.description),
        h("a", { href: c.notice + (c.notice.indexOf("?") < 0 ? "?" : "&") + "lang=" + lang, target: "_blank", rel: "noopener" }, t.notice_link)),
      h("div", { class: "a" }, btn("reject_all"), btn("accept_all"))));
  box.addEventListener("click", (e) => {
    const m = (e.target as Element).closest("[data-action]");
    if (m) onChoice(m.getAttribute("data-action") as Method);
  });
  host = h("div", { id: "samtycke-root" });
  const sr = host.attachShadow({ mode: "open" });
  try {
    const s = new CSSStyleSheet();
    s.replaceSync(css(c.appearance));
    sr.adoptedStyleSheets = [s];
  } catch (e) { /* no constructable stylesheets: unstyled but usable */ }
  sr.append(box);
  back = document.activeElement;
  document.body.append(host);
  hd.focus();
};

/** Removes the banner and returns focus to where it was. */
export const hide = () => {
  if (host) host.remove();
  host = null;
  if (back instanceof HTMLElement && back.isConnected && back != document.body) back.focus();
};
