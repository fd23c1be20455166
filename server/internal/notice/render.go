package notice

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"strings"
)

//go:embed templates
var files embed.FS

// Renderer turns documents into bytes. It is safe for concurrent use.
type Renderer struct {
	tmpl     *template.Template
	css      string
	embedCSS string
	js       string
}

// New parses the templates; a broken template fails the start, not a request.
func New() (*Renderer, error) {
	read := func(name string) (string, error) {
		b, err := files.ReadFile("templates/" + name)
		return string(b), err
	}
	r := &Renderer{}
	var err error
	for name, dst := range map[string]*string{"notice.css": &r.css, "embed.css": &r.embedCSS, "notice.js": &r.js} {
		if *dst, err = read(name); err != nil {
			return nil, fmt.Errorf("notice: %w", err)
		}
	}
	r.tmpl, err = template.New("").Funcs(template.FuncMap{"heading": heading, "months": months}).ParseFS(files, "templates/notice.html")
	if err != nil {
		return nil, fmt.Errorf("notice: %w", err)
	}
	for _, name := range []string{"page", "embed", "content"} {
		if r.tmpl.Lookup(name) == nil {
			return nil, fmt.Errorf("notice: template %q is missing", name)
		}
	}
	return r, nil
}

// heading writes <hN id=…>text</hN>, N = level+off: the page starts at h1,
// the embedded declaration one level lower, under the host page's h1.
func heading(off, level int, id, text string) template.HTML {
	n := min(level+off, 6)
	return template.HTML(fmt.Sprintf(`<h%d id="%s">%s</h%d>`, n, template.HTMLEscapeString(id), template.HTMLEscapeString(text), n))
}

// Translation is a link to the same version in another language.
type Translation struct {
	Lang, Name, URL string
	Current         bool
}

type view struct {
	D            *Document
	UI           UI
	H            int
	Embed        bool
	CSS          template.CSS
	JS           template.JS
	Translations []Translation
}

var langNames = map[string]string{"sv": "Svenska", "en": "English"}

func (r *Renderer) view(d *Document, embed bool, base string) view {
	v := view{D: d, UI: text[pick(d.Lang)].UI, Embed: embed, CSS: template.CSS(r.css), JS: template.JS(r.js)}
	if embed {
		v.H = 1
	}
	for _, l := range Languages {
		v.Translations = append(v.Translations, Translation{Lang: l, Name: langNames[l],
			URL: VersionURL(base, d.Site, d.Version, l), Current: l == d.Lang})
	}
	return v
}

// HTML renders the notice page. base is the public URL of Samtycke.
func (r *Renderer) HTML(d *Document, base string) ([]byte, error) {
	var buf bytes.Buffer
	if err := r.tmpl.ExecuteTemplate(&buf, "page", r.view(d, false, base)); err != nil {
		return nil, fmt.Errorf("notice: render %s/%d: %w", d.Site, d.Version, err)
	}
	return buf.Bytes(), nil
}

// JSON renders the document (schemas/cookie-notice.schema.json).
func (r *Renderer) JSON(d *Document) ([]byte, error) {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("notice: %w", err)
	}
	return append(b, '\n'), nil
}

// Embed renders the declaration a site shows in its own page, through the
// banner: {"html": …, "css": …}. The markup has no scripts and no style
// attributes (the banner adopts css as a constructed stylesheet in a shadow
// root); its "change your choice" button carries data-samtycke-open.
func (r *Renderer) Embed(d *Document, base string) ([]byte, error) {
	var buf bytes.Buffer
	if err := r.tmpl.ExecuteTemplate(&buf, "embed", r.view(d, true, base)); err != nil {
		return nil, fmt.Errorf("notice: render embed %s/%d: %w", d.Site, d.Version, err)
	}
	b, err := json.Marshal(struct {
		HTML string `json:"html"`
		CSS  string `json:"css"`
	}{collapse(buf.String()), r.embedCSS})
	if err != nil {
		return nil, fmt.Errorf("notice: %w", err)
	}
	return b, nil
}

// collapse drops the template's blank lines.
func collapse(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// CSP is the Content-Security-Policy of the HTML page: no third-party
// requests, the one inline style and script allowed by hash (a nonce would
// change the bytes of every response, and each version must stay byte-
// identical and cacheable), and the site's banner from Samtycke's own origin.
func (r *Renderer) CSP(publicOrigin string) string {
	return "default-src 'none'; style-src " + hash(r.css) + "; script-src " + hash(r.js) + " " + publicOrigin + "/b/" +
		"; connect-src " + publicOrigin + "; img-src 'self' data:; base-uri 'none'; form-action 'none'"
}

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}
