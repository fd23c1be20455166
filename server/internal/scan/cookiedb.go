package scan

import (
	_ "embed"
	"encoding/csv"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The Open Cookie Database (github.com/jkwakman/Open-Cookie-Database,
// Apache License 2.0), trimmed by ocdtrim; see data/NOTICE. Refresh it with
// .ci/refresh-cookie-db.
//
//go:embed data/open-cookie-database.csv
var cookieDBCSV string

// entry is what is known about a cookie or storage name, or a host: from the
// database or from the built-in table (known.go).
type entry struct {
	name    string         // exact name, or prefix when prefix is set
	prefix  bool           // the database's wildcard: name followed by an instance part
	match   *regexp.Regexp // built-in names: every name it covers (instead of name)
	domains []string       // hosts the entry's cookies live on (and their subdomains)

	platform string // e.g. Google Analytics
	provider string // who to name in a declaration
	category string // necessary, preferences, statistics or marketing
	country  string // ISO code when the data usually leaves the EU/EEA
	en, sv   string // purpose; sv empty for the database's (English only)

	// Built-in entries for instance-named cookies: the declaration's name
	// and pattern.
	declName, pattern string
	retention         time.Duration // the database's stated lifetime; 0 unknown
	builtin           bool
}

// cookieDB indexes the database: exact names, and wildcard prefixes longest
// first.
type cookieDB struct {
	exact    map[string][]*entry
	prefixes []*entry
}

var loadCookieDB = sync.OnceValue(func() *cookieDB {
	db, err := parseCookieDB(cookieDBCSV)
	if err != nil {
		// The file is embedded and tested: a broken one is a build error.
		panic(err)
	}
	return db
})

func parseCookieDB(s string) (*cookieDB, error) {
	r := csv.NewReader(strings.NewReader(s))
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("cookie database: %w", err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	for _, h := range []string{"name", "wildcard", "domains", "platform", "category", "controller", "retention", "description"} {
		if _, ok := col[h]; !ok {
			return nil, fmt.Errorf("cookie database: no column %q", h)
		}
	}
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("cookie database: %w", err)
	}
	db := &cookieDB{exact: map[string][]*entry{}}
	for _, rec := range recs {
		get := func(h string) string { return rec[col[h]] }
		e := &entry{name: get("name"), prefix: get("wildcard") == "1", platform: get("platform"),
			category: ocdCategory(get("category")), retention: parseRetention(get("retention"))}
		if d := get("domains"); d != "" {
			e.domains = strings.Fields(d)
		}
		e.provider = get("controller")
		if e.provider == "" {
			e.provider = e.platform
		}
		e.country = controllerCountry[e.provider]
		if desc := get("description"); desc != "" {
			e.en = e.platform + ": " + desc
		}
		switch {
		case e.prefix && len(e.name) >= 3: // shorter prefixes would claim too many names
			db.prefixes = append(db.prefixes, e)
		case !e.prefix:
			db.exact[e.name] = append(db.exact[e.name], e)
		}
	}
	sort.SliceStable(db.prefixes, func(i, j int) bool { return len(db.prefixes[i].name) > len(db.prefixes[j].name) })
	return db, nil
}

// ocdCategory maps the database's categories to Samtycke's usual ones.
func ocdCategory(c string) string {
	switch strings.ToLower(c) {
	case "functional", "necessary", "security":
		return "necessary"
	case "personalization":
		return "preferences"
	case "analytics":
		return "statistics"
	case "marketing":
		return "marketing"
	}
	return ""
}

var retentionRe = regexp.MustCompile(`(?i)^(\d+)\s*(second|minute|min|hour|day|week|month|year)s?\b`)

// parseRetention reads the database's "2 years", "13 months", "30 minutes".
func parseRetention(s string) time.Duration {
	m := retentionRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0
	}
	n, err := strconv.Atoi(m[1])
	if err != nil {
		return 0
	}
	day := 24 * time.Hour
	unit := map[string]time.Duration{"second": time.Second, "minute": time.Minute, "min": time.Minute, "hour": time.Hour,
		"day": day, "week": 7 * day, "month": 2629800 * time.Second, "year": 31557600 * time.Second}[strings.ToLower(m[2])]
	return time.Duration(n) * unit
}

// controllerCountry: the database names controllers, not where data goes;
// these usually process it in the country named (a hint for the owner).
var controllerCountry = map[string]string{
	"Google": "US", "Microsoft": "US", "Facebook": "US", "Meta": "US", "LinkedIn": "US", "X": "US", "Twitter": "US",
	"Mixpanel": "US", "Amplitude": "US", "HubSpot": "US", "Pinterest": "US", "Adobe": "US", "Salesforce": "US",
	"Yahoo": "US", "Amazon": "US", "TikTok": "CN", "Shopify.com": "CA", "Stripe": "US", "Cloudflare": "US",
	"Vimeo": "US", "Crazy Egg": "US", "Zendesk": "US", "Qualtrics": "US", "Yandex": "RU", "Snapchat": "US",
	"Outbrain": "US", "Taboola": "US", "Segment": "US", "Intercom": "US", "Drift": "US", "Criteo": "FR",
}

// find returns the first exact entry for name that accept takes, else the
// longest wildcard prefix of name that it takes.
func (db *cookieDB) find(name string, accept func(*entry) bool) *entry {
	for _, e := range db.exact[name] {
		if accept(e) {
			return e
		}
	}
	for _, e := range db.prefixes {
		if strings.HasPrefix(name, e.name) && accept(e) {
			return e
		}
	}
	return nil
}

// lookupName finds what is known about a cookie or storage name seen on
// domain. The database's rows name the domain their cookies were seen on,
// which is right for a third party's cookies and often too narrow for
// cookies that trackers set on the site itself (_fbp is listed under
// facebook.com). So, in order: a database row for this domain; the
// built-in table; a row without a domain; a row for another domain, but
// only for names distinctive enough not to be the site's own (token, c).
func lookupName(name, domain string) *entry {
	db := loadCookieDB()
	onDomain := func(e *entry) bool {
		for _, d := range e.domains {
			if domainMatch(domain, d) {
				return true
			}
		}
		return false
	}
	if e := db.find(name, onDomain); e != nil {
		return e
	}
	for i := range builtinNames {
		if builtinNames[i].match.MatchString(name) {
			return &builtinNames[i]
		}
	}
	if e := db.find(name, func(e *entry) bool { return len(e.domains) == 0 }); e != nil {
		return e
	}
	if distinctive(name) {
		return db.find(name, func(*entry) bool { return true })
	}
	return nil
}

// distinctive: long enough and not a plain word.
func distinctive(name string) bool {
	return len(name) >= 4 && strings.ContainsFunc(name, func(r rune) bool {
		return r == '_' || r == '.' || r == '-' || (r >= '0' && r <= '9') || (r >= 'A' && r <= 'Z')
	})
}

// lookupHost finds a well-known host (or a parent of it), or a tracker
// recognised by the path it was asked for (self-hosted Matomo).
func lookupHost(host string, paths []string) *entry {
	for i := range builtinHosts {
		for _, d := range builtinHosts[i].domains {
			if domainMatch(host, d) {
				return &builtinHosts[i]
			}
		}
	}
	for _, p := range paths {
		for i := range builtinPaths {
			if builtinPaths[i].match.MatchString(p) {
				return &builtinPaths[i]
			}
		}
	}
	return nil
}

// domainMatch reports whether host is domain or one of its subdomains.
func domainMatch(host, domain string) bool {
	host = strings.TrimPrefix(strings.ToLower(host), ".")
	domain = strings.TrimPrefix(strings.ToLower(domain), ".")
	return domain != "" && (host == domain || strings.HasSuffix(host, "."+domain))
}
