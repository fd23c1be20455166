// Package scan checks a site against its published configuration: it drives
// headless Chromium (Debian's chromium, through chromedp) over the site's
// pages twice, once before any consent and once after Accept all, and
// reports what the site really stores and whom it contacts: undeclared items
// (with a suggested declaration), items present before consent that are not
// necessary (a violation of 9 kap. 28 § LEK), and declared items never seen.
//
// Safety: pages are visited only on the site's allowed origins, and every
// connection the browser makes goes through an in-process proxy that dials
// only public addresses (unless AllowPrivate), checked after DNS resolution
// on the address actually used, so redirects and rebinding cannot lead the
// browser into the scanner's own network. Pages, time and bytes are bounded.
package scan

import (
	"context"
	"net/netip"
	"time"

	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

// Finding kinds.
const (
	Undeclared = "undeclared"  // seen, but no declaration matches it
	PreConsent = "pre-consent" // present before any consent, and not declared necessary
	Unseen     = "unseen"      // declared, never seen
)

// Pass names.
const (
	Before = "before_consent"
	After  = "after_accept_all"
)

// Options configure one scan.
type Options struct {
	Version   *siteconfig.Version // the site's published configuration
	StartURLs []string
	MaxPages  int           // per pass; pages are the start URLs and same-origin links found
	Timeout   time.Duration // the whole scan
	MaxBytes  int64         // everything the browser downloads, both passes
	// AllowPrivate lets the browser reach loopback, private and link-local
	// addresses: for a test site on this machine, never for a public one.
	AllowPrivate bool
	// SamtyckeOrigin is the origin of the Samtycke server that serves the
	// banner: not counted as a third party, and the banner's consent POST
	// to it is answered by the scanner, so a scan never enters the log.
	// Empty: the origin the banner's script (/b/SITE.js) comes from, and
	// every POST to /v1/consents is answered by the scanner.
	SamtyckeOrigin string
	Chromium       string // path; default /usr/bin/chromium
	// Lang is the report's language, sv or en (default en): its text and
	// the names it gives. Suggested purposes come in every configured
	// language all the same.
	Lang string
	// Lookup, when set, resolves host names instead of DNS (tests: a site
	// and its trackers on fixed names, all on this machine).
	Lookup   func(ctx context.Context, host string) ([]netip.Addr, error)
	Progress func(p Progress) // optional, called after each page
	// OnBrowser, when set, gets the browser's process id once it runs (the
	// benchmark watches its memory).
	OnBrowser func(pid int)
}

// Progress is reported after each page.
type Progress struct {
	Pass  string
	Page  int
	Pages int // known so far
	URL   string
}

// Report is the result of a scan; it is stored in ClickHouse and printed.
type Report struct {
	ID            string       `json:"id"`
	Site          string       `json:"site"`
	ConfigVersion uint32       `json:"config_version"`
	ConfigHash    string       `json:"config_hash"`
	StartedAt     time.Time    `json:"started_at"`
	DurationMS    int64        `json:"duration_ms"`
	Lang          string       `json:"lang"`
	StartURLs     []string     `json:"start_urls"`
	BannerFound   bool         `json:"banner_found"`
	Pages         []Page       `json:"pages"`
	Items         []Observed   `json:"items"`
	Unseen        []Declared   `json:"unseen"`
	ThirdParties  []ThirdParty `json:"third_parties"`
	Refused       []Refusal    `json:"refused"`
	// Skipped are links not visited because they are not HTML pages
	// (images, PDFs, media); the reason is the link's extension (".jpg",
	// never requested) or the Content-Type it was answered with.
	Skipped []Refusal `json:"skipped"`
	// Suggestions are the undeclared items' and hosts' draft declarations,
	// each once, ready to be checked and added to the configuration.
	Suggestions []siteconfig.Item `json:"suggestions"`
	Limits      []string          `json:"limits_reached"`
	Bytes       int64             `json:"bytes"`
	Counts      map[string]int    `json:"counts"`
}

// Page is one page visit.
type Page struct {
	Pass   string `json:"pass"`
	URL    string `json:"url"`
	Status int    `json:"status,omitempty"`
	Error  string `json:"error,omitempty"`
}

// Observed is one cookie or storage item as seen, and how it is classified.
type Observed struct {
	Type          string     `json:"type"` // cookie, local_storage, session_storage, indexeddb
	Name          string     `json:"name"`
	Domain        string     `json:"domain"`
	Path          string     `json:"path,omitempty"`
	Expires       *time.Time `json:"expires,omitempty"` // nil: session (cookies) or no expiry (storage)
	Secure        bool       `json:"secure,omitempty"`
	HTTPOnly      bool       `json:"http_only,omitempty"`
	SameSite      string     `json:"same_site,omitempty"`
	Party         string     `json:"party"`
	BeforeConsent bool       `json:"before_consent"`
	AfterConsent  bool       `json:"after_consent"`
	FirstPage     string     `json:"first_page"`
	// Declared is the matching declaration's name and category.
	Declared *Declared `json:"declared,omitempty"`
	Findings []string  `json:"findings,omitempty"`
	// Suggestion is a declaration to start from, for an undeclared item.
	Suggestion *siteconfig.Item `json:"suggestion,omitempty"`

	seenAt time.Time // first collected: a cookie's lifetime is measured from here
}

// Declared names a configured item.
type Declared struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Category string `json:"category"`
	Domain   string `json:"domain,omitempty"`
}

// ThirdParty is a host other than the site's and Samtycke's that pages
// requested. Any request to one before consent is a pre-consent finding
// unless the host is declared necessary: the request alone hands the
// visitor's address and the page to it.
type ThirdParty struct {
	Host          string   `json:"host"`
	Requests      int      `json:"requests"`
	Example       string   `json:"example"`
	BeforeConsent bool     `json:"before_consent"`
	AfterConsent  bool     `json:"after_consent"`
	Provider      string   `json:"provider,omitempty"`
	Category      string   `json:"category,omitempty"`
	Declared      bool     `json:"declared"`
	Findings      []string `json:"findings,omitempty"`
	// Suggestion is a declaration to start from, for an undeclared host.
	Suggestion *siteconfig.Item `json:"suggestion,omitempty"`

	paths []string // a few paths asked for: self-hosted trackers are known by them
}

// Refusal is a URL the scanner would not load, and why.
type Refusal struct {
	URL    string `json:"url"`
	Reason string `json:"reason"`
}

// Failed reports whether the report has findings of any of kinds.
func (r *Report) Failed(kinds []string) bool {
	for _, k := range kinds {
		if r.Counts[k] > 0 {
			return true
		}
	}
	return false
}
