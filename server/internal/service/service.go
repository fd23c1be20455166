// Package service assembles a running Samtycke from its configuration:
// ClickHouse (migrated), Redis or process memory, published versions, the
// banner builder, the demo site and the HTTP app. `samtycke serve` and the
// integration tests use the same assembly.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/gofiber/fiber/v2"
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

// Service is a ready-to-serve Samtycke.
type Service struct {
	Config   *config.Config
	Store    *clickhouse.Store
	Versions *siteconfig.Provider
	App      *fiber.App
	log      *slog.Logger
	closers  []func() error
}

// New connects to the services, migrates the schema and builds the app.
// clickhouseWait bounds how long to wait for ClickHouse to come up.
func New(ctx context.Context, cfg *config.Config, log *slog.Logger, version string, clickhouseWait time.Duration) (*Service, error) {
	s := &Service{Config: cfg, log: log}
	ok := false
	defer func() {
		if !ok {
			s.Close()
		}
	}()

	st, err := openClickHouse(ctx, cfg.ClickHouseURL, log, clickhouseWait)
	if err != nil {
		return nil, err
	}
	s.Store = st
	s.closers = append(s.closers, st.Close)
	if _, err := st.Migrate(ctx); err != nil {
		return nil, err
	}

	var kv cache.Cache
	checks := []web.Check{{Name: "clickhouse", Critical: true, Probe: st.Ping}}
	if cfg.RedisEnabled() {
		// Keys are scoped by database, so deployments (and tests) sharing a
		// Redis never see each other's entries.
		rc, err := redis.Open(cfg.RedisURL, "samtycke:"+st.Database()+":")
		if err != nil {
			return nil, err
		}
		s.closers = append(s.closers, rc.Close)
		if err := rc.Ping(ctx); err != nil {
			log.Warn("redis unreachable at start; serving from process memory until it returns", "err", err)
		}
		kv = rc
		checks = append(checks, web.Check{Name: "redis", Probe: rc.Ping})
	}
	s.Versions = siteconfig.NewProvider(st, kv, 10*time.Second, log)

	b, err := banner.New(cfg.PublicBase())
	if err != nil {
		return nil, err
	}
	if cfg.Demo {
		v, err := demo.Seed(ctx, st, s.Versions, cfg.PublicBase())
		if err != nil {
			return nil, fmt.Errorf("seed demo site: %w", err)
		}
		log.Info("demo site ready", "site", demo.SiteID, "version", v.Number, "page", cfg.PublicBase()+"/demo")
	}
	if cfg.AdminEmail != "" {
		log.Warn("SAMTYCKE_ADMIN_EMAIL is set, but accounts and the dashboard login are not built yet; it is ignored")
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.App, err = web.New(web.Deps{Config: cfg, Log: log, Versions: s.Versions, Banner: b, Sink: st,
		Checks: checks, Registry: reg, Version: version})
	if err != nil {
		return nil, err
	}
	ok = true
	return s, nil
}

// Serve answers requests on ln until ctx ends, then lets requests in flight
// finish (at most 15 s).
func (s *Service) Serve(ctx context.Context, ln net.Listener) error {
	s.log.Info("listening", "addr", ln.Addr().String(), "public_url", s.Config.PublicBase())
	served := make(chan error, 1)
	go func() { served <- s.App.Listener(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down: finishing requests in flight")
	if err := s.App.ShutdownWithTimeout(15 * time.Second); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	s.log.Info("stopped")
	return nil
}

// Close releases connections, newest first.
func (s *Service) Close() error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i]())
	}
	s.closers = nil
	return errors.Join(errs...)
}

// openClickHouse retries until wait has passed: in compose or `make run`,
// ClickHouse may still be starting.
func openClickHouse(ctx context.Context, url string, log *slog.Logger, wait time.Duration) (*clickhouse.Store, error) {
	deadline := time.Now().Add(wait)
	pause := 250 * time.Millisecond
	for {
		st, err := clickhouse.Open(ctx, url, log)
		if err == nil {
			return st, nil
		}
		if time.Now().Add(pause).After(deadline) || ctx.Err() != nil {
			return nil, errors.Join(err, ctx.Err())
		}
		log.Warn("clickhouse not reachable yet; retrying", "in", pause, "err", err)
		select {
		case <-time.After(pause):
		case <-ctx.Done():
		}
		pause = min(2*pause, 5*time.Second)
	}
}
