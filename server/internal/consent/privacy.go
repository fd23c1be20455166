package consent

import (
	"errors"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// TruncateIP keeps the network part of an address: /24 of IPv4, /48 of IPv6.
// That is enough to spot abuse from one network and too little to single out
// a household.
func TruncateIP(ip netip.Addr) string {
	if !ip.IsValid() {
		return ""
	}
	ip = ip.Unmap()
	bits := 48
	if ip.Is4() {
		bits = 24
	}
	p, _ := ip.WithZone("").Prefix(bits)
	return p.String()
}

const maxURLBytes = 2048

// StripURL reduces a page URL to its origin and path: query strings and
// fragments often carry personal data (emails, tokens, search terms).
func StripURL(raw string) (origin, path string, err error) {
	if len(raw) > maxURLBytes {
		return "", "", errors.New("is longer than 2048 bytes")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return "", "", errors.New("must be an absolute http(s) URL")
	}
	path = u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return u.Scheme + "://" + strings.ToLower(u.Host), path, nil
}

// UserAgent is a user agent reduced to what statistics need: browser family
// and major version, OS family, device class.
type UserAgent struct {
	Browser string // e.g. "Firefox 133"
	OS      string // Windows, macOS, iOS, Android, ChromeOS, Linux, Other
	Device  string // desktop, mobile, tablet, bot
}

// CoarseUA reduces a User-Agent header. It never keeps build numbers or
// device models, which would help fingerprinting.
func CoarseUA(ua string) UserAgent {
	var r UserAgent
	lower := strings.ToLower(ua)
	switch {
	case ua == "":
		r.Browser = "Unknown"
	case containsAny(lower, "bot", "crawler", "spider", "slurp", "curl/", "wget/", "python-", "go-http-client"):
		r.Browser, r.Device = "Bot", "bot"
	default:
		for _, b := range browsers {
			if v, ok := versionAfter(ua, b.token); ok {
				r.Browser = b.name + " " + v
				break
			}
		}
		if r.Browser == "" {
			r.Browser = "Other"
		}
	}
	switch {
	case containsAny(ua, "iPhone", "iPad", "iPod"):
		r.OS = "iOS"
	case strings.Contains(ua, "Android"):
		r.OS = "Android"
	case strings.Contains(ua, "Windows"):
		r.OS = "Windows"
	case strings.Contains(ua, "CrOS"):
		r.OS = "ChromeOS"
	case containsAny(ua, "Macintosh", "Mac OS X"):
		r.OS = "macOS"
	case strings.Contains(ua, "Linux"):
		r.OS = "Linux"
	default:
		r.OS = "Other"
	}
	switch {
	case r.Device != "":
	case strings.Contains(ua, "iPad") || strings.Contains(lower, "tablet") || (r.OS == "Android" && !strings.Contains(ua, "Mobile")):
		r.Device = "tablet"
	case containsAny(ua, "Mobi", "iPhone", "iPod"):
		r.Device = "mobile"
	default:
		r.Device = "desktop"
	}
	return r
}

// browsers is checked in order: many user agents name several engines
// (Edge says Chrome and Safari too), so the most specific token comes first.
var browsers = []struct{ token, name string }{
	{"Edg/", "Edge"}, {"EdgA/", "Edge"}, {"EdgiOS/", "Edge"},
	{"OPR/", "Opera"}, {"SamsungBrowser/", "Samsung Internet"},
	{"Firefox/", "Firefox"}, {"FxiOS/", "Firefox"},
	{"CriOS/", "Chrome"}, {"HeadlessChrome/", "Chrome Headless"}, {"Chrome/", "Chrome"},
	{"Version/", "Safari"},
}

func versionAfter(ua, token string) (string, bool) {
	i := strings.Index(ua, token)
	if i < 0 {
		return "", false
	}
	rest := ua[i+len(token):]
	n := 0
	for n < len(rest) && n < 5 && rest[n] >= '0' && rest[n] <= '9' {
		n++
	}
	if n == 0 {
		return "", false
	}
	major, _ := strconv.Atoi(rest[:n])
	return strconv.Itoa(major), true
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
