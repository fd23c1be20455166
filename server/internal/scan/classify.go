package scan

import (
	"math"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/network"

	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

// collector gathers what both passes saw. Browser events arrive on several
// goroutines, hence the lock.
type collector struct {
	siteHosts map[string]bool
	samtycke  string // origin of the Samtycke server

	mu       sync.Mutex
	items    map[itemKey]*Observed
	order    []itemKey
	hosts    map[string]*ThirdParty
	refused  []Refusal
	refusedU map[string]bool
	asked    map[string]bool // every host a page requested
}

type itemKey struct{ typ, name, domain string }

func (c *collector) item(pass string, k itemKey, page string) *Observed {
	if c.items == nil {
		c.items = map[itemKey]*Observed{}
	}
	o := c.items[k]
	if o == nil {
		o = &Observed{Type: k.typ, Name: k.name, Domain: k.domain, FirstPage: page, seenAt: time.Now()}
		c.items[k] = o
		c.order = append(c.order, k)
	}
	if pass == Before {
		o.BeforeConsent = true
	} else {
		o.AfterConsent = true
	}
	return o
}

func (c *collector) cookie(pass string, ck *network.Cookie, page string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	o := c.item(pass, itemKey{"cookie", ck.Name, strings.TrimPrefix(strings.ToLower(ck.Domain), ".")}, page)
	o.Path, o.Secure, o.HTTPOnly, o.SameSite = ck.Path, ck.Secure, ck.HTTPOnly, string(ck.SameSite)
	if !ck.Session && ck.Expires > 0 && !math.IsInf(ck.Expires, 0) {
		t := time.Unix(int64(ck.Expires), 0).UTC()
		o.Expires = &t
	}
}

func (c *collector) storage(pass, typ, name, host, page string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.item(pass, itemKey{typ, name, strings.ToLower(host)}, page)
}

func (c *collector) request(pass, raw, page string) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return
	}
	host := strings.ToLower(u.Hostname())
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.asked == nil {
		c.asked = map[string]bool{}
	}
	c.asked[host] = true
	if c.samtycke == "" && bannerPath.MatchString(u.Path) {
		c.samtycke = Origin(u)
	}
	if c.siteHosts[host] || Origin(u) == c.samtycke {
		return
	}
	if c.hosts == nil {
		c.hosts = map[string]*ThirdParty{}
	}
	tp := c.hosts[host]
	if tp == nil {
		ex := u.Scheme + "://" + u.Host + u.Path
		tp = &ThirdParty{Host: host, Example: ex}
		c.hosts[host] = tp
	}
	tp.Requests++
	if len(tp.paths) < 8 && !slices.Contains(tp.paths, u.Path) {
		tp.paths = append(tp.paths, u.Path)
	}
	if pass == Before {
		tp.BeforeConsent = true
	} else {
		tp.AfterConsent = true
	}
}

// bannerPath is the banner's script, /b/SITE.js: when the scan is not told
// which Samtycke server the site uses, the first origin it comes from is.
var bannerPath = regexp.MustCompile(`^/b/[a-z0-9][a-z0-9-]{0,62}\.js$`)

// requested reports whether a page requested raw's host.
func (c *collector) requested(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.asked[strings.ToLower(u.Hostname())]
}

func (c *collector) refuse(u, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.refusedU == nil {
		c.refusedU = map[string]bool{}
	}
	if !c.refusedU[u] {
		c.refusedU[u] = true
		c.refused = append(c.refused, Refusal{URL: u, Reason: reason})
	}
}

// declaredMatch finds the declaration of an observed item. Patterns are
// compiled with the banner's (JavaScript's) meaning.
func declaredMatch(cfg *siteconfig.Config, o *Observed, patterns map[string]*regexp.Regexp) *siteconfig.Item {
	for i := range cfg.Items {
		it := &cfg.Items[i]
		if it.Type != o.Type {
			continue
		}
		ok := it.Name == o.Name
		if !ok && it.Pattern != "" {
			re, seen := patterns[it.Pattern]
			if !seen {
				re, _ = siteconfig.CompilePattern(it.Pattern) // nil: a published pattern from before the check
				patterns[it.Pattern] = re
			}
			ok = re != nil && re.MatchString(o.Name)
		}
		if !ok {
			continue
		}
		if it.Domain != "" && !domainMatch(o.Domain, it.Domain) {
			continue
		}
		return it
	}
	return nil
}

// classify turns what was collected into the report's items, unseen
// declarations, third parties, suggestions and counts.
func classify(rep *Report, cfg *siteconfig.Config, c *collector, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rep.Counts = map[string]int{Undeclared: 0, PreConsent: 0, Unseen: 0}
	sg := newSuggester(cfg)
	patterns := map[string]*regexp.Regexp{}
	seen := map[*siteconfig.Item]bool{}
	suggested := map[string]bool{}
	suggest := func(it *siteconfig.Item) {
		k := it.Type + "\x00" + it.Name + "\x00" + it.Pattern + "\x00" + it.Domain
		if !suggested[k] {
			suggested[k] = true
			rep.Suggestions = append(rep.Suggestions, *it)
		}
	}
	for _, k := range c.order {
		o := *c.items[k]
		o.Party = "first"
		if !c.firstParty(o.Domain) {
			o.Party = "third"
		}
		category := ""
		if it := declaredMatch(cfg, &o, patterns); it != nil {
			seen[it] = true
			o.Declared = &Declared{Name: it.Name, Type: it.Type, Category: it.Category, Domain: it.Domain}
			category = it.Category
		} else {
			o.Findings = append(o.Findings, Undeclared)
			o.Suggestion = sg.item(&o, now)
			suggest(o.Suggestion)
		}
		if o.BeforeConsent && category != siteconfig.NecessaryID {
			o.Findings = append(o.Findings, PreConsent)
		}
		for _, f := range o.Findings {
			rep.Counts[f]++
		}
		rep.Items = append(rep.Items, o)
	}
	hosts := make([]string, 0, len(c.hosts))
	for h := range c.hosts {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	for _, h := range hosts {
		tp := *c.hosts[h]
		necessary := false
		for i := range cfg.Items {
			it := &cfg.Items[i]
			if it.Domain == "" || !domainMatch(h, it.Domain) {
				continue
			}
			if it.Type == "pixel" {
				seen[it] = true
			}
			if !tp.Declared || it.Category == siteconfig.NecessaryID {
				tp.Provider, tp.Category = it.Provider, it.Category
			}
			tp.Declared = true
			necessary = necessary || it.Category == siteconfig.NecessaryID
		}
		if !tp.Declared {
			tp.Suggestion = sg.host(h, tp.paths)
			suggest(tp.Suggestion)
			tp.Category = tp.Suggestion.Category
			if e := lookupHost(h, tp.paths); e != nil {
				tp.Provider = e.platform
			}
		}
		// A request before consent reads the visitor's browser (address,
		// page, often an identifier) all the same, wherever it goes:
		// only a host declared necessary may be asked before consent.
		if tp.BeforeConsent && !necessary {
			tp.Findings = append(tp.Findings, PreConsent)
			rep.Counts[PreConsent]++
		}
		rep.ThirdParties = append(rep.ThirdParties, tp)
	}
	for i := range cfg.Items {
		it := &cfg.Items[i]
		if !seen[it] {
			rep.Unseen = append(rep.Unseen, Declared{Name: it.Name, Type: it.Type, Category: it.Category, Domain: it.Domain})
			rep.Counts[Unseen]++
		}
	}
	for _, p := range []*[]Refusal{&rep.Refused, &rep.Skipped} {
		if *p == nil {
			*p = []Refusal{}
		}
	}
	if rep.Pages == nil {
		rep.Pages = []Page{}
	}
	if rep.Items == nil {
		rep.Items = []Observed{}
	}
	if rep.Unseen == nil {
		rep.Unseen = []Declared{}
	}
	if rep.ThirdParties == nil {
		rep.ThirdParties = []ThirdParty{}
	}
	if rep.Limits == nil {
		rep.Limits = []string{}
	}
	if rep.Suggestions == nil {
		rep.Suggestions = []siteconfig.Item{}
	}
}

func (c *collector) firstParty(domain string) bool {
	for h := range c.siteHosts {
		if domainMatch(h, domain) {
			return true
		}
	}
	return false
}
