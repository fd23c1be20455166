// Package dashboard embeds the site owners' UI: server-rendered templates,
// parsed once at start so a broken template fails the start, not a request,
// and the static files (CSS, and TypeScript compiled with esbuild's Go API at
// start: no Node at build or run time).
package dashboard

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

//go:embed templates/*.html static
var files embed.FS

// Templates parses every template into one set (the placeholder admin page).
func Templates() (*template.Template, error) {
	return template.ParseFS(files, "templates/admin.html")
}

// Pages parses each page template (templates/page_*.html) together with the
// layout and partials (templates/_*.html), one set per page, keyed by the
// page's name without prefix and extension ("sites", "editor", …).
func Pages(funcs template.FuncMap) (map[string]*template.Template, error) {
	pages, err := fs.Glob(files, "templates/page_*.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, p := range pages {
		name := strings.TrimSuffix(strings.TrimPrefix(path.Base(p), "page_"), ".html")
		t, err := template.New(name).Funcs(funcs).ParseFS(files, "templates/_*.html", p)
		if err != nil {
			return nil, fmt.Errorf("dashboard template %s: %w", p, err)
		}
		out[name] = t
	}
	return out, nil
}

// Asset is one static file, with a content hash for cache busting.
type Asset struct {
	Body        []byte
	ContentType string
	Hash        string
}

// Static returns the CSS and the compiled script, by file name.
func Static() (map[string]Asset, error) {
	out := map[string]Asset{}
	css, err := fs.ReadFile(files, "static/dashboard.css")
	if err != nil {
		return nil, err
	}
	out["dashboard.css"] = newAsset(css, "text/css; charset=utf-8")
	js, err := compile()
	if err != nil {
		return nil, err
	}
	out["dashboard.js"] = newAsset(js, "text/javascript; charset=utf-8")
	for _, name := range []string{"preview.js"} {
		b, err := compileEntry("static/" + strings.TrimSuffix(name, ".js") + ".ts")
		if err != nil {
			return nil, err
		}
		out[name] = newAsset(b, "text/javascript; charset=utf-8")
	}
	return out, nil
}

func newAsset(b []byte, ct string) Asset {
	sum := sha256.Sum256(b)
	return Asset{Body: b, ContentType: ct, Hash: hex.EncodeToString(sum[:6])}
}

func compile() ([]byte, error) { return compileEntry("static/dashboard.ts") }

// compileEntry bundles one TypeScript entry point from the embedded files.
func compileEntry(entry string) ([]byte, error) {
	src, err := fs.ReadFile(files, entry)
	if err != nil {
		return nil, err
	}
	res := api.Transform(string(src), api.TransformOptions{
		Loader: api.LoaderTS, Format: api.FormatIIFE, Target: api.ES2019,
		MinifyWhitespace: true, MinifyIdentifiers: true, MinifySyntax: true,
		Sourcefile: entry,
	})
	if len(res.Errors) > 0 {
		msgs := api.FormatMessages(res.Errors, api.FormatMessagesOptions{Kind: api.ErrorMessage})
		return nil, fmt.Errorf("dashboard: esbuild %s: %s", entry, strings.Join(msgs, "\n"))
	}
	return res.Code, nil
}
