// Package web is Samtycke's HTTP surface on Fiber. routes.go lists every
// route; errors.go turns returned errors into JSON error bodies; each other
// file holds one group of endpoints.
package web

import (
	"context"
	"fmt"
	"html/template"
	"log/slog"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"

	"github.com/samtycke/samtycke/dashboard"
	"github.com/samtycke/samtycke/server/internal/banner"
	"github.com/samtycke/samtycke/server/internal/cache"
	"github.com/samtycke/samtycke/server/internal/config"
	"github.com/samtycke/samtycke/server/internal/consent"
	"github.com/samtycke/samtycke/server/internal/dedup"
	"github.com/samtycke/samtycke/server/internal/ledger"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
	"github.com/samtycke/samtycke/server/internal/spool"
)

// Check is a named readiness probe (ClickHouse, Redis).
type Check struct {
	Name string
	// Critical checks make /readyz answer 503 when they fail; the others
	// only mark the instance degraded.
	Critical bool
	Probe    func(ctx context.Context) error
}

// Spool is where an accepted decision goes: durable when Append returns.
type Spool interface {
	// Expect announces an append to come (see spool.Spool.Expect), made
	// with AppendExpected or called off with Withdraw.
	Expect()
	Withdraw()
	// AppendExpected appends payloads; the tag (a *ledger.Pending) gets its
	// receipt once they are fsynced, before it returns.
	AppendExpected(tag any, payloads ...[]byte) (spool.Pos, error)
}

// Deps is everything the handlers use.
type Deps struct {
	Config   *config.Config
	Log      *slog.Logger
	Versions *siteconfig.Provider
	Banner   *banner.Builder
	Spool    Spool
	Events   *dedup.Index // event ids seen in the last 24 h
	Cache    cache.Cache  // rate limits (Redis, or memory)
	Checks   []Check
	Registry *prometheus.Registry
	Version  string
	Now      func() time.Time

	// Admin serves the dashboard under /admin/ and the management API under
	// /v1/sites (package admin). Nil: a placeholder page at /admin/.
	Admin interface{ Mount(fiber.Router) }

	// History serves visitors their own decisions by consent ID (issue
	// 15). Nil leaves the route out.
	History History

	// Logs serves the evidence logs' public routes. Nil leaves them out.
	Logs Logs

	// Receipts: the spool signs each group commit's receipts (see
	// spool.Options.OnCommit), so a decision's answer carries one. Notary
	// signs the receipts of replayed answers. Nil: answers carry none.
	Notary *ledger.Notary
}

// requestTimeout bounds the work of every handler (and so every ClickHouse
// and Redis call it makes), well inside the server's WriteTimeout.
const requestTimeout = 10 * time.Second

// bodyLimit is the largest request body read for a path, enforced before
// the body is buffered: a consent is small, configurations are not.
func bodyLimit(uri []byte) int {
	p, _, _ := strings.Cut(string(uri), "?")
	switch {
	case p == "/v1/consents":
		return consent.MaxBodyBytes
	case strings.HasPrefix(p, "/admin/"), strings.HasPrefix(p, "/v1/sites/"):
		return 1 << 20
	}
	return 64 << 10
}

type server struct {
	Deps
	metrics   *metrics
	templates *template.Template
	notices   *notices // cookie notice pages (notice.go)
}

// New returns the Fiber application with every route mounted. It fails if a
// dashboard template does not parse.
func New(d Deps) (*fiber.App, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	tmpl, err := dashboard.Templates()
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	s := &server{Deps: d, metrics: newMetrics(d.Registry), templates: tmpl}
	if s.notices, err = newNotices(d.Config.PublicOrigin()); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	trusted := make([]string, len(d.Config.TrustedProxies))
	for i, p := range d.Config.TrustedProxies {
		trusted[i] = p.String()
	}
	app := fiber.New(fiber.Config{
		AppName:               "samtycke",
		DisableStartupMessage: true,
		ErrorHandler:          s.handleError,
		BodyLimit:             1 << 20, // the largest of bodyLimit's
		ReadTimeout:           10 * time.Second,
		WriteTimeout:          30 * time.Second,
		IdleTimeout:           120 * time.Second,
		// Room for the banner (≤ 9 KiB, brotli) and its headers: fasthttp
		// then answers with one write instead of flushing the headers first.
		WriteBufferSize:         16 << 10,
		EnableTrustedProxyCheck: true,
		TrustedProxies:          trusted,
		ProxyHeader:             fiber.HeaderXForwardedFor,
		// X-Forwarded-For is a list ("client, proxy1"): take its first valid
		// address rather than the raw header.
		EnableIPValidation: true,
	})
	// fasthttp asks for a body limit per request once the headers are in,
	// so an oversized consent is refused without reading it.
	app.Server().HeaderReceived = func(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
		return fasthttp.RequestConfig{MaxRequestBodySize: bodyLimit(h.RequestURI())}
	}
	s.routes(app)
	return app, nil
}
