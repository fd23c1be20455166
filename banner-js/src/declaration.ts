// The embeddable cookie declaration: each <div data-samtycke-declaration>
// gets the site's declaration (GET <notice>/embed.json?lang=xx, answering
// {"html": "…", "css": "…"}) in a shadow root of its own: the html is the
// server's own markup, the css a constructed stylesheet (CSP-safe). A page
// without such an element downloads nothing.
import { adopt, config, lang, load, warn } from "./ui";

let got: Promise<{ html: string; css: string }> | null = null;

/** Fills every declaration element in root that is not filled yet. */
export const declare = (root: Element | Document) => {
  const els = Array.from(root.querySelectorAll("[data-samtycke-declaration]"));
  if (root instanceof Element && root.matches("[data-samtycke-declaration]")) els.push(root);
  for (const el of els) {
    if (el.shadowRoot) continue;
    const sr = el.attachShadow({ mode: "open" });
    got = got || load(`${config.notice}/embed.json?lang=${lang}`, "json");
    got.then((d) => {
      adopt(sr, d.css);
      sr.innerHTML = d.html;
    }, (e) => { got = null; warn("cookie declaration:", e); });
  }
};
