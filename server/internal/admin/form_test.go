package admin_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"testing"

	"github.com/samtycke/samtycke/server/internal/manage"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

var (
	inputRe    = regexp.MustCompile(`<input ([^>]*)>`)
	textareaRe = regexp.MustCompile(`(?s)<textarea [^>]*name="([^"]+)"[^>]*>(.*?)</textarea>`)
	selectRe   = regexp.MustCompile(`(?s)<select [^>]*name="([^"]+)"[^>]*>(.*?)</select>`)
	selectedRe = regexp.MustCompile(`<option value="([^"]*)" selected>`)
	attrRe     = regexp.MustCompile(`([a-z-]+)="([^"]*)"`)
)

// formValues reads the editor's controls as a browser would submit them.
func formValues(page string) url.Values {
	v := url.Values{}
	for _, m := range inputRe.FindAllStringSubmatch(page, -1) {
		attrs := map[string]string{}
		for _, a := range attrRe.FindAllStringSubmatch(m[1], -1) {
			attrs[a[1]] = html.UnescapeString(a[2])
		}
		name := attrs["name"]
		if name == "" || name == "op" {
			continue
		}
		if attrs["type"] == "checkbox" {
			if regexp.MustCompile(`\schecked`).MatchString(m[1]) {
				v.Set(name, attrs["value"])
			}
			continue
		}
		v.Set(name, attrs["value"])
	}
	for _, m := range textareaRe.FindAllStringSubmatch(page, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	for _, m := range selectRe.FindAllStringSubmatch(page, -1) {
		if s := selectedRe.FindStringSubmatch(m[2]); s != nil {
			v.Set(m[1], html.UnescapeString(s[1]))
		} else {
			v.Set(m[1], "")
		}
	}
	return v
}

// The editor shows every field of a full configuration (the demo site's:
// four categories, ten items, Consent Mode, the controller) and saving the
// form unchanged gives back exactly that configuration.
func TestEditorRoundTripsEveryField(t *testing.T) {
	editorRoundTrip(t, func(*siteconfig.Config) {})
}

// consent.reload_on_withdraw set to false through the API stays false when
// the editor's form is saved (it has a control of its own).
func TestEditorKeepsReloadOnWithdrawOff(t *testing.T) {
	off := false
	editorRoundTrip(t, func(c *siteconfig.Config) { c.Consent.ReloadOnWithdraw = &off })
}

func editorRoundTrip(t *testing.T, change func(*siteconfig.Config)) {
	t.Helper()
	app, m := handlerApp(t, "http://consent.example")
	ctx := context.Background()
	by := manage.Principal{Email: adminEmail}
	_, cfg := newShop(t, m)
	change(cfg)
	want, err := cfg.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.SaveDraft(ctx, by, "shop", want); err != nil {
		t.Fatal(err)
	}
	j := jar{}
	j.login(t, app, adminEmail, adminPassword)
	res := j.req(t, app, "GET", "/admin/sites/shop/edit", nil, nil)
	page, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("editor: %d %s", res.StatusCode, page)
	}
	form := formValues(string(page))
	form.Set("op", "save")
	if res := j.req(t, app, "POST", "/admin/sites/shop/edit", form, nil); res.StatusCode != http.StatusSeeOther {
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		t.Fatalf("save: %d %s", res.StatusCode, b)
	}
	d, err := m.Draft(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if !d.Valid {
		t.Errorf("the saved form is invalid: %+v", d.Problems)
	}
	for _, c := range manage.Diff(want, d.Config) {
		t.Errorf("%s: %q became %q", c.Path, c.Old, c.New)
	}
	if string(want) != string(d.Config) {
		t.Errorf("the saved draft differs from the configuration shown:\n%s\n%s", want, d.Config)
	}
}

// newShop creates the site "shop" as the admin and returns the demo's
// configuration, raw and parsed, for the test to save or change.
func newShop(t *testing.T, m *manage.Manager) ([]byte, *siteconfig.Config) {
	t.Helper()
	if _, err := m.CreateSite(context.Background(), manage.Principal{Email: adminEmail}, "shop", "Shop", nil); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("../demo/site.json")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := siteconfig.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return raw, cfg
}
