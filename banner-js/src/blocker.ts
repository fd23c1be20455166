// Activates blocked content whose category is granted:
//   <script type="text/plain" data-samtycke="statistics" [data-type="module"]>
//   <iframe data-samtycke="marketing" data-samtycke-src="https://…">
// Everything else stays inert; a held iframe is hidden behind a placeholder
// (hold) until it is allowed, always or once.
//
// The page, or the framework that renders it (React, Vue, Preact…), owns
// these elements and removes or moves them when it likes: a node it no
// longer finds where it left it makes it throw and unmount the whole app. So
// nothing of the page's is ever replaced: a script runs as a new element
// inserted after its inert original, and an iframe is loaded and unloaded
// in place.

import { warn } from "./ui";

const SEL = "script[data-samtycke],iframe[data-samtycke]", ON = "data-samtycke-on";

type Ok = (cat: string) => boolean;
type Frame = (f: HTMLIFrameElement, cat: string) => void;

// Scripts are activated one at a time: an external script is awaited (load or
// error) before the next one is inserted, so inline code that follows it runs
// in document order too.
const q: HTMLScriptElement[] = [];
let wait = 0, nonce = "", ok: Ok, hold: Frame, free: Frame;

/** Iframes the visitor loaded once, without granting their category. */
export const once = new Set<Element>();

/** Categories whose scripts ran on this page: refusing one of them afterwards needs a reload to stop them. */
export const ran = new Set<string>();

const next = () => {
  let o: HTMLScriptElement | undefined;
  while (!wait && (o = q.shift())) {
    if (!o.parentNode) continue; // removed by the page before its turn: it never runs
    const s = document.createElement("script");
    for (const { name, value } of Array.from(o.attributes))
      if (name != "type") s.setAttribute(name, value);
    if (o.hasAttribute("data-type")) s.type = o.getAttribute("data-type")!;
    s.async = false;
    if (nonce || o.nonce) s.nonce = nonce || o.nonce;
    s.text = o.text;
    if (s.src && /^$|module|javascript/i.test(s.type)) {
      wait = 1;
      s.onload = s.onerror = () => { wait = 0; next(); };
    }
    o.after(s);
  }
};

const unblocked = (e: Element, why: string) => warn("not blocked, " + why + ":", e);

const one = (e: Element) => {
  const c = e.getAttribute("data-samtycke") || "", u = e.getAttribute("data-samtycke-src");
  if (e instanceof HTMLIFrameElement) {
    if (!u) return unblocked(e, "needs data-samtycke-src");
    if (ok(c) || once.has(e)) {
      free(e, c);
      if (!e.hasAttribute(ON)) {
        e.setAttribute(ON, "");
        // A task later: the parser may run this observer while it is still
        // inserting the iframe, before the iframe's own first load (of
        // about:blank), which would then cancel this one.
        setTimeout(() => { if (e.hasAttribute(ON)) e.src = u; });
      }
    } else if (e.hasAttribute(ON)) {
      // Loaded by us, now withdrawn: without its src the frame shows about:blank.
      e.removeAttribute(ON);
      e.removeAttribute("src");
      hold(e, c);
    } else if (e.getAttribute("src")) unblocked(e, "has a src");
    else hold(e, c);
  } else if (e.getAttribute("type") != "text/plain") {
    unblocked(e, 'needs type="text/plain"');
    e.removeAttribute("data-samtycke");
  } else if (ok(c)) {
    e.removeAttribute("data-samtycke");
    ran.add(c);
    q.push(e as HTMLScriptElement);
  }
};

/** Activates every matching element in root (and root itself). */
export const scan = (root: Element | Document) => {
  if (root instanceof Element && root.matches(SEL)) one(root);
  root.querySelectorAll(SEL).forEach(one);
  next();
};

/** Activates matching elements added to the document later, and calls more
 *  on each added element and tidy after each batch of changes. granted says
 *  whether a category is granted; held shows a placeholder for a held iframe
 *  (once per iframe), freed removes it; n is the nonce given to activated
 *  scripts (the banner script's own, if any). */
export const watch = (granted: Ok, held: Frame, freed: Frame, tidy: () => void, n: string, more: (e: Element) => void) => {
  ok = granted;
  hold = held;
  free = freed;
  nonce = n;
  new MutationObserver((ms) => {
    for (const m of ms)
      m.addedNodes.forEach((e) => { if (e instanceof Element) { scan(e); more(e); } });
    tidy();
  }).observe(document.documentElement, { childList: true, subtree: true });
};
