// Activates blocked content whose category is granted:
//   <script type="text/plain" data-samtycke="statistics" [data-type="module"]>
//   <iframe data-samtycke="marketing" data-samtycke-src="https://…">
// Everything else stays inert; a held iframe is hidden behind a placeholder
// until it is allowed, always or once.
//
// The page, or the framework that renders it (React, Vue, Preact…), owns
// these elements and removes or moves them when it likes: a node it no
// longer finds where it left it makes it throw and unmount the whole app. So
// nothing of the page's is ever replaced: a script runs as a new element
// inserted after its inert original, and an iframe is loaded and unloaded
// in place.

import { warn } from "./ui";

const BLOCKED = "script[data-samtycke],iframe[data-samtycke]", LOADED_BY_US = "data-samtycke-on";

type Granted = (category: string) => boolean;
type FrameHook = (frame: HTMLIFrameElement, category: string) => void;

// Scripts are activated one at a time: an external script is awaited (load or
// error) before the next one is inserted, so inline code that follows it runs
// in document order too.
const queue: HTMLScriptElement[] = [];
let waiting = false, scriptNonce = "", granted: Granted, showPlaceholder: FrameHook, removePlaceholder: FrameHook;

/** Iframes the visitor loaded once, without granting their category. */
export const once = new Set<Element>();

/** Categories whose scripts ran on this page: refusing one of them afterwards needs a reload to stop them. */
export const ran = new Set<string>();

const runQueued = () => {
  let inert: HTMLScriptElement | undefined;
  while (!waiting && (inert = queue.shift())) {
    if (!inert.parentNode) continue; // removed by the page before its turn: it never runs
    const script = document.createElement("script");
    for (const { name, value } of Array.from(inert.attributes))
      if (name != "type") script.setAttribute(name, value);
    if (inert.hasAttribute("data-type")) script.type = inert.getAttribute("data-type")!;
    script.async = false;
    if (scriptNonce || inert.nonce) script.nonce = scriptNonce || inert.nonce;
    script.text = inert.text;
    if (script.src && /^$|module|javascript/i.test(script.type)) {
      waiting = true;
      script.onload = script.onerror = () => { waiting = false; runQueued(); };
    }
    inert.after(script);
  }
};

const unblocked = (element: Element, why: string) => warn("not blocked, " + why + ":", element);

const apply = (element: Element) => {
  const category = element.getAttribute("data-samtycke") || "", src = element.getAttribute("data-samtycke-src");
  if (element instanceof HTMLIFrameElement) {
    if (!src) return unblocked(element, "needs data-samtycke-src");
    if (granted(category) || once.has(element)) {
      removePlaceholder(element, category);
      if (!element.hasAttribute(LOADED_BY_US)) {
        element.setAttribute(LOADED_BY_US, "");
        // A task later: the parser may run this observer while it is still
        // inserting the iframe, before the iframe's own first load (of
        // about:blank), which would then cancel this one.
        setTimeout(() => { if (element.hasAttribute(LOADED_BY_US)) element.src = src; });
      }
    } else if (element.hasAttribute(LOADED_BY_US)) {
      // Loaded by us, now withdrawn: without its src the frame shows about:blank.
      element.removeAttribute(LOADED_BY_US);
      element.removeAttribute("src");
      showPlaceholder(element, category);
    } else if (element.getAttribute("src")) unblocked(element, "has a src");
    else showPlaceholder(element, category);
  } else if (element.getAttribute("type") != "text/plain") {
    unblocked(element, 'needs type="text/plain"');
    element.removeAttribute("data-samtycke");
  } else if (granted(category)) {
    element.removeAttribute("data-samtycke");
    ran.add(category);
    queue.push(element as HTMLScriptElement);
  }
};

/** Activates every matching element in root (and root itself). */
export const scan = (root: Element | Document) => {
  if (root instanceof Element && root.matches(BLOCKED)) apply(root);
  root.querySelectorAll(BLOCKED).forEach(apply);
  runQueued();
};

/** Activates matching elements added to the document later, and calls
 *  onAdded on each added element and tidy after each batch of changes.
 *  isGranted says whether a category is granted; held shows a placeholder
 *  for a held iframe (once per iframe), freed removes it; nonce is given to
 *  activated scripts (the banner script's own, if any). */
export const watch = (isGranted: Granted, held: FrameHook, freed: FrameHook, tidy: () => void, nonce: string,
  onAdded: (element: Element) => void) => {
  granted = isGranted;
  showPlaceholder = held;
  removePlaceholder = freed;
  scriptNonce = nonce;
  new MutationObserver((mutations) => {
    for (const mutation of mutations)
      mutation.addedNodes.forEach((node) => { if (node instanceof Element) { scan(node); onAdded(node); } });
    tidy();
  }).observe(document.documentElement, { childList: true, subtree: true });
};
