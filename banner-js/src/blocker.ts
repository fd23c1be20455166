// Activates blocked content whose category is granted:
//   <script type="text/plain" data-samtycke="statistics" [data-type="module"]>
//   <iframe data-samtycke="marketing" data-samtycke-src="https://…">
// Everything else stays inert.

const SEL = 'script[type="text/plain"][data-samtycke],iframe[data-samtycke][data-samtycke-src]';

type Ok = (cat: string) => boolean;

// Scripts are activated one at a time: an external script is awaited (load or
// error) before the next one is inserted, so inline code that follows it runs
// in document order too.
const q: HTMLScriptElement[] = [];
let wait = 0, nonce = "";

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

const one = (e: Element, ok: Ok) => {
  const c = e.getAttribute("data-samtycke") || "", u = e.getAttribute("data-samtycke-src");
  if (!ok(c)) return;
  if (e instanceof HTMLIFrameElement) {
    if (u && e.getAttribute("src") != u) e.src = u;
  } else {
    e.removeAttribute("data-samtycke");
    q.push(e as HTMLScriptElement);
  }
};

/** Activates every matching element in root (and root itself). */
export const scan = (root: Element | Document, ok: Ok) => {
  if (root instanceof Element && root.matches(SEL)) one(root, ok);
  root.querySelectorAll(SEL).forEach((e) => one(e, ok));
  next();
};

/** Activates matching elements added to the document later; n is the nonce
 *  given to activated scripts (the banner script's own, if any). */
export const watch = (ok: Ok, n: string) => {
  nonce = n;
  new MutationObserver((ms) => {
    for (const m of ms)
      m.addedNodes.forEach((e) => { if (e instanceof Element) scan(e, ok); });
  }).observe(document.documentElement, { childList: true, subtree: true });
};
