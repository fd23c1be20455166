// Package service assembles a running Samtycke from its configuration:
// ClickHouse (migrated), Redis or process memory, published versions, the
// banner builder, the spool and its shipper, the retention job, the demo site
// and the HTTP app. `samtycke serve` and the integration tests use the same
// assembly.
package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/samtycke/samtycke/server/internal/admin"
	"github.com/samtycke/samtycke/server/internal/auth"
	"github.com/samtycke/samtycke/server/internal/banner"
	"github.com/samtycke/samtycke/server/internal/cache"
	"github.com/samtycke/samtycke/server/internal/cache/memory"
	"github.com/samtycke/samtycke/server/internal/cache/redis"
	"github.com/samtycke/samtycke/server/internal/config"
	"github.com/samtycke/samtycke/server/internal/dedup"
	"github.com/samtycke/samtycke/server/internal/demo"
	"github.com/samtycke/samtycke/server/internal/durable"
	"github.com/samtycke/samtycke/server/internal/ledger"
	"github.com/samtycke/samtycke/server/internal/mail"
	"github.com/samtycke/samtycke/server/internal/manage"
	"github.com/samtycke/samtycke/server/internal/retention"
	"github.com/samtycke/samtycke/server/internal/shipper"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
	"github.com/samtycke/samtycke/server/internal/spool"
	"github.com/samtycke/samtycke/server/internal/store/clickhouse"
	"github.com/samtycke/samtycke/server/internal/web"
)

// Service is a ready-to-serve Samtycke.
type Service struct {
	Config   *config.Config
	Store    *clickhouse.Store
	Versions *siteconfig.Provider
	Spool    *spool.Spool
	Shipper  *shipper.Shipper
	Cache    cache.Cache
	instance string
	Manager  *manage.Manager
	// Ledger appends every shipped record to its site's evidence log and
	// signs the heads.
	Ledger  *ledger.Writer
	App     *fiber.App
	log     *slog.Logger
	closers []func() error
	lock    retention.Locker // the retention job's: Redis, or process memory
	// metrics serves /metrics on SAMTYCKE_METRICS_LISTEN; nil without it.
	metrics   *http.Server
	metricsLn net.Listener
	// cleanStop: New finished (any replay done), so a Close that closes
	// everything without error is a clean stop.
	cleanStop bool
	// clickhouseStarted is ClickHouse's start as seen by New, or later by
	// watchRestarts when it saw ClickHouse restart.
	chMu              sync.Mutex
	clickhouseStarted time.Time
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
	if on, err := st.FsyncInserts(ctx); err != nil {
		return nil, err
	} else if !on {
		log.Info("this ClickHouse cannot fsync its parts; confirmed batches are kept in the spool for SAMTYCKE_SPOOL_KEEP instead", "keep", cfg.SpoolKeep)
	}

	// Redis is shared by the instances; process memory stands in while it
	// is down, and is all there is with SAMTYCKE_REDIS_URL=none.
	local := memory.New(100_000)
	var kv cache.Cache = local
	checks := []web.Check{{Name: "clickhouse", Probe: st.Ping}}
	var rcache *redis.Cache
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
		kv, rcache = cache.NewFallback(rc, local, log), rc
		checks = append(checks, web.Check{Name: "redis", Probe: rc.Ping})
	}
	s.Cache = kv
	s.lock = &retention.LocalLock{}
	if rcache != nil {
		s.lock = rcache
	}
	s.Versions = siteconfig.NewProvider(st, kv, 10*time.Second, log)

	reg := prometheus.NewRegistry()
	if cfg.MetricsListen != "" {
		// Bound here, so a taken address fails the start, not later.
		if s.metricsLn, err = net.Listen("tcp", cfg.MetricsListen); err != nil {
			return nil, fmt.Errorf("SAMTYCKE_METRICS_LISTEN: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", web.MetricsHandler(reg))
		// The runtime's profiles, where only operators reach: a CPU profile
		// or an execution trace of a loaded instance is how its cost is found.
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
		s.metrics = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		s.closers = append(s.closers, func() error { s.metricsLn.Close(); return nil })
	}
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	pm := newPipelineMetrics(reg)
	dir := filepath.Join(cfg.DataDir, "spool")
	// Only whole shipped segments are deleted, so disk use may pass the
	// budget by one segment: keep segments a sixteenth of it.
	segment := min(max(cfg.SpoolMaxBytes/16, 1<<20), spool.DefaultSegmentBytes)
	// Receipts are signed once per group commit; the notary needs the
	// ledger's key, which is opened after the spool (tagged appends come
	// only from requests, once it is set).
	var notary *ledger.Notary
	pending := make([]*ledger.Pending, 0, 256)
	onCommit := func(tags []any) {
		pending = pending[:0]
		for _, t := range tags {
			if p, ok := t.(*ledger.Pending); ok {
				pending = append(pending, p)
			}
		}
		if notary != nil {
			notary.SignGroup(pending)
		}
		clear(pending)
	}
	s.Spool, err = spool.Open(dir, spool.Options{SegmentBytes: segment, MaxBytes: cfg.SpoolMaxBytes, Log: log, OnSync: pm.synced, OnCommit: onCommit,
		Keep: cfg.SpoolKeep})
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, s.Spool.Close)
	s.instance, err = instanceID(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	// A stop that did not leave the marker (kill -9, a crash, a power cut)
	// may have taken ClickHouse's unwritten parts with it: the batches it
	// confirmed within SAMTYCKE_SPOOL_KEEP are shipped again, before the
	// ledger checks ClickHouse against its state. The marker goes first, so
	// that a crash from here on counts as unclean too.
	clean, err := takeCleanStop(ctx, cfg.DataDir, st)
	if err != nil {
		return nil, err
	}
	if s.clickhouseStarted, err = st.StartedAt(ctx); err != nil {
		return nil, err
	}
	// Rows: batches sent back from the quarantine are logged already, so
	// their rows go to ClickHouse past the ledger.
	shipOpts := shipper.Options{Instance: s.instance, Dir: dir, Log: log, OnBatch: pm.shipped, Keep: cfg.SpoolKeep, Rows: st}
	var replay func(context.Context, *ledger.Writer) error
	replayed := 0
	if !clean {
		replay = func(ctx context.Context, w *ledger.Writer) error {
			sh, err := shipper.New(s.Spool, w, shipOpts)
			if err != nil {
				return err
			}
			replayed, err = sh.Replay(ctx, w)
			return err
		}
	}
	// Every batch goes through the ledger: leaves, rows, signed heads, then
	// the shipper's checkpoint. Open refuses to start a log that ClickHouse
	// no longer holds as this instance signed it.
	s.Ledger, err = ledger.Open(ctx, st, st, ledger.Options{Dir: cfg.DataDir, Instance: s.instance, NewLogs: cfg.NewLogs, Log: log,
		Keep: cfg.SpoolKeep, Replay: replay})
	if err != nil {
		return nil, err
	}
	for _, started := range s.Ledger.Started() {
		details, err := json.Marshal(started)
		if err != nil {
			return nil, err
		}
		if err := st.AppendAudit(ctx, manage.Event{At: time.Now().UTC(), Site: started.Site, Actor: "instance:" + s.instance,
			Action: "ledger.new_log", Details: string(details)}); err != nil {
			return nil, err
		}
	}
	s.Shipper, err = shipper.New(s.Spool, s.Ledger, shipOpts)
	if err != nil {
		return nil, err
	}
	s.Shipper.CountReplayed(replayed)
	pm.watch(reg, s.Spool, s.Shipper)
	checks = append(checks, web.Check{Name: "spool", Critical: true, Probe: s.spoolReady},
		// Refused batches wait for an operator, but decisions are still
		// recorded: degraded, not unavailable.
		web.Check{Name: "quarantine", Probe: func(context.Context) error {
			if n := shipper.QuarantineCount(dir); n != 0 {
				return fmt.Errorf("%d batches refused by ClickHouse are in the quarantine (samtycke spool quarantine list)", n)
			}
			return nil
		}})

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
	// Dashboard and management API (package admin): sessions and the login
	// limit live in Redis, or in process memory without it; publishing takes
	// a shared lock and tells every instance (siteconfig.Publisher).
	var counter auth.Counter = memory.New(100_000)
	var broker siteconfig.Broker
	if rcache != nil {
		counter, broker = rcache, rcache
	}
	publisher := siteconfig.NewPublisher(s.Versions, broker, log)
	listenCtx, stopListening := context.WithCancel(context.WithoutCancel(ctx))
	go publisher.Listen(listenCtx)
	s.closers = append(s.closers, func() error { stopListening(); return nil })
	sessions := auth.NewSessions(counter, SessionIdle, SessionAbsolute)
	s.Manager = manage.New(st, publisher, sessions, auth.NewLoginLimit(counter), log).WithClaims(kv).WithEvidence(st)
	var mailer mail.Mailer // none: the dashboard shows invitation links to pass on
	if cfg.SMTPURL != "" {
		smtp, err := mail.Parse(cfg.SMTPURL) // checked by config already
		if err != nil {
			return nil, err
		}
		mailer = smtp
	}
	s.Manager.WithMail(mailer, cfg.PublicBase())
	if err := bootstrapOwner(ctx, s.Manager, cfg, log); err != nil {
		return nil, err
	}
	adm, err := admin.New(admin.Deps{Manager: s.Manager, Sessions: sessions, Preview: b, PublicBase: cfg.PublicBase(), Log: log,
		Records: st, OwnHeads: s.Ledger.Heads, Scans: st})
	if err != nil {
		return nil, err
	}

	notary = ledger.NewNotary(s.Ledger.Key(), s.instance, nil)
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "samtycke_receipts_total", Help: "Receipts issued to visitors (signed promises to log their records)."},
			func() float64 { _, n := notary.Stats(); return float64(n) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "samtycke_receipt_signatures_total", Help: "Signatures made for receipts: one per group of answers ready together."},
			func() float64 { n, _ := notary.Stats(); return float64(n) }))

	events := dedup.New(kv, log)
	s.closers = append(s.closers, events.Close) // closed before the spool and Redis: closers run newest first
	s.App, err = web.New(web.Deps{Config: cfg, Log: log, Versions: s.Versions, Banner: b,
		Spool: s.Spool, Events: events, Cache: kv,
		Checks: checks, Registry: reg, Version: version, Admin: adm,
		History: st, Logs: st, Notary: notary})
	if err != nil {
		return nil, err
	}
	ok = true
	s.cleanStop = true
	return s, nil
}

// CleanStopFile, in the data directory, says that the last run stopped
// cleanly: everything it shipped was confirmed and its spool closed. It is
// written by Close and taken by the next start. It names the machine's boot
// and ClickHouse's start, since a power cut after a clean stop loses what
// ClickHouse had not written yet just the same.
const CleanStopFile = "stopped-cleanly"

type cleanStop struct {
	Boot       string    `json:"boot_id"`
	ClickHouse time.Time `json:"clickhouse_started"`
}

// bootID names this boot of the machine (empty where the kernel does not say).
func bootID() string {
	b, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	return string(bytes.TrimSpace(b))
}

// takeCleanStop reports whether the last run stopped cleanly, with neither
// the machine nor ClickHouse restarted since, and removes the marker
// durably.
func takeCleanStop(ctx context.Context, dataDir string, st *clickhouse.Store) (bool, error) {
	path := filepath.Join(dataDir, CleanStopFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("clean-stop marker: %w", err)
	}
	if err := os.Remove(path); err != nil {
		return false, fmt.Errorf("clean-stop marker: %w", err)
	}
	if err := durable.SyncDir(dataDir); err != nil {
		return false, fmt.Errorf("clean-stop marker: %w", err)
	}
	var m cleanStop
	if json.Unmarshal(b, &m) != nil || m.Boot != bootID() {
		return false, nil
	}
	started, err := st.StartedAt(ctx)
	if err != nil {
		return false, err
	}
	// uptime() is in whole seconds: allow for rounding.
	d := started.Sub(m.ClickHouse)
	return d < 3*time.Second && d > -3*time.Second, nil
}

// Serve answers requests on ln and ships the spool until ctx ends; then it
// lets requests in flight finish (at most 15 s) and ships what they recorded
// (at most 10 s more: what is left ships at the next start).
func (s *Service) Serve(ctx context.Context, ln net.Listener) error {
	s.log.Info("listening", "addr", ln.Addr().String(), "public_url", s.Config.PublicBase())
	shipCtx, stopShipping := context.WithCancel(context.Background())
	shipped := make(chan struct{})
	go func() {
		defer close(shipped)
		s.Shipper.Run(shipCtx)
	}()
	retain := &retention.Job{Store: s.Store, Lock: s.lock, Instance: s.instance,
		Log: s.log.With("component", "retention"), Now: time.Now}
	retained := make(chan struct{})
	go func() {
		defer close(retained)
		retain.Run(shipCtx, time.Hour)
	}()
	refreshed := make(chan struct{})
	go func() {
		defer close(refreshed)
		s.refreshHeads(shipCtx)
	}()
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		s.watchRestarts(shipCtx, RestartCheckEvery)
	}()
	if s.metrics != nil {
		go func() {
			if err := s.metrics.Serve(s.metricsLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Warn("metrics listener stopped", "err", err)
			}
		}()
		defer s.metrics.Close()
	}
	served := make(chan error, 1)
	go func() { served <- s.App.Listener(web.Lingering(ln)) }()
	var err error
	select {
	case err = <-served:
	case <-ctx.Done():
		s.log.Info("shutting down: finishing requests in flight")
		if e := s.App.ShutdownWithTimeout(15 * time.Second); e != nil {
			err = fmt.Errorf("shutdown: %w", e)
		}
	}
	stopShipping()
	<-shipped
	<-retained
	<-refreshed
	<-watched
	flushCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if e := s.Shipper.Flush(flushCtx); e != nil {
		s.log.Warn("not everything was shipped before stopping; the rest ships at the next start", "err", e)
	}
	s.log.Info("stopped")
	return err
}

// MetricsAddr is the address /metrics listens on of its own, or "".
func (s *Service) MetricsAddr() string {
	if s.metricsLn == nil {
		return ""
	}
	return s.metricsLn.Addr().String()
}

// HeadMaxAge is how old a log's newest head may grow before the instance
// signs it again: a bundle's head then tells within this how recent its
// view of each log is (docs/tamper-evidence.md).
const HeadMaxAge = time.Hour

// refreshHeads re-signs old heads until ctx ends.
func (s *Service) refreshHeads(ctx context.Context) {
	t := time.NewTicker(HeadMaxAge / 6)
	defer t.Stop()
	for {
		if err := s.Ledger.Refresh(ctx, HeadMaxAge); err != nil && ctx.Err() == nil {
			s.log.Warn("signing fresh tree heads failed; retried shortly", "err", err)
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}

// spoolReady fails when the spool refuses decisions, or is about to: past
// 95% of its disk budget, so a load balancer steers visitors elsewhere
// before they get a 503.
func (s *Service) spoolReady(context.Context) error {
	if st := s.Spool.Stats(); s.Config.SpoolMaxBytes > 0 && st.Unreleased >= s.Config.SpoolMaxBytes/100*95 {
		return fmt.Errorf("spool holds %d unshipped bytes, its budget is %d", st.Unreleased, s.Config.SpoolMaxBytes)
	}
	return nil
}

// instanceID names this instance's spool in every batch it ships. It is
// made once and kept in the data directory, so it survives restarts and two
// instances with their own directories never share one.
func instanceID(dataDir string) (string, error) {
	path := filepath.Join(dataDir, "instance")
	if b, err := os.ReadFile(path); err == nil && len(bytes.TrimSpace(b)) > 0 {
		return string(bytes.TrimSpace(b)), nil
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("instance id: %w", err)
	}
	host, _ := os.Hostname()
	id := host + "-" + uuid.NewString()[:8]
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", fmt.Errorf("instance id: %w", err)
	}
	if err := os.WriteFile(path, []byte(id+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("instance id: %w", err)
	}
	return id, nil
}

// Close releases connections, newest first.
func (s *Service) Close() error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i]())
	}
	s.closers = nil
	err := errors.Join(errs...)
	if err == nil && s.cleanStop {
		// After the spool's Close: nothing is shipped after this.
		s.chMu.Lock()
		b, _ := json.Marshal(cleanStop{Boot: bootID(), ClickHouse: s.clickhouseStarted})
		s.chMu.Unlock()
		if werr := durable.WriteFile(filepath.Join(s.Config.DataDir, CleanStopFile), b); werr != nil {
			err = fmt.Errorf("clean-stop marker: %w", werr)
		}
	}
	return err
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

// Dashboard sessions end after SessionIdle without a request, and
// SessionAbsolute after sign-in whatever happens.
const (
	SessionIdle     = 2 * time.Hour
	SessionAbsolute = 12 * time.Hour
)

// bootstrapOwner creates the SAMTYCKE_ADMIN_EMAIL account on first start and
// makes it an owner of the demo site when that runs.
func bootstrapOwner(ctx context.Context, m *manage.Manager, cfg *config.Config, log *slog.Logger) error {
	if cfg.AdminEmail == "" {
		return nil
	}
	created, err := m.Bootstrap(ctx, cfg.AdminEmail, cfg.AdminPassword)
	if err != nil {
		return fmt.Errorf("bootstrap owner %s: %w", cfg.AdminEmail, err)
	}
	if created {
		log.Info("owner account created", "email", cfg.AdminEmail)
	}
	if cfg.Demo {
		if err := m.EnsureOwner(ctx, demo.SiteID, cfg.AdminEmail); err != nil {
			return fmt.Errorf("bootstrap owner of %s: %w", demo.SiteID, err)
		}
	}
	return nil
}
