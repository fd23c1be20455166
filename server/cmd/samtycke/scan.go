package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/samtycke/samtycke/server/internal/config"
	"github.com/samtycke/samtycke/server/internal/scan"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
	"github.com/samtycke/samtycke/server/internal/store/clickhouse"
)

const scanSummary = `Visits the site's pages in headless Chromium (/usr/bin/chromium, or $SAMTYCKE_CHROMIUM)
twice, before any consent and after Accept all, and compares what they store (cookies,
localStorage, sessionStorage, IndexedDB) and whom they contact with the site's current
published configuration in ClickHouse, or with a configuration file (--config, no
ClickHouse needed: for a site's own CI). It follows same-origin links to HTML pages from
the URLs given (hash routes such as #/cart are pages), visits only the site's allowed
origins, and refuses loopback, private, link-local and metadata addresses (checked on
every connection, after DNS) unless --allow-private. The report is printed and, read
from ClickHouse, stored there for the dashboard. SAMTYCKE_PUBLIC_URL names the Samtycke
server whose banner the pages embed.

Exit status: 0 when the scan ran (and, with --fail-on, found none of those findings);
1 otherwise. Findings: undeclared (seen, not declared), pre-consent (present, or a
third-party host asked, before any consent and not declared necessary), unseen
(declared, never seen).

Usage: samtycke scan --site S [flags] URL...
       samtycke scan --config FILE [--site S] [flags] URL...`

func runScan(ctx context.Context, env *environment, args []string) error {
	fs := flag.NewFlagSet("scan", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.stderr, "%s\n\n", scanSummary)
		fs.PrintDefaults()
	}
	site := fs.String("site", "", "site id (required unless --config)")
	configFile := fs.String("config", "", "scan against this site configuration (JSON, as in schemas/site-config.schema.json) instead of the published one; nothing is read from or stored in ClickHouse")
	lang := fs.String("lang", "en", "language of the report: en or sv")
	maxPages := fs.Int("max-pages", 20, "pages to visit per pass, start URLs included (at most 500)")
	timeout := fs.Duration("timeout", 3*time.Minute, "time limit of the whole scan")
	maxBytes := fs.Int64("max-bytes", 200<<20, "limit on everything the browser downloads")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	failOn := fs.String("fail-on", "", "comma-separated findings that make the exit status 1: undeclared, pre-consent, unseen")
	allowPrivate := fs.Bool("allow-private", false, "allow loopback, private and link-local addresses (a local test site)")

	// Flags may come before or after the URLs.
	var urls []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil
			}
			return errUsage
		}
		if fs.NArg() == 0 {
			break
		}
		urls = append(urls, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	var kinds []string
	for _, k := range strings.Split(*failOn, ",") {
		switch k = strings.TrimSpace(k); k {
		case "":
		case scan.Undeclared, scan.PreConsent, scan.Unseen:
			kinds = append(kinds, k)
		default:
			fmt.Fprintf(env.stderr, "--fail-on: %q is not a finding (undeclared, pre-consent, unseen)\n", k)
			return errUsage
		}
	}
	if (*configFile == "" && !siteconfig.ValidSiteID(*site)) || (*site != "" && !siteconfig.ValidSiteID(*site)) || len(urls) == 0 {
		fmt.Fprintln(env.stderr, "samtycke scan needs --site (or --config) and at least one URL; see samtycke scan --help")
		return errUsage
	}
	if *lang != "en" && *lang != "sv" {
		fmt.Fprintf(env.stderr, "--lang: %q is not a report language (en, sv)\n", *lang)
		return errUsage
	}

	cfg, err := config.Load(env.getenv)
	if err != nil {
		return err
	}
	var v *siteconfig.Version
	var st *clickhouse.Store
	if *configFile != "" {
		if v, err = fileVersion(*configFile, *site); err != nil {
			return err
		}
	} else {
		if st, err = clickhouse.Open(ctx, cfg.ClickHouseURL, newLogger(env, cfg)); err != nil {
			return err
		}
		defer st.Close()
		n, err := st.LatestVersion(ctx, *site)
		if errors.Is(err, siteconfig.ErrNotFound) {
			return fmt.Errorf("site %q has no published configuration", *site)
		}
		if err != nil {
			return err
		}
		if v, err = st.Version(ctx, *site, n); err != nil {
			return err
		}
	}

	// A site's CI may not say which Samtycke server its pages embed: the
	// scanner then takes the origin the banner comes from.
	samtycke := cfg.PublicOrigin()
	if *configFile != "" && env.getenv("SAMTYCKE_PUBLIC_URL") == "" {
		samtycke = ""
	}
	progress := progressPrinter(env)
	rep, err := scan.Run(ctx, scan.Options{Version: v, StartURLs: urls, MaxPages: *maxPages, Timeout: *timeout,
		MaxBytes: *maxBytes, AllowPrivate: *allowPrivate, SamtyckeOrigin: samtycke, Lang: *lang,
		Chromium: env.getenv("SAMTYCKE_CHROMIUM"), Progress: progress.update})
	progress.done()
	if err != nil {
		return err
	}
	if !rep.BannerFound {
		fmt.Fprintf(env.stderr, "samtycke scan: the banner's Accept all was not found on %s: the second pass ran without consent\n", rep.StartURLs[0])
	}
	if st != nil {
		if err := st.SaveScan(ctx, rep); err != nil {
			return err
		}
	}
	if *asJSON {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else if err := scan.WriteText(env.stdout, rep); err != nil {
		return err
	}
	if rep.Failed(kinds) {
		var parts []string
		for _, k := range kinds {
			parts = append(parts, fmt.Sprintf("%d %s", rep.Counts[k], k))
		}
		return fmt.Errorf("scan %s found %s (--fail-on %s)", rep.ID, strings.Join(parts, ", "), *failOn)
	}
	return nil
}

// fileVersion reads a configuration file as an unpublished version: number
// 0, the SHA-256 of its canonical form.
func fileVersion(path, site string) (*siteconfig.Version, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--config: %w", err)
	}
	c, err := siteconfig.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("--config %s: %w", path, err)
	}
	canonical, err := c.Canonical()
	if err != nil {
		return nil, fmt.Errorf("--config %s: %w", path, err)
	}
	return &siteconfig.Version{Site: site, Hash: siteconfig.Hash(canonical), JSON: canonical, Config: c}, nil
}

// progress writes one line per page to stderr, rewritten in place on a
// terminal.
type progress struct {
	env  *environment
	tty  bool
	used bool
}

func progressPrinter(env *environment) *progress {
	p := &progress{env: env}
	if f, ok := env.stderr.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) update(x scan.Progress) {
	line := fmt.Sprintf("scan: %s %d/%d %s", x.Pass, x.Page, x.Pages, x.URL)
	if p.tty {
		fmt.Fprintf(p.env.stderr, "\r\033[K%.120s", line)
	} else {
		fmt.Fprintln(p.env.stderr, line)
	}
	p.used = true
}

func (p *progress) done() {
	if p.tty && p.used {
		fmt.Fprint(p.env.stderr, "\r\033[K")
	}
}
