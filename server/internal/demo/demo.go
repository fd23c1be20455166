// Package demo seeds the fixed demo site that `make run`, the tests and the
// benchmarks rely on (id demo, four categories, sv and en), and carries the
// page at /demo that embeds its banner.
package demo

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/samtycke/samtycke/server/internal/siteconfig"
	"github.com/samtycke/samtycke/server/internal/store/clickhouse"
)

// SiteID is the demo site's id.
const SiteID = "demo"

//go:embed site.json
var siteJSON []byte

// Config returns the demo configuration, with the origin of publicBase and
// its localhost/127.0.0.1 twin added to the allowed origins.
func Config(publicBase string) (*siteconfig.Config, error) {
	var c siteconfig.Config
	if err := json.Unmarshal(siteJSON, &c); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	u, err := url.Parse(publicBase)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	add := func(o string) {
		if !c.AllowsOrigin(o) {
			c.AllowedOrigins = append(c.AllowedOrigins, o)
		}
	}
	add(u.Scheme + "://" + u.Host)
	switch u.Hostname() {
	case "127.0.0.1":
		add(u.Scheme + "://localhost" + portSuffix(u))
	case "localhost":
		add(u.Scheme + "://127.0.0.1" + portSuffix(u))
	}
	return &c, nil
}

func portSuffix(u *url.URL) string {
	if p := u.Port(); p != "" {
		return ":" + p
	}
	return ""
}

// Seed creates the demo site and publishes its first version, unless the
// site already has one: seeding again changes nothing.
func Seed(ctx context.Context, st *clickhouse.Store, versions *siteconfig.Provider, publicBase string) (*siteconfig.Version, error) {
	n, err := st.LatestVersion(ctx, SiteID)
	if err == nil {
		return versions.Get(ctx, SiteID, n)
	}
	if !errors.Is(err, siteconfig.ErrNotFound) {
		return nil, err
	}
	cfg, err := Config(publicBase)
	if err != nil {
		return nil, err
	}
	if err := st.PutSite(ctx, clickhouse.Site{ID: SiteID, Name: cfg.Name, CreatedAt: time.Now()}); err != nil {
		return nil, err
	}
	v, _, err := versions.Publish(ctx, SiteID, cfg, "seed", "demo site")
	return v, err
}
