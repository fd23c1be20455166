package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// Apps that own their DOM, built from the real React 19, Vue 3 and Preact
// packages: the iframe and the blocked script are direct children of a node
// the framework keeps, so a node of theirs that the banner replaced would
// make the framework's own removeChild or insertBefore throw.
var frameworkApps = map[string]string{
	"react": `import { createElement as h, useState } from "react";
import { createRoot } from "react-dom/client";
import { flushSync } from "react-dom";
function App() {
  const [show, setShow] = useState(true);
  window.toggle = (v) => flushSync(() => setShow(v));
  return h("div", { id: "app" },
    h("p", { id: "alive" }, show ? "mounted with embeds" : "mounted without embeds"),
    show && h("iframe", { "data-samtycke": "marketing", "data-samtycke-src": "/demo/video.html", width: 560, height: 315, title: "Film" }),
    show && h("script", { type: "text/plain", "data-samtycke": "statistics", dangerouslySetInnerHTML: { __html: "window.fwRan = (window.fwRan || 0) + 1" } }),
    h("p", null, "after the embeds"));
}
createRoot(document.getElementById("root")).render(h(App));`,
	"vue": `import { createApp, h, ref } from "vue";
const show = ref(true);
window.toggle = (v) => { show.value = v; };
createApp({ render: () => h("div", { id: "app" }, [
  h("p", { id: "alive" }, show.value ? "mounted with embeds" : "mounted without embeds"),
  show.value ? h("iframe", { "data-samtycke": "marketing", "data-samtycke-src": "/demo/video.html", width: 560, height: 315, title: "Film" }) : null,
  show.value ? h("script", { type: "text/plain", "data-samtycke": "statistics", innerHTML: "window.fwRan = (window.fwRan || 0) + 1" }) : null,
  h("p", null, "after the embeds"),
]) }).mount("#root");`,
	"preact": `import { h, render } from "preact";
import { useState } from "preact/hooks";
function App() {
  const [show, setShow] = useState(true);
  window.toggle = setShow;
  return h("div", { id: "app" },
    h("p", { id: "alive" }, show ? "mounted with embeds" : "mounted without embeds"),
    show && h("iframe", { "data-samtycke": "marketing", "data-samtycke-src": "/demo/video.html", width: 560, height: 315, title: "Film" }),
    show && h("script", { type: "text/plain", "data-samtycke": "statistics", dangerouslySetInnerHTML: { __html: "window.fwRan = (window.fwRan || 0) + 1" } }),
    h("p", null, "after the embeds"));
}
render(h(App), document.getElementById("root"));`,
}

// Blocking under React, Vue and Preact: mount (held), activate (the script
// runs, the iframe loads in place), unmount, remount (runs again), withdraw
// the iframe's category alone (unloaded in place, held again), unmount
// (its placeholder goes with it), remount (one placeholder), withdraw all
// (the page reloads: the script ran). The app stays mounted throughout and
// nothing throws.
func TestBannerFrameworks(t *testing.T) {
	s := newStack(t, nil)
	for name, src := range frameworkApps {
		t.Run(name, func(t *testing.T) {
			app := bundle(t, src)
			ctx := browser(t, 1280, 900)
			errs := recordErrors(t, ctx)
			servePages(t, ctx, s, map[string]string{
				"app":    pageHead + `<script src="/b/demo.js" async></script></head><body><div id="root"></div><script src="/t/app.js"></script></body></html>`,
				"app.js": app,
			}, nil)
			alive := func(with bool) {
				t.Helper()
				want := "mounted without embeds"
				if with {
					want = "mounted with embeds"
				}
				waitFor(t, ctx, `document.querySelector("#app #alive")?.textContent == "`+want+`"`, "the app, "+want)
			}
			placeholders := func(n int) {
				t.Helper()
				waitFor(t, ctx, `document.querySelectorAll("[data-samtycke-placeholder]").length == `+string(rune('0'+n)), "placeholders")
			}
			do(t, ctx, chromedp.Navigate(s.base+"/t/app"))
			waitFor(t, ctx, inShadow(".b h2"), "the first layer")
			alive(true)
			placeholders(1)
			if js[bool](t, ctx, "!!window.fwRan") {
				t.Fatal("the blocked script ran before consent")
			}
			click(t, ctx, inShadow(`.b [data-action=accept_all]`))
			waitFor(t, ctx, "window.fwRan == 1", "the script to run once")
			waitFor(t, ctx, videoLoaded, "the iframe to load in place")
			placeholders(0)

			js[bool](t, ctx, "(toggle(false), true)")
			alive(false)
			js[bool](t, ctx, "(toggle(true), true)")
			alive(true)
			waitFor(t, ctx, "window.fwRan == 2", "the remounted script to run")
			waitFor(t, ctx, videoLoaded, "the remounted iframe to load")

			// Marketing alone withdrawn: no script of it ran, so no reload; the iframe is unloaded where it is.
			js[bool](t, ctx, "(window.beforeReload = true, Samtycke.open(), true)")
			waitFor(t, ctx, inShadow("dialog[open]"), "the settings")
			click(t, ctx, inShadow("#s-marketing"))
			click(t, ctx, inShadow(`dialog [data-action=custom]`))
			placeholders(1)
			waitFor(t, ctx, `document.querySelector("iframe[data-samtycke]").contentWindow.location.href == "about:blank"`, "the iframe to unload")
			js[bool](t, ctx, "(toggle(false), true)")
			alive(false)
			placeholders(0)
			js[bool](t, ctx, "(toggle(true), true)")
			alive(true)
			placeholders(1)
			if !js[bool](t, ctx, "window.beforeReload === true") {
				t.Error("withdrawing a category none of whose scripts ran reloaded the page")
			}

			// Statistics withdrawn after its script ran: the page reloads, and the new page runs nothing.
			reloadsAfter(t, ctx, func() { js[bool](t, ctx, "(Samtycke.withdraw(), true)") })
			alive(true)
			placeholders(1)
			if js[bool](t, ctx, "!!window.fwRan") {
				t.Error("the script ran after withdrawal")
			}
			if e := errs.all(); len(e) > 0 {
				t.Errorf("the page threw: %s", strings.Join(e, "\n"))
			}
		})
	}
}
