// Activates blocked content whose category is granted:
//   <script type="text/plain" data-samtycke="statistics" [data-type="module"]>
//   <iframe data-samtycke="marketing" data-samtycke-src="https://…">
// Everything else stays inert; a held iframe is hidden behind a placeholder
// (hold) until it is allowed, always or once.

const SEL = "script[data-samtycke],iframe[data-samtycke]", ON = "data-samtycke-on";

type Ok = (cat: string) => boolean;

export interface Hooks {
  ok: Ok;
  /** Shows a placeholder for a held iframe (once per iframe). */
  hold: (f: HTMLIFrameElement, cat: string) => void;
  /** Removes an iframe's placeholder, if any. */
  free: (f: HTMLIFrameElement) => void;
}

// Scripts are activated one at a time: an external script is awaited (load or
// error) before the next one is inserted, so inline code that follows it runs
// in document order too.
const q: HTMLScriptElement[] = [];
let wait = 0, nonce = "", hk: Hooks;

/** Iframes the visitor loaded once, without granting their category. */
export const once = new Set<Element>();

const next = () => {
  let o: HTMLScriptElement | undefined;
  while (!wait && (o = q.shift())) {
    const s = document.createElement("script");
    for (const { name, value } of Array.from(o.attributes))
      if (name != "type") s.setAttribute(name, value);
    if (o.hasAttribute("data-type")) s.type = o.getAttribute("data-type")!;
    s.async = false;
    if (nonce || o.nonce) s.nonce = nonce || o.nonce;
    s.text = o.text;
    if (s.src && o.parentNode && /^$|module|javascript/i.test(s.type)) {
      wait = 1;
      s.onload = s.onerror = () => { wait = 0; next(); };
    }
    o.replaceWith(s);
  }
};

const warn = (e: Element, why: string) => console.warn("samtycke: not blocked, " + why + ":", e);

const one = (e: Element) => {
  const c = e.getAttribute("data-samtycke") || "", u = e.getAttribute("data-samtycke-src");
  if (e instanceof HTMLIFrameElement) {
    if (!u) return warn(e, "needs data-samtycke-src");
    if (hk.ok(c) || once.has(e)) {
      hk.free(e);
      if (e.getAttribute("src") != u) {
        e.src = u;
        e.setAttribute(ON, "");
      }
    } else if (e.hasAttribute(ON)) {
      // Loaded by us, now withdrawn: a fresh copy without src unloads it and is held again.
      const n = e.cloneNode() as Element;
      n.removeAttribute("src");
      n.removeAttribute(ON);
      e.replaceWith(n);
    } else if (e.getAttribute("src")) warn(e, "has a src");
    else hk.hold(e, c);
  } else if (e.getAttribute("type") != "text/plain") {
    warn(e, 'needs type="text/plain"');
    e.removeAttribute("data-samtycke");
  } else if (hk.ok(c)) {
    e.removeAttribute("data-samtycke");
    q.push(e as HTMLScriptElement);
  }
};

/** Activates every matching element in root (and root itself). */
export const scan = (root: Element | Document) => {
  if (root instanceof Element && root.matches(SEL)) one(root);
  root.querySelectorAll(SEL).forEach(one);
  next();
};

/** Activates matching elements added to the document later (and calls more
 *  on each added element); n is the nonce given to activated scripts (the
 *  banner script's own, if any). */
export const watch = (h: Hooks, n: string, more: (e: Element) => void) => {
  hk = h;
  nonce = n;
  new MutationObserver((ms) => {
    for (const m of ms)
      m.addedNodes.forEach((e) => { if (e instanceof Element) { scan(e); more(e); } });
  }).observe(document.documentElement, { childList: true, subtree: true });
};
