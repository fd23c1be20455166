package scan

import (
	"fmt"
	"math"
	"net/url"
	"regexp"
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
		o = &Observed{Type: k.typ, Name: k.name, Domain: k.domain, FirstPage: page}
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
	if pass == Before {
		tp.BeforeConsent = true
	} else {
		tp.AfterConsent = true
	}
}

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

// declaredMatch finds the declaration of an observed item.
func declaredMatch(cfg *siteconfig.Config, o *Observed) *siteconfig.Item {
	for i := range cfg.Items {
		it := &cfg.Items[i]
		if it.Type != o.Type {
			continue
		}
		ok := it.Name == o.Name
		if !ok && it.Pattern != "" {
			if re, err := regexp.Compile(it.Pattern); err == nil {
				ok = re.MatchString(o.Name)
			}
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
// declarations, third parties and counts.
func classify(rep *Report, cfg *siteconfig.Config, c *collector, now time.Time, lang string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rep.Counts = map[string]int{Undeclared: 0, PreConsent: 0, Unseen: 0}
	seen := map[*siteconfig.Item]bool{}
	for _, k := range c.order {
		o := *c.items[k]
		o.Party = "first"
		if !c.firstParty(o.Domain) {
			o.Party = "third"
		}
		category := ""
		if it := declaredMatch(cfg, &o); it != nil {
			seen[it] = true
			o.Declared = &Declared{Name: it.Name, Type: it.Type, Category: it.Category, Domain: it.Domain}
			category = it.Category
		} else {
			o.Findings = append(o.Findings, Undeclared)
			o.Suggestion = suggest(&o, now, lang)
		}
		if o.BeforeConsent && category != siteconfig.NecessaryID {
			o.Findings = append(o.Findings, PreConsent)
		}
		for _, f := range o.Findings {
			rep.Counts[f]++
		}
		rep.Items = append(rep.Items, o)
	}
	// Requests to third parties: declared pixels, and well-known trackers.
	hosts := make([]string, 0, len(c.hosts))
	for h := range c.hosts {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	for _, h := range hosts {
		tp := *c.hosts[h]
		category := ""
		for i := range cfg.Items {
			it := &cfg.Items[i]
			if it.Domain != "" && domainMatch(h, it.Domain) {
				if it.Type == "pixel" {
					seen[it] = true
				}
				tp.Declared, tp.Provider, category = true, it.Provider, it.Category
			}
		}
		if k := lookupDomain(h); k != nil && !tp.Declared {
			tp.Provider, category = k.provider, k.category
		}
		tp.Category = category
		// A request before consent to a tracker (declared as such or well
		// known) is storage or reading of information all the same.
		if tp.BeforeConsent && category != "" && category != siteconfig.NecessaryID {
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
	if rep.Refused == nil {
		rep.Refused = []Refusal{}
	}
	if rep.Limits == nil {
		rep.Limits = []string{}
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

// suggest drafts a declaration for an undeclared item: provider and
// category from the table of well-known names and domains, duration from
// the expiry. The purpose must be written by the site owner when unknown.
func suggest(o *Observed, now time.Time, lang string) *siteconfig.Item {
	it := &siteconfig.Item{Name: o.Name, Type: o.Type, Party: o.Party, Provider: "?", Category: "?",
		Duration: duration(o, now)}
	if o.Party == "third" {
		it.Domain = o.Domain
	}
	k := lookupName(o.Name)
	if k == nil && o.Party == "third" {
		k = lookupDomain(o.Domain)
	}
	if k != nil {
		if k.provider != "" {
			it.Provider = k.provider
		}
		it.Category = k.category
		it.Purpose = siteconfig.Localized{"sv": k.sv, "en": k.en}
		if k.country != "" {
			it.ThirdCountry = siteconfig.ThirdCountry{Transfer: true, Countries: []string{k.country}}
		}
	}
	return it
}

// duration is the configuration's form of an item's lifetime.
func duration(o *Observed, now time.Time) string {
	switch o.Type {
	case "local_storage", "indexeddb":
		return "persistent"
	case "session_storage":
		return "session"
	}
	if o.Expires == nil {
		return "session"
	}
	d := o.Expires.Sub(now)
	days := d.Hours() / 24
	switch {
	case d <= 0:
		return "session"
	case days < 1:
		return fmt.Sprintf("PT%dH", max(1, int(math.Round(d.Hours()))))
	case days < 60:
		return fmt.Sprintf("P%dD", int(math.Round(days)))
	}
	// Whole years when the expiry is close to one (cookies are often set
	// for 1 or 2 years), else months.
	if years := math.Round(days / 365.25); years >= 1 && math.Abs(days-years*365.25) <= 5 {
		return fmt.Sprintf("P%dY", int(years))
	}
	return fmt.Sprintf("P%dM", int(math.Round(days/30.44)))
}
