// Package config reads Samtycke's settings from SAMTYCKE_* environment
// variables. Every setting is listed once, in options, with its default and
// its parser; Load fails with an error that names the bad variable.
package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/samtycke/samtycke/server/internal/mail"
)

// Config is the parsed configuration. It is passed explicitly; there are no
// globals.
type Config struct {
	Listen         string
	PublicURL      *url.URL
	ClickHouseURL  string
	RedisURL       string // "none" disables Redis
	DataDir        string
	AdminEmail     string
	AdminPassword  string
	Demo           bool
	TrustedProxies []netip.Prefix
	LogLevel       string
	// RateLimitPerIP is consent decisions per minute per truncated IP
	// prefix, RateLimitPerSite per second per site; 0 turns a limit off.
	RateLimitPerIP   int
	RateLimitPerSite int
	// SpoolMaxBytes is the disk budget of consents not yet shipped to
	// ClickHouse; past it, ingest answers 503 rather than fill the disk.
	SpoolMaxBytes int64
	// SpoolKeep is how long shipped spool segments are kept: ClickHouse may
	// hold the rows only in its page cache for a while, and after an unclean
	// stop the batches confirmed within it are shipped again.
	SpoolKeep time.Duration
	// MetricsListen is an address of its own for GET /metrics (empty: none);
	// MetricsToken lets /metrics be read on the public listener with
	// Authorization: Bearer TOKEN (empty: /metrics is not on it at all).
	MetricsListen string
	MetricsToken  string
	// SMTPURL is the mail server invitations are sent through (empty: the
	// dashboard shows the link to pass on).
	SMTPURL string
	// NewLogs are evidence logs the operator lets this instance start anew
	// (samtycke serve --new-log), because ClickHouse no longer holds them as
	// this instance signed them. Not an environment setting on purpose: it
	// is a decision for one start, not a standing configuration.
	NewLogs []string
}

// RedisEnabled reports whether a Redis server is configured.
func (c *Config) RedisEnabled() bool { return c.RedisURL != "none" }

// PublicOrigin is scheme://host[:port] of the public URL.
func (c *Config) PublicOrigin() string { return c.PublicURL.Scheme + "://" + c.PublicURL.Host }

// PublicBase is the public URL without a trailing slash, for building links.
func (c *Config) PublicBase() string { return strings.TrimRight(c.PublicURL.String(), "/") }

type option struct {
	key    string
	def    string
	secret bool
	set    func(c *Config, v string) error
}

var options = []option{
	{"SAMTYCKE_LISTEN", "127.0.0.1:8080", false, func(c *Config, v string) error {
		if _, _, err := net.SplitHostPort(v); err != nil {
			return fmt.Errorf("want host:port: %w", err)
		}
		c.Listen = v
		return nil
	}},
	{"SAMTYCKE_PUBLIC_URL", "http://127.0.0.1:8080", false, func(c *Config, v string) error {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("want an absolute http(s) URL without query, like https://consent.example.se")
		}
		c.PublicURL = u
		return nil
	}},
	{"SAMTYCKE_SMTP_URL", "", false, func(c *Config, v string) error {
		if v != "" {
			if _, err := mail.Parse(v); err != nil {
				return fmt.Errorf("want smtp://[user:password@]host[:587]?from=ADDRESS or smtps://…:465: %w", err)
			}
		}
		c.SMTPURL = v
		return nil
	}},
	{"SAMTYCKE_CLICKHOUSE_URL", "clickhouse://127.0.0.1:9000/samtycke", true, func(c *Config, v string) error {
		u, err := url.Parse(v)
		if err != nil || u.Scheme != "clickhouse" || u.Host == "" {
			return fmt.Errorf("want clickhouse://[user[:password]@]host:port/database (the native protocol)")
		}
		c.ClickHouseURL = v
		return nil
	}},
	{"SAMTYCKE_REDIS_URL", "redis://127.0.0.1:6379/0", true, func(c *Config, v string) error {
		if v != "none" {
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
				return fmt.Errorf("want redis://host:port/db, rediss://… or none")
			}
		}
		c.RedisURL = v
		return nil
	}},
	{"SAMTYCKE_DATA_DIR", ".data/samtycke", false, func(c *Config, v string) error {
		if v == "" {
			return fmt.Errorf("must not be empty")
		}
		c.DataDir = v
		return nil
	}},
	{"SAMTYCKE_ADMIN_EMAIL", "", false, func(c *Config, v string) error {
		if v != "" && !strings.Contains(v, "@") {
			return fmt.Errorf("want an email address")
		}
		c.AdminEmail = v
		return nil
	}},
	{"SAMTYCKE_ADMIN_PASSWORD", "", true, func(c *Config, v string) error { c.AdminPassword = v; return nil }},
	{"SAMTYCKE_DEMO", "off", false, func(c *Config, v string) error {
		switch v {
		case "on":
			c.Demo = true
		case "off":
			c.Demo = false
		default:
			return fmt.Errorf("want on or off")
		}
		return nil
	}},
	// Only requests from these proxies may set the client address through
	// X-Forwarded-For; anything else could forge it.
	{"SAMTYCKE_TRUSTED_PROXIES", "", false, func(c *Config, v string) error {
		c.TrustedProxies = nil
		for _, s := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				a, err2 := netip.ParseAddr(s)
				if err2 != nil {
					return fmt.Errorf("%q is neither an address nor a CIDR prefix", s)
				}
				p = netip.PrefixFrom(a, a.BitLen())
			}
			c.TrustedProxies = append(c.TrustedProxies, p)
		}
		return nil
	}},
	{"SAMTYCKE_LOG_LEVEL", "info", false, func(c *Config, v string) error {
		switch v {
		case "debug", "info", "warn", "error":
			c.LogLevel = v
			return nil
		}
		return fmt.Errorf("want debug, info, warn or error")
	}},
	{"SAMTYCKE_RATELIMIT_PER_IP", "120", false, func(c *Config, v string) (err error) {
		c.RateLimitPerIP, err = count(v, "decisions per minute per IP prefix")
		return err
	}},
	{"SAMTYCKE_RATELIMIT_PER_SITE", "2000", false, func(c *Config, v string) (err error) {
		c.RateLimitPerSite, err = count(v, "decisions per second per site")
		return err
	}},
	{"SAMTYCKE_SPOOL_MAX_MB", "1024", false, func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fmt.Errorf("want a size in MiB, at least 1")
		}
		c.SpoolMaxBytes = int64(n) << 20
		return nil
	}},
	{"SAMTYCKE_SPOOL_KEEP", "10m", false, func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return fmt.Errorf("want a duration such as 10m (longer than the kernel's dirty writeback, 30 s by default), or 0 to keep nothing")
		}
		c.SpoolKeep = d
		return nil
	}},
	{"SAMTYCKE_METRICS_LISTEN", "", false, func(c *Config, v string) error {
		if v != "" {
			if _, _, err := net.SplitHostPort(v); err != nil {
				return fmt.Errorf("want host:port, such as 127.0.0.1:9464: %w", err)
			}
		}
		c.MetricsListen = v
		return nil
	}},
	{"SAMTYCKE_METRICS_TOKEN", "", true, func(c *Config, v string) error {
		if v != "" && len(v) < 16 {
			return fmt.Errorf("want at least 16 characters")
		}
		c.MetricsToken = v
		return nil
	}},
}

// count parses a limit: a whole number, 0 for off.
func count(v, what string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("want a whole number of %s, or 0 for no limit", what)
	}
	return n, nil
}

// Load parses the configuration from getenv (os.Getenv in production).
func Load(getenv func(string) string) (*Config, error) {
	c := &Config{}
	for _, o := range options {
		v := strings.TrimSpace(getenv(o.key))
		if v == "" {
			v = o.def
		}
		if err := o.set(c, v); err != nil {
			return nil, fmt.Errorf("config: %s: %w", o.key, err)
		}
	}
	return c, nil
}

// Describe lists every setting with its current value, secrets masked, for
// logs and --help.
func Describe(getenv func(string) string) []string {
	out := make([]string, 0, len(options))
	for _, o := range options {
		v := getenv(o.key)
		switch {
		case v == "":
			v = o.def + " (default)"
		case o.secret:
			v = mask(v)
		}
		out = append(out, o.key+"="+v)
	}
	sort.Strings(out)
	return out
}

// mask hides passwords inside URLs and whole secret values otherwise.
func mask(v string) string {
	if u, err := url.Parse(v); err == nil && u.Host != "" {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
		return u.String()
	}
	return "xxxxx"
}
