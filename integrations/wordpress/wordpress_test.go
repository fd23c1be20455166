// Package wordpress_test runs the Samtycke plugin for WordPress on Debian's
// WordPress (PHP's built-in server, a fresh MariaDB database) against a real
// Samtycke server, and drives it in Chromium.
package wordpress_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

const debianWordPress = "/usr/share/wordpress"

// otherSite is a published site whose allowed origins do not include WordPress's.
const otherSite = "annan"

// Every tracker's inline snippet (window.__inl) and loaded script
// (window.__trk), and the hosts the test serves for them.
var (
	wantInline = []string{"sitekit", "monsterinsights", "gaga", "meta", "clarity", "hotjar", "tiktok", "matomo",
		"linkedin-id", "linkedin", "pinterest"}
	wantScripts = []string{"own-rule", "widget.butiken.test", "tt4b-ajax", "gtag:G-SITEKIT", "mi-frontend", "gtag:G-MI", "gtag:G-GAGA", "connect.facebook.net",
		"www.clarity.ms", "static.hotjar.com", "analytics.tiktok.com", "matomo", "snap.licdn.com", "s.pinimg.com"}
	scriptHosts = []string{"www.googletagmanager.com", "connect.facebook.net", "www.clarity.ms", "static.hotjar.com",
		"analytics.tiktok.com", "snap.licdn.com", "s.pinimg.com", "widget.butiken.test"}
	trackerHostNames = append(slices.Clone(scriptHosts), "www.youtube.com", "player.vimeo.com", "www.google.com",
		"open.spotify.com", "w.soundcloud.com", "www.instagram.com")
	// The embeds of the post, in its order: YouTube by oEmbed, the others in an HTML block.
	embeds = []struct{ provider, request string }{
		{"YouTube", "www.youtube.com/embed/dQw4w9WgXcQ"}, {"Vimeo", "player.vimeo.com/video/76979871"},
		{"Google Maps", "www.google.com/maps/embed"}, {"Spotify", "open.spotify.com/embed/playlist/"},
		{"SoundCloud", "w.soundcloud.com/player/"}, {"Instagram", "www.instagram.com/p/C0ABCDEFGH/embed"},
	}
)

func TestWordPressPlugin(t *testing.T) {
	started := time.Now()
	defer func() { t.Logf("the WordPress test took %v", time.Since(started).Round(100*time.Millisecond)) }()
	php, err := exec.LookPath("php")
	if err != nil {
		need(t, "SAMTYCKE_TEST_SERVICES", "php (Debian's php-cli)", err)
	}
	if _, err := os.Stat(filepath.Join(debianWordPress, "wp-settings.php")); err != nil {
		need(t, "SAMTYCKE_TEST_SERVICES", "Debian's wordpress package", err)
	}
	mysql, err := exec.LookPath("mysql")
	if err != nil {
		need(t, "SAMTYCKE_TEST_SERVICES", "the MariaDB client", err)
	}
	chromium := chromiumPath(t)

	// php -l on every file of the plugin.
	plugin, err := filepath.Abs("samtycke")
	if err != nil {
		t.Fatal(err)
	}
	var phpFiles []string
	if err := filepath.WalkDir(plugin, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".php") {
			phpFiles = append(phpFiles, p)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(phpFiles) < 5 {
		t.Fatalf("only %d PHP files under %s", len(phpFiles), plugin)
	}
	for _, f := range phpFiles {
		if out, err := exec.Command(php, "-l", f).CombinedOutput(); err != nil {
			t.Errorf("php -l %s: %v\n%s", f, err, out)
		}
	}

	// A fresh MariaDB database.
	db := "samtycke_wp_" + randomHex(6)
	sql := func(q string) error {
		out, err := exec.Command(mysql, "-h", "127.0.0.1", "-P", "3306", "-u", "root", "-e", q).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %v: %s", q, err, out)
		}
		return nil
	}
	if err := sql("CREATE DATABASE " + db + " CHARACTER SET utf8mb4"); err != nil {
		need(t, "SAMTYCKE_TEST_SERVICES", "MariaDB on 127.0.0.1:3306 (root, no password)", err)
	}
	t.Cleanup(func() {
		if err := sql("DROP DATABASE IF EXISTS " + db); err != nil {
			t.Error(err)
		}
	})

	// Samtycke, with a site whose origin is the WordPress site's.
	email, password := "owner@example.test", "wp-owner-"+randomHex(8)
	base, chURL := samtyckeServer(t, email, password)
	wpPort := freePort(t)
	wpURL := fmt.Sprintf("http://127.0.0.1:%d", wpPort)
	const site = "butiken"
	apiToken, auditorToken := createSite(t, base, email, password, site, wpURL)

	// WordPress: a copy of Debian's, the plugin installed, set up with PHP.
	wpPassword := "wp-admin-" + randomHex(8)
	wpDir := filepath.Join(t.TempDir(), "wordpress")
	if out, err := exec.Command("cp", "-a", debianWordPress, wpDir).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	debugLog := filepath.Join(wpDir, "wp-content", "debug.log")
	fill := strings.NewReplacer("{{DB}}", db, "{{SALT}}", randomHex(16), "{{URL}}", wpURL, "{{LOG}}", debugLog,
		"{{HOST}}", fmt.Sprintf("127.0.0.1:%d", wpPort), "{{WP_PASSWORD}}", wpPassword, "{{SAMTYCKE}}", base, "{{SITE}}", site)
	writeFile(t, filepath.Join(wpDir, "wp-config.php"), fill.Replace(wpConfig))
	writeFile(t, filepath.Join(wpDir, "samtycke-setup.php"), fill.Replace(wpSetup))
	writeFile(t, filepath.Join(wpDir, "wp-content", "mu-plugins", "test-trackers.php"), muPlugin)
	writeFile(t, filepath.Join(wpDir, "wp-content", "mu-plugins", "frontend-gtag.js"), fmt.Sprintf(localTracker, "mi-frontend"))
	writeFile(t, filepath.Join(wpDir, "wp-content", "uploads", "matomo", "matomo.js"), fmt.Sprintf(localTracker, "matomo"))
	writeFile(t, filepath.Join(wpDir, "wp-content", "mu-plugins", "chat.js"), fmt.Sprintf(localTracker, "own-rule"))
	writeFile(t, filepath.Join(wpDir, "wp-content", "mu-plugins", "ajaxSnippet.js"), fmt.Sprintf(localTracker, "tt4b-ajax"))
	runPHP := func(step string, args ...string) []byte {
		cmd := exec.Command(php, append([]string{"samtycke-setup.php", step}, args...)...)
		cmd.Dir = wpDir
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("samtycke-setup.php %s: %v\n%s%s", step, err, out, stderr.Bytes())
		}
		return out
	}
	runPHP("install")
	// The plugin as people get it: make wordpress-plugin's zip, through WordPress's installer.
	mk := exec.Command("make", "-s", "wordpress-plugin")
	mk.Dir = repoRoot(t)
	if out, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("make wordpress-plugin: %v\n%s", err, out)
	}
	if out := runPHP("plugin", filepath.Join(repoRoot(t), ".data", "dist", "samtycke-wordpress.zip")); !bytes.Contains(out, []byte(`"plugin":"samtycke\/samtycke.php"`)) {
		t.Fatalf("the zip installed %s", out)
	}
	var ids struct{ Post, Page int }
	if out := runPHP("configure"); json.Unmarshal(out, &ids) != nil || ids.Post == 0 || ids.Page == 0 {
		t.Fatalf("configure printed %q", out)
	}
	// PHP's own server; WordPress needs no rewrites with plain permalinks.
	startProc(t, "php-server", wpDir, []string{"PHP_CLI_SERVER_WORKERS=4"}, php, "-S", fmt.Sprintf("127.0.0.1:%d", wpPort), "-t", wpDir)
	waitUntil(t, 30*time.Second, "WordPress", func() error {
		res, err := http.Get(wpURL + "/")
		if err != nil {
			return err
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("GET /: %s", res.Status)
		}
		return nil
	})

	// The trackers' hosts, as Chromium sees them.
	seen := &hits{}
	trackerPort := trackerHosts(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.Host)
		if err != nil {
			host = r.Host
		}
		if r.URL.Path == "/favicon.ico" {
			http.NotFound(w, r)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/recaptcha/") {
			// A form's spam check from www.google.com, the Maps embed's
			// host: necessary, never held (not counted as a tracker's ask).
			w.Header().Set("Content-Type", "application/javascript")
			fmt.Fprint(w, `window.__nec=(window.__nec||[]).concat("recaptcha");`)
			return
		}
		seen.add(host + r.URL.RequestURI())
		if strings.HasPrefix(r.URL.Path, "/embed/") || strings.HasPrefix(r.URL.Path, "/video/") {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, `<!doctype html><title>Player</title><p class="player">%s</p>`, host)
			return
		}
		label := host
		if r.URL.Path == "/gtag/js" {
			label = "gtag:" + r.URL.Query().Get("id")
		}
		w.Header().Set("Content-Type", "application/javascript")
		fmt.Fprintf(w, localTracker, label)
	}))
	var rules []string
	for _, h := range trackerHostNames {
		rules = append(rules, fmt.Sprintf("MAP %s 127.0.0.1:%d", h, trackerPort))
	}
	ctx := browser(t, chromium, strings.Join(rules, ", "))

	checkNothingRan := func(where string) {
		t.Helper()
		st := pageState(t, ctx)
		if len(st.Inline) > 0 || len(st.Scripts) > 0 || len(st.Globals) > 0 || strings.Contains(st.Cookies, "_trk_") ||
			slices.ContainsFunc(st.Storage, func(k string) bool { return strings.HasPrefix(k, "trk_") }) {
			t.Errorf("%s: trackers ran or stored before consent: %+v", where, st)
		}
		if got := seen.all(); len(got) > 0 {
			t.Errorf("%s: the trackers' hosts were asked before consent: %v", where, got)
		}
	}

	// The front page: the banner first in <head>, nothing of a tracker.
	visit(t, ctx, wpURL+"/")
	type first struct{ Src, Nonce string }
	if f := js[first](t, ctx, `(s => ({Src: s?.src || "", Nonce: s?.nonce || ""}))(document.head.querySelector("script"))`); f.Src != base+"/b/"+site+".js" || f.Nonce != "test-nonce-123" {
		t.Errorf("the first script in <head> is %+v, want the banner with the page's nonce", f)
	}
	checkNothingRan("front page")
	// What is not a tracker runs at once: Contact Form 7's reCAPTCHA comes
	// from www.google.com, like a Maps embed, and must not wait for consent.
	waitFor(t, ctx, `(window.__nec || []).includes("recaptcha")`, "the contact form's reCAPTCHA to run before any choice")
	screenshot(t, ctx, "wordpress-front-banner", false)

	// A post with a YouTube embed (oEmbed) and iframes of the other providers (HTML block): placeholders.
	postURL := fmt.Sprintf("%s/?p=%d", wpURL, ids.Post)
	visit(t, ctx, postURL)
	checkNothingRan("post")
	waitFor(t, ctx, fmt.Sprintf(`document.querySelectorAll("[data-samtycke-placeholder]").length == %d`, len(embeds)), "a placeholder for each embed")
	if n := js[int](t, ctx, `[...document.querySelectorAll("iframe")].filter(f => f.getAttribute("src")).length`); n != 0 {
		t.Errorf("%d iframes have a src before consent", n)
	}
	names := js[[]string](t, ctx, `[...document.querySelectorAll("[data-samtycke-placeholder]")].map(p => p.shadowRoot.textContent)`)
	for i, e := range embeds {
		if i >= len(names) || !strings.Contains(names[i], "content from "+e.provider+" ") {
			t.Errorf("placeholder %d does not name %s: %q", i, e.provider, names)
		}
	}
	js[bool](t, ctx, `(document.querySelector("[data-samtycke-placeholder]").scrollIntoView({block: "center"}), true)`)
	screenshot(t, ctx, "wordpress-post-placeholder", false)

	// Reject all: still nothing, also on the next page view.
	click(t, ctx, inShadow(`[data-action=reject_all]`))
	waitFor(t, ctx, `!document.querySelector("#samtycke-root")?.shadowRoot.querySelector(".b")`, "the first layer to close")
	do(t, ctx, chromedp.Reload())
	waitFor(t, ctx, fmt.Sprintf(`document.readyState == "complete" && document.querySelectorAll("[data-samtycke-placeholder]").length == %d`, len(embeds)), "the post again")
	if js[bool](t, ctx, `!!document.querySelector("#samtycke-root")?.shadowRoot.querySelector(".b")`) {
		t.Error("the banner asks again after Reject all")
	}
	checkNothingRan("post after Reject all")

	// The cookie page: the declaration's table, then Accept all from the settings link.
	visitPage(t, ctx, fmt.Sprintf("%s/?page_id=%d", wpURL, ids.Page))
	// The shortcode and the block.
	waitFor(t, ctx, `[...document.querySelectorAll("[data-samtycke-declaration]")].filter(d => d.shadowRoot?.querySelector("table")).length == 2`, "the declaration's table twice")
	for _, txt := range js[[]string](t, ctx, `[...document.querySelectorAll("[data-samtycke-declaration]")].map(d => d.shadowRoot.textContent)`) {
		if !strings.Contains(txt, "_ga") || !strings.Contains(txt, "_fbp") {
			t.Errorf("the declaration lacks the site's items: %.300q", txt)
		}
	}
	checkNothingRan("cookie page after Reject all")
	click(t, ctx, `document.querySelector("a[data-samtycke-open]")`)
	waitFor(t, ctx, inShadow("dialog[open]"), "the cookie settings")
	click(t, ctx, inShadow(`dialog [data-action=accept_all]`))
	waitFor(t, ctx, fmt.Sprintf(`(() => { const s = %s, i = %s; return s.every(l => (window.__trk || {})[l]) && i.every(l => (window.__inl || []).includes(l)) })()`,
		jsonString(t, wantScripts), jsonString(t, wantInline)), "every tracker to run after Accept all")
	for _, h := range scriptHosts {
		if seen.matching(h+"/") == 0 {
			t.Errorf("nothing was asked of %s after Accept all", h)
		}
	}

	// The embeds load on the post.
	visitPage(t, ctx, postURL)
	waitFor(t, ctx, fmt.Sprintf(`document.querySelectorAll("iframe[src]").length == %d && !document.querySelector("[data-samtycke-placeholder]")`, len(embeds)), "the embeds to load")
	// Google Maps' iframe is lazy: bring each into view.
	js[bool](t, ctx, `(document.querySelectorAll("iframe").forEach(f => f.loading = "eager"), true)`)
	waitUntil(t, 15*time.Second, "the embeds' requests", func() error {
		for _, e := range embeds {
			if seen.matching(e.request) == 0 {
				return fmt.Errorf("nothing asked of %s; asked: %v", e.request, seen.all())
			}
		}
		return nil
	})

	// The settings page, signed in: the check passes, then a wrong site id is named.
	settings := wpURL + "/wp-admin/options-general.php?page=samtycke"
	do(t, ctx, chromedp.Navigate(wpURL+"/wp-login.php?redirect_to="+url.QueryEscape(settings)), chromedp.WaitVisible(chromedp.ID("user_login")))
	// Values set, not typed: the login page moves the focus to the user name
	// (and selects it) a moment after it loads, which would scatter keystrokes.
	js[bool](t, ctx, fmt.Sprintf(`(document.getElementById("user_login").value = "admin", document.getElementById("user_pass").value = %q, true)`, wpPassword))
	submit(t, ctx, "wp-submit", `document.getElementById("samtycke_site_id")`)
	if txt := js[string](t, ctx, `document.querySelector(".wrap .notice")?.textContent || ""`); !strings.Contains(txt, "load from the server") {
		t.Errorf("the settings page's check: %q", txt)
	}
	// Without a token: where the scans are.
	scansURL := base + "/admin/sites/" + site + "/scans"
	if got := js[string](t, ctx, `document.querySelector(".samtycke-scan-none a")?.href || ""`); got != scansURL {
		t.Errorf("without a token the scan section links to %q, want %q", got, scansURL)
	}
	screenshot(t, ctx, "wordpress-settings", true)

	// A Real Cookie Banner export into the draft: without a token it says what is missing.
	exportFile := filepath.Join(t.TempDir(), "real-cookie-banner-export.json")
	writeFile(t, exportFile, rcbExport)
	do(t, ctx, chromedp.SetUploadFiles(chromedp.ID("samtycke_rcb_file"), []string{exportFile}))
	submit(t, ctx, "samtycke_import_submit", `document.querySelector(".samtycke-import-result")`)
	if txt := js[string](t, ctx, `document.querySelector(".samtycke-import-result.notice-error")?.textContent || ""`); !strings.Contains(txt, "needs an API token") {
		t.Errorf("an import without a token: %q", txt)
	}
	do(t, ctx, chromedp.SetUploadFiles(chromedp.ID("samtycke_rcb_file"), []string{exportFile}),
		chromedp.SendKeys(chromedp.ID("samtycke_import_token"), apiToken))
	submit(t, ctx, "samtycke_import_submit", `document.querySelector(".samtycke-import-result")`)
	result := js[string](t, ctx, `document.querySelector(".samtycke-import-result")?.textContent || ""`)
	if !strings.Contains(result, `Imported 5 items of 5 services into the draft of "butiken"`) ||
		!strings.Contains(result, "_ga (already in the draft)") || !strings.Contains(result, "Old pixel (not published)") ||
		!strings.Contains(result, "Local fonts (lists no cookies)") || strings.Contains(result, "real_cookie_banner") {
		t.Errorf("the import says: %q", result)
	}
	// The form sends its user back to itself, where the outcome is.
	waitFor(t, ctx, `(() => { const r = document.querySelector(".samtycke-import-result").getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight })()`,
		"the import's outcome in view")
	screenshot(t, ctx, "wordpress-settings-import", false)
	checkImportedDraft(t, base, site, apiToken)

	// With the token stored: the latest scan's findings, and one added to the draft.
	scanID := "6f2c1b0e-4d5a-4e8b-9c7d-1a2b3c4d5e6f"
	storeScan(t, chURL, site, time.Now().Add(-time.Hour), []byte(strings.NewReplacer("{{ID}}", scanID,
		"{{AT}}", time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)).Replace(scanReport)))
	do(t, ctx, chromedp.SendKeys(chromedp.ID("samtycke_api_token"), apiToken))
	submit(t, ctx, "submit", `document.querySelector(".samtycke-findings")`)
	rows := js[[]string](t, ctx, `[...document.querySelectorAll(".samtycke-findings tbody tr")].map(r => r.innerText)`)
	if len(rows) != 2 || !strings.Contains(rows[0], "cookie _hjSessionUser_123456") || !strings.Contains(rows[0], "not declared") ||
		!strings.Contains(rows[0], "statistics · 1 year") || !strings.Contains(rows[0], "Add to draft") ||
		!strings.Contains(rows[1], "host px.ads.example") || !strings.Contains(rows[1], "set before consent") {
		t.Errorf("the findings: %q", rows)
	}
	html := js[string](t, ctx, `document.documentElement.outerHTML`)
	if strings.Contains(html, apiToken) || !strings.Contains(html, "A token ending in …"+apiToken[len(apiToken)-4:]+" is stored") {
		t.Error("the stored token is printed back, or the page does not say that one is stored")
	}
	submit(t, ctx, "samtycke-add-0", `document.querySelector(".samtycke-scan-result")`)
	if txt := js[string](t, ctx, `document.querySelector(".samtycke-scan-result.notice-success")?.textContent || ""`); !strings.Contains(txt, "Added _hjSessionUser_* to the draft") {
		t.Errorf("after Add to draft: %q", txt)
	}
	if txt := js[string](t, ctx, `document.querySelector(".samtycke-findings tbody tr")?.innerText || ""`); !strings.Contains(txt, "In the draft") || strings.Contains(txt, "Add to draft") {
		t.Errorf("the added finding's row: %q", txt)
	}
	js[bool](t, ctx, `(document.getElementById("samtycke-scan").scrollIntoView(), true)`)
	screenshot(t, ctx, "wordpress-settings-scan", false)
	checkDraftItem(t, base, site, apiToken, "_hjSessionUser_*", "statistics")
	// An auditor's token: the findings, read-only, no button to be refused.
	do(t, ctx, chromedp.SendKeys(chromedp.ID("samtycke_api_token"), auditorToken))
	submit(t, ctx, "submit", `document.querySelector(".samtycke-findings")`)
	if n := js[int](t, ctx, `document.querySelectorAll(".samtycke-findings button").length`); n != 0 ||
		!js[bool](t, ctx, `!!document.querySelector(".samtycke-scan-readonly")`) {
		t.Errorf("with an auditor's token: %d Add to draft buttons, and no word that it is read-only", n)
	}
	// The editor's token again, for the rest.
	do(t, ctx, chromedp.SendKeys(chromedp.ID("samtycke_api_token"), apiToken))
	submit(t, ctx, "submit", `document.querySelector(".samtycke-findings button")`)
	js[bool](t, ctx, `(document.getElementById("samtycke_site_id").value = "no-such-site", true)`)
	submit(t, ctx, "submit", `document.getElementById("samtycke_site_id")?.value == "no-such-site"`)
	// The owner's rule went through the form and back.
	if v := js[string](t, ctx, `document.getElementById("samtycke_scripts").value`); strings.TrimSpace(v) != "butiken-chat = preferences" {
		t.Errorf("the own rules after a save: %q", v)
	}
	if v := js[string](t, ctx, `document.getElementById("samtycke_hosts").value`); strings.TrimSpace(v) != "widget.butiken.test = preferences" {
		t.Errorf("the own host rules after a save: %q", v)
	}
	if !strings.Contains(js[string](t, ctx, `document.getElementById("samtycke_api_token_help").textContent`), "is stored") {
		t.Error("a save with the token's field empty forgot the stored token")
	}
	notice := js[string](t, ctx, `document.querySelector(".wrap .notice-error")?.textContent || ""`)
	if !strings.Contains(notice, "Unknown site") || !strings.Contains(notice, `"no-such-site"`) {
		t.Errorf("a wrong site id is not reported clearly: %q", notice)
	}
	screenshot(t, ctx, "wordpress-settings-unknown-site", false)

	// Forgetting the token: the scan section links to the dashboard again.
	click(t, ctx, `document.querySelector("input[name=samtycke_forget_token]")`)
	submit(t, ctx, "submit", `document.getElementById("samtycke_api_token_help")`)
	if js[bool](t, ctx, `document.getElementById("samtycke_api_token_help").textContent.includes("is stored") || !document.querySelector(".samtycke-scan-none a")`) {
		t.Error("the token is still stored after Forget the stored token")
	}

	// A site that does not allow this origin, and a server that does not answer.
	js[bool](t, ctx, `(document.getElementById("samtycke_site_id").value = "`+otherSite+`", true)`)
	submit(t, ctx, "submit", `document.getElementById("samtycke_site_id")?.value == "`+otherSite+`"`)
	if n := js[string](t, ctx, `document.querySelector(".wrap .notice-error")?.textContent || ""`); !strings.Contains(n, "Origin not allowed: add "+wpURL) {
		t.Errorf("a site that does not allow the origin: %q", n)
	}
	closed := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	js[bool](t, ctx, `(document.getElementById("samtycke_server_url").value = "`+closed+`", true)`)
	submit(t, ctx, "submit", `document.getElementById("samtycke_server_url")?.value == "`+closed+`"`)
	if n := js[string](t, ctx, `document.querySelector(".wrap .notice-error")?.textContent || ""`); !strings.Contains(n, "The Samtycke server "+closed+" cannot be reached") {
		t.Errorf("a server that does not answer: %q", n)
	}

	// Exports of wrong shapes: each answered in words.
	var cases []json.RawMessage
	for _, c := range rcbHostile {
		cases = append(cases, json.RawMessage(c.export))
	}
	hostile := filepath.Join(t.TempDir(), "hostile.json")
	writeFile(t, hostile, jsonString(t, cases))
	var said []string
	if out := runPHP("convert", hostile); json.Unmarshal(out, &said) != nil || len(said) != len(rcbHostile) {
		t.Errorf("convert printed %s", out)
	} else {
		for i, c := range rcbHostile {
			if !strings.Contains(said[i], c.says) {
				t.Errorf("export %s: the import says %q, want %q", c.export, said[i], c.says)
			}
		}
	}

	// The suggested text for the privacy policy.
	var privacy struct {
		Hooked bool
		Texts  map[string]string
	}
	if out := runPHP("privacy"); json.Unmarshal(out, &privacy) != nil || !privacy.Hooked ||
		!strings.Contains(privacy.Texts["Samtycke"], "asks for your consent before it sets cookies") || !strings.Contains(privacy.Texts["Samtycke"], "[samtycke_declaration]") {
		t.Errorf("the privacy policy suggestion: %s", out)
	}

	// Uninstalling removes the options.
	var un struct {
		Left   []string
		Active bool
	}
	if out := runPHP("uninstall"); json.Unmarshal(out, &un) != nil || len(un.Left) > 0 || un.Active {
		t.Errorf("after uninstalling: %s", out)
	}

	// No PHP warning or notice from the plugin's own files.
	if b, err := os.ReadFile(debugLog); err == nil {
		var ours []string
		for _, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, "/plugins/samtycke/") {
				ours = append(ours, line)
			}
		}
		if len(ours) > 0 {
			t.Errorf("debug.log has the plugin's own messages:\n%s", strings.Join(ours, "\n"))
		}
	} else if !os.IsNotExist(err) {
		t.Fatal(err)
	}
}

// createSite signs in to the dashboard as the bootstrap owner, creates the
// site with the WordPress origin, saves the demo configuration as its draft
// and publishes it.
func createSite(t *testing.T, base, email, password, site, origin string) (editorToken, auditorToken string) {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	csrf := regexp.MustCompile(`name="_csrf" value="([^"]+)"`)
	get := func(path string) string {
		res, err := c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		m := csrf.FindSubmatch(b)
		if res.StatusCode != http.StatusOK || m == nil {
			t.Fatalf("GET %s: %s, no CSRF token:\n%.500s", path, res.Status, b)
		}
		return string(m[1])
	}
	token := get("/admin/login")
	res, err := c.PostForm(base+"/admin/login", url.Values{"email": {email}, "password": {password}, "_csrf": {token}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	token = get("/admin/")
	api := func(method, path string, body any, want int) []byte {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequest(method, base+path, bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", token)
		if method == "PUT" {
			req.Header.Set("If-Match", "*") // a new site's starter draft
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		out, _ := io.ReadAll(res.Body)
		if res.StatusCode != want {
			t.Fatalf("%s %s: %s, want %d: %s", method, path, res.Status, want, out)
		}
		return out
	}
	api("POST", "/v1/sites", map[string]any{"id": site, "name": "Butiken", "allowed_origins": []string{origin}}, http.StatusCreated)
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), "server", "internal", "demo", "site.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["name"], cfg["allowed_origins"] = "Butiken", []string{origin}
	api("PUT", "/v1/sites/"+site+"/draft", cfg, http.StatusOK)
	api("POST", "/v1/sites/"+site+"/publish", map[string]string{"note": "WordPress test"}, http.StatusCreated)
	// A second site, published for another origin only.
	api("POST", "/v1/sites", map[string]any{"id": otherSite, "name": "Annan", "allowed_origins": []string{"https://annan.example"}}, http.StatusCreated)
	cfg["name"], cfg["allowed_origins"] = "Annan", []string{"https://annan.example"}
	api("PUT", "/v1/sites/"+otherSite+"/draft", cfg, http.StatusOK)
	api("POST", "/v1/sites/"+otherSite+"/publish", map[string]string{"note": "WordPress test"}, http.StatusCreated)
	newToken := func(role string) string {
		var tok struct{ Secret string }
		if err := json.Unmarshal(api("POST", "/v1/sites/"+site+"/tokens", map[string]string{"name": "WordPress " + role, "role": role}, http.StatusCreated), &tok); err != nil || tok.Secret == "" {
			t.Fatalf("%s token: %v %q", role, err, tok.Secret)
		}
		return tok.Secret
	}
	return newToken("editor"), newToken("auditor")
}

// checkImportedDraft reads the draft with the token: the export's services
// are items of the right kinds, lifetimes and categories, a new group is a
// category, and nothing was published.
func checkImportedDraft(t *testing.T, base, site, token string) {
	t.Helper()
	req, err := http.NewRequest("GET", base+"/v1/sites/"+site+"/draft", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	type item struct {
		Name, Type, Provider, Party, Domain, Category, Duration string
		Purpose                                                 map[string]string
		ThirdCountry                                            struct {
			Transfer  bool
			Countries []string
		} `json:"third_country"`
	}
	var d struct {
		Config struct {
			Categories []struct {
				ID    string
				Title map[string]string
			}
			Items []item
		}
		Published uint32 `json:"published_version"`
	}
	if err := json.NewDecoder(res.Body).Decode(&d); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET draft: %s %v", res.Status, err)
	}
	got := map[string]item{}
	count := map[string]int{}
	for _, it := range d.Config.Items {
		got[it.Name] = it
		count[it.Name]++
	}
	want := map[string]string{
		"woocommerce_cart_hash": "cookie first  necessary session Butiken false []",
		"_gid":                  "cookie first  statistics P1D Google Ireland Limited true [US]",
		"fr":                    "cookie third facebook.com marketing P3M Meta Platforms Ireland Limited true [US]",
		"chat_state":            "local_storage first  preferences persistent Chat false []",
		"a2a_session":           "session_storage first  social_media session AddToAny LLC false []",
	}
	for name, w := range want {
		it := got[name]
		if g := fmt.Sprintf("%s %s %s %s %s %s %v %v", it.Type, it.Party, it.Domain, it.Category, it.Duration, it.Provider,
			it.ThirdCountry.Transfer, it.ThirdCountry.Countries); g != w {
			t.Errorf("imported %s: %q, want %q", name, g, w)
		}
	}
	if p := got["_gid"].Purpose["sv"]; p != "Google Analytics: Counts visits." {
		t.Errorf("_gid's purpose %q", p)
	}
	for _, name := range []string{"_ga", "_fbp"} {
		if count[name] != 1 {
			t.Errorf("%s is in the draft %d times", name, count[name])
		}
	}
	for _, name := range []string{"real_cookie_banner*", "old"} {
		if _, ok := got[name]; ok {
			t.Errorf("%s was imported", name)
		}
	}
	found := false
	for _, c := range d.Config.Categories {
		found = found || (c.ID == "social_media" && c.Title["sv"] == "Social media")
	}
	if !found {
		t.Errorf("no social_media category: %+v", d.Config.Categories)
	}
	if d.Published != 1 {
		t.Errorf("published version %d, want 1: the import only changes the draft", d.Published)
	}
}

// checkDraftItem reads the draft with the token: it declares name once, in category.
func checkDraftItem(t *testing.T, base, site, token, name, category string) {
	t.Helper()
	req, err := http.NewRequest("GET", base+"/v1/sites/"+site+"/draft", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var d struct {
		Config struct {
			Items []struct{ Name, Category string }
		}
	}
	if err := json.NewDecoder(res.Body).Decode(&d); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET draft: %s %v", res.Status, err)
	}
	var cats []string
	for _, it := range d.Config.Items {
		if it.Name == name {
			cats = append(cats, it.Category)
		}
	}
	if len(cats) != 1 || cats[0] != category {
		t.Errorf("the draft declares %s as %v, want once as %s", name, cats, category)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func jsonString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The browser side.

func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("SAMTYCKE_CHROMIUM"), "/usr/bin/chromium"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	need(t, "SAMTYCKE_TEST_BROWSER", "Chromium (/usr/bin/chromium)", os.ErrNotExist)
	return ""
}

// browser starts headless Chromium with a fresh profile and the trackers'
// host names mapped to the test's server.
func browser(t *testing.T, exe, resolverRules string) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("host-resolver-rules", resolverRules),
		chromedp.Flag("ignore-certificate-errors", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancel3)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	// A headless window never has the focus a visitor's has.
	if _, err := chromedp.Call(ctx, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true}); err != nil {
		t.Fatalf("focus emulation: %v", err)
	}
	return ctx
}

func inShadow(sel string) string {
	return fmt.Sprintf(`document.querySelector("#samtycke-root")?.shadowRoot.querySelector(%q)`, sel)
}

func js[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, ctx context.Context, pred, what string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !js[bool](t, ctx, "!!("+pred+")") {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s (%s)", what, pred)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func click(t *testing.T, ctx context.Context, jsPath string) {
	t.Helper()
	do(t, ctx, chromedp.Click(chromedp.JSPath(jsPath)))
}

// submit clicks a form's button and waits for the page it leads to (not the
// one it was on) to load and to satisfy ready.
func submit(t *testing.T, ctx context.Context, buttonID, ready string) {
	t.Helper()
	js[bool](t, ctx, `(window.__leaving = true)`)
	do(t, ctx, chromedp.Click(chromedp.ID(buttonID)))
	waitFor(t, ctx, `!window.__leaving && document.readyState == "complete" && `+ready, "the page after "+buttonID)
}

// visit opens a page and waits until it has loaded and the banner's first
// layer shows.
func visit(t *testing.T, ctx context.Context, u string) {
	t.Helper()
	do(t, ctx, chromedp.Navigate(u))
	waitFor(t, ctx, `document.readyState == "complete" && `+inShadow(".b h2"), "the banner on "+u)
}

// visitPage opens a page of a visitor who has chosen: no first layer.
func visitPage(t *testing.T, ctx context.Context, u string) {
	t.Helper()
	do(t, ctx, chromedp.Navigate(u))
	waitFor(t, ctx, `document.readyState == "complete" && document.querySelector("#samtycke-root")`, u)
}

type state struct {
	Inline, Scripts, Storage, Globals []string
	Cookies                           string
}

func pageState(t *testing.T, ctx context.Context) state {
	t.Helper()
	return js[state](t, ctx, `({Inline: window.__inl || [], Scripts: Object.keys(window.__trk || {}), Storage: Object.keys(localStorage),
		Globals: ["fbq", "_fbq", "hj", "clarity", "ttq", "pintrk", "lintrk", "_linkedin_partner_id", "mi_track_user", "__gtagTracker", "_paq"].filter(k => k in window),
		Cookies: document.cookie})`)
}

// screenshot saves a PNG under $SAMTYCKE_ARTIFACTS (make test: .data/artifacts).
func screenshot(t *testing.T, ctx context.Context, name string, full bool) {
	t.Helper()
	dir := os.Getenv("SAMTYCKE_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	// Let the banner's entrance animation finish first.
	settle := `Promise.all(document.getAnimations({subtree: true}).concat(
		[...document.querySelectorAll("#samtycke-root")].flatMap(h => h.shadowRoot.getAnimations())).map(a => a.finished)).then(() => true)`
	js[bool](t, ctx, settle)
	capture := chromedp.CaptureScreenshot()
	if full {
		capture = chromedp.FullScreenshot(100)
	}
	png, err := chromedp.Run(ctx, capture)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}
