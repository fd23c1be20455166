// Package banner turns banner-js into the script a site embeds: it compiles
// the TypeScript once at start with esbuild (no npm at build or run time),
// then, per published version, inlines that version's configuration and
// precompresses the result with gzip and brotli. A request only picks bytes.
package banner

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/evanw/esbuild/pkg/api"
	"golang.org/x/sync/singleflight"

	bannerjs "github.com/samtycke/samtycke/banner-js"
	"github.com/samtycke/samtycke/server/internal/cache"
	"github.com/samtycke/samtycke/server/internal/precompressed"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
	"github.com/samtycke/samtycke/server/internal/words"
)

// placeholder is the free identifier in banner-js that stands for the inlined
// configuration; it must appear exactly once in the compiled script.
const placeholder = "__SAMTYCKE_CONFIG__"

// Artifact is one version's script, ready to serve.
type Artifact = precompressed.Body

// Builder holds the compiled script and the artifacts made from it.
type Builder struct {
	code       string // compiled banner with the placeholder
	publicBase string // e.g. https://consent.example.se
	styles     *Artifact
	stylesVer  string // names the content of styles, in its URL (?v=)

	mu        sync.Mutex
	artifacts map[artifactKey]*Artifact
	flight    singleflight.Group
}

type artifactKey struct {
	site    string
	n       uint32
	details string // "": the script; else the language of the details
}

const maxArtifacts = 2048

// New compiles banner-js. publicBase is where this server is reached by
// visitors' browsers; the banner posts consents there.
func New(publicBase string) (*Builder, error) {
	code, err := Compile(bannerjs.Files)
	if err != nil {
		return nil, err
	}
	css, err := CompileStyles(bannerjs.Files)
	if err != nil {
		return nil, err
	}
	styles, err := precompressed.New(css)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(css)
	return &Builder{code: code, publicBase: strings.TrimRight(publicBase, "/"), styles: styles,
		stylesVer: hex.EncodeToString(sum[:6]), artifacts: map[artifactKey]*Artifact{}}, nil
}

// StylesPath is where the second layer's stylesheet is served; the banner
// asks for it with ?v= naming its content, so that it can be cached for good.
const StylesPath = "/b/settings.css"

// Styles is the second layer's stylesheet, which it loads on its first open.
func (b *Builder) Styles() *Artifact { return b.styles }

// StylesVersion names the content of Styles: the ?v= its URL carries.
func (b *Builder) StylesVersion() string { return b.stylesVer }

// CompileStyles minifies src/settings.css from fsys.
func CompileStyles(fsys fs.FS) ([]byte, error) {
	src, err := fs.ReadFile(fsys, "src/settings.css")
	if err != nil {
		return nil, fmt.Errorf("banner: %w", err)
	}
	res := api.Transform(string(src), api.TransformOptions{Loader: api.LoaderCSS, MinifyWhitespace: true, MinifySyntax: true,
		LegalComments: api.LegalCommentsNone, Charset: api.CharsetUTF8})
	if len(res.Errors) > 0 {
		msgs := api.FormatMessages(res.Errors, api.FormatMessagesOptions{Kind: api.ErrorMessage})
		return nil, fmt.Errorf("banner: esbuild: %s", strings.Join(msgs, "\n"))
	}
	return res.Code, nil
}

// Compile bundles and minifies src/main.ts from fsys.
func Compile(fsys fs.FS) (string, error) {
	res := api.Build(api.BuildOptions{
		EntryPoints:       []string{"src/main.ts"},
		Bundle:            true,
		Write:             false,
		Format:            api.FormatIIFE,
		Target:            api.ES2019,
		MinifyWhitespace:  true,
		MinifyIdentifiers: true,
		MinifySyntax:      true,
		MangleProps:       "^_", // internals start with _ and are renamed
		LegalComments:     api.LegalCommentsNone,
		Charset:           api.CharsetUTF8,
		Plugins:           []api.Plugin{embedPlugin(fsys)},
	})
	if len(res.Errors) > 0 {
		msgs := api.FormatMessages(res.Errors, api.FormatMessagesOptions{Kind: api.ErrorMessage})
		return "", fmt.Errorf("banner: esbuild: %s", strings.Join(msgs, "\n"))
	}
	if len(res.OutputFiles) != 1 {
		return "", fmt.Errorf("banner: esbuild produced %d files, want 1", len(res.OutputFiles))
	}
	code := string(res.OutputFiles[0].Contents)
	if c := strings.Count(code, placeholder); c != 1 {
		return "", fmt.Errorf("banner: compiled script has %d occurrences of %s, want exactly 1", c, placeholder)
	}
	return code, nil
}

// embedPlugin lets esbuild read banner-js from the binary's embedded files.
func embedPlugin(fsys fs.FS) api.Plugin {
	return api.Plugin{Name: "embed", Setup: func(b api.PluginBuild) {
		b.OnResolve(api.OnResolveOptions{Filter: `.*`}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
			p := a.Path
			if a.Importer != "" {
				p = path.Join(path.Dir(a.Importer), a.Path)
			}
			for _, cand := range []string{p, p + ".ts", p + "/index.ts"} {
				if st, err := fs.Stat(fsys, cand); err == nil && !st.IsDir() {
					return api.OnResolveResult{Path: cand, Namespace: "embed"}, nil
				}
			}
			return api.OnResolveResult{}, fmt.Errorf("cannot resolve %q from %q", a.Path, a.Importer)
		})
		b.OnLoad(api.OnLoadOptions{Filter: `.*`, Namespace: "embed"}, func(a api.OnLoadArgs) (api.OnLoadResult, error) {
			src, err := fs.ReadFile(fsys, a.Path)
			if err != nil {
				return api.OnLoadResult{}, err
			}
			s := string(src)
			return api.OnLoadResult{Contents: &s, Loader: api.LoaderTS}, nil
		})
	}}
}

// Public is the part of a configuration the banner needs, plus where to post
// and link. Owner-only data (allowed origins, controller, retention) stays out.
// Items are reduced to what withdrawal erases; the second layer loads their
// descriptions lazily from Details (the Details URL).
type Public struct {
	Site    string `json:"site"`
	Version uint32 `json:"version"`
	// Fingerprint of the consent-relevant content: the banner asks again
	// only when it differs from the one stored with the visitor's choice.
	Fingerprint     string                  `json:"fingerprint"`
	Endpoint        string                  `json:"endpoint"`
	Notice          string                  `json:"notice"`
	Details         string                  `json:"details"`
	Styles          string                  `json:"styles"`
	DefaultLanguage string                  `json:"default_language"`
	Languages       []string                `json:"languages"`
	Consent         publicConsent           `json:"consent"`
	Categories      []Category              `json:"categories"`
	Items           []Erasable              `json:"items"`
	Texts           map[string]Texts        `json:"texts"`
	Appearance      siteconfig.Appearance   `json:"appearance"`
	ConsentMode     *siteconfig.ConsentMode `json:"consent_mode,omitempty"`
}

// Texts are a language's texts as the script reads them: the site's own
// (siteconfig.Texts) followed by the banner's words for its controls in that
// language (banner-js/lang), so that only the site's languages travel.
type Texts struct {
	Site  siteconfig.Texts
	Words map[string]string
}

// MarshalJSON writes one flat object, the site's texts first, then the words
// by key.
func (t Texts) MarshalJSON() ([]byte, error) {
	site, err := json.Marshal(t.Site)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(t.Words))
	for k := range t.Words {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := site[:len(site)-1]
	for _, k := range keys {
		kv, err := json.Marshal(map[string]string{k: t.Words[k]})
		if err != nil {
			return nil, err
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(out, kv[1:len(kv)-1]...)
	}
	return append(out, '}'), nil
}

// withWords pairs each language's texts with the banner's words in it.
func withWords(texts map[string]siteconfig.Texts) map[string]Texts {
	out := make(map[string]Texts, len(texts))
	for l, t := range texts {
		out[l] = Texts{t, words.Or(l).Banner}
	}
	return out
}

// Category is a category as the first load needs it: its id and title.
type Category struct {
	ID    string               `json:"id"`
	Title siteconfig.Localized `json:"title"`
}

// Erasable is an item the banner deletes when its category is withdrawn: a
// first-party cookie or storage key of an optional category.
type Erasable struct {
	Name     string `json:"name"`
	Pattern  string `json:"pattern,omitempty"`
	Type     string `json:"type"`
	Category string `json:"category"`
}

// erasable lists the items a script on the site's own pages can delete.
func erasable(items []siteconfig.Item) []Erasable {
	out := []Erasable{}
	for _, it := range items {
		if it.Category != siteconfig.NecessaryID && it.Party == "first" && it.Type != "pixel" {
			out = append(out, Erasable{it.Name, it.Pattern, it.Type, it.Category})
		}
	}
	return out
}

type publicConsent struct {
	LifetimeDays int    `json:"lifetime_days"`
	CookieDomain string `json:"cookie_domain,omitempty"`
	// ReloadOnWithdraw is sent only when off (false), the default costing nothing.
	ReloadOnWithdraw *bool `json:"reload_on_withdraw,omitempty"`
}

// PublicConfig projects a version to what is inlined into its banner.
func (b *Builder) PublicConfig(v *siteconfig.Version) Public {
	c := v.Config
	return Public{
		Site: v.Site, Version: v.Number, Fingerprint: c.Fingerprint(),
		Endpoint:        b.publicBase + "/v1/consents",
		Notice:          b.publicBase + "/s/" + v.Site + "/cookies",
		Details:         b.publicBase + DetailsPath(v.Site, v.Number),
		Styles:          b.publicBase + StylesPath + "?v=" + b.stylesVer,
		DefaultLanguage: c.DefaultLanguage, Languages: c.Languages,
		Consent:    publicConsent{c.Consent.LifetimeDays, c.Consent.CookieDomain, reloadOff(c.Consent)},
		Categories: titles(c.Categories), Items: erasable(c.Items), Texts: withWords(c.Texts),
		Appearance: c.Appearance, ConsentMode: c.ConsentMode,
	}
}

// reloadOff is false when the site turned the reload on withdrawal off, else nil.
func reloadOff(c siteconfig.Consent) *bool {
	if c.ReloadsOnWithdraw() {
		return nil
	}
	off := false
	return &off
}

// titles keeps the ids and titles of the categories; the second layer loads
// their descriptions and the justification with the details.
func titles(cats []siteconfig.Category) []Category {
	out := make([]Category, len(cats))
	for i, c := range cats {
		out[i] = Category{c.ID, c.Title}
	}
	return out
}

// DetailsPath is where a version's item details are served.
func DetailsPath(site string, n uint32) string {
	return fmt.Sprintf("/b/%s/%d/details.json", site, n)
}

// For returns the artifact of a version, building it on first use.
func (b *Builder) For(v *siteconfig.Version) (*Artifact, error) {
	return b.build(artifactKey{v.Site, v.Number, ""}, func() ([]byte, error) {
		// encoding/json escapes <, >, &, U+2028 and U+2029, so the object is a
		// safe JavaScript literal.
		cfg, err := json.Marshal(b.PublicConfig(v))
		if err != nil {
			return nil, fmt.Errorf("banner: %w", err)
		}
		return []byte(strings.Replace(b.code, placeholder, string(cfg), 1)), nil
	})
}

// build returns the artifact under k, making it with make on first use.
// Concurrent first requests for one artifact (a publish under load) build
// and compress it once.
func (b *Builder) build(k artifactKey, make func() ([]byte, error)) (*Artifact, error) {
	b.mu.Lock()
	a := b.artifacts[k]
	b.mu.Unlock()
	if a != nil {
		return a, nil
	}
	res, err, _ := b.flight.Do(fmt.Sprintf("%s/%d/%s", k.site, k.n, k.details), func() (any, error) {
		raw, err := make()
		if err != nil {
			return nil, err
		}
		return b.keep(k, raw)
	})
	if err != nil {
		return nil, err
	}
	return res.(*Artifact), nil
}

func (b *Builder) keep(k artifactKey, raw []byte) (*Artifact, error) {
	a, err := precompressed.New(raw)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	cache.MakeRoom(b.artifacts, maxArtifacts)
	b.artifacts[k] = a
	b.mu.Unlock()
	return a, nil
}
