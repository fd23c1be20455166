package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/samtycke/samtycke/server/internal/banner"
	"github.com/samtycke/samtycke/server/internal/cache"
	"github.com/samtycke/samtycke/server/internal/cache/redis"
	"github.com/samtycke/samtycke/server/internal/config"
	"github.com/samtycke/samtycke/server/internal/demo"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
	"github.com/samtycke/samtycke/server/internal/store/clickhouse"
	"github.com/samtycke/samtycke/server/internal/web"
)

func runServe(ctx context.Context, env *environment, args []string) error {
	fs := newFlags(env, "serve", "Serves banners, records consents and (with SAMTYCKE_DEMO=on) the demo site.\nStops gracefully on SIGINT or SIGTERM.")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	cfg, err := config.Load(env.getenv)
	if err != nil {
		return err
	}
	log := newLogger(env, cfg)
	log.Info("starting", "version", version, "config", config.Describe(env.getenv))

	st, err := openClickHouse(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return err
	}

	var kv cache.Cache
	checks := []web.Check{{Name: "clickhouse", Critical: true, Probe: st.Ping}}
	if cfg.RedisEnabled() {
		rc, err := redis.Open(cfg.RedisURL, "samtycke:")
		if err != nil {
			return err
		}
		defer rc.Close()
		if err := rc.Ping(ctx); err != nil {
			log.Warn("redis unreachable at start; serving from process memory until it returns", "err", err)
		}
		kv = rc
		checks = append(checks, web.Check{Name: "redis", Probe: rc.Ping})
	}
	versions := siteconfig.NewProvider(st, kv, 10*time.Second, log)
	b, err := banner.New(cfg.PublicBase())
	if err != nil {
		return err
	}
	if cfg.Demo {
		v, err := demo.Seed(ctx, st, versions, cfg.PublicBase())
		if err != nil {
			return fmt.Errorf("seed demo site: %w", err)
		}
		log.Info("demo site ready", "site", demo.SiteID, "version", v.Number, "page", cfg.PublicBase()+"/demo")
	}
	if cfg.AdminEmail != "" {
		log.Warn("SAMTYCKE_ADMIN_EMAIL is set, but accounts and the dashboard login are not built yet; it is ignored")
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	app, err := web.New(web.Deps{Config: cfg, Log: log, Versions: versions, Banner: b, Sink: st,
		Checks: checks, Registry: reg, Version: version})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	log.Info("listening", "addr", ln.Addr().String(), "public_url", cfg.PublicBase())
	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing requests in flight")
	if err := app.ShutdownWithTimeout(15 * time.Second); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

// openClickHouse retries for a while: in compose or `make run`, ClickHouse may
// still be starting.
func openClickHouse(ctx context.Context, cfg *config.Config, log *slog.Logger) (*clickhouse.Store, error) {
	deadline := time.Now().Add(60 * time.Second)
	wait := 250 * time.Millisecond
	for {
		st, err := clickhouse.Open(ctx, cfg.ClickHouseURL, log)
		if err == nil {
			return st, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, errors.Join(err, ctx.Err())
		}
		log.Warn("clickhouse not reachable yet; retrying", "in", wait, "err", err)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
		}
		wait = min(2*wait, 5*time.Second)
	}
}
