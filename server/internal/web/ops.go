package web

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/samtycke/samtycke/server/internal/apierr"
)

type metrics struct {
	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	consents    *prometheus.CounterVec
	rateLimited prometheus.Counter
	spoolFull   prometheus.Counter
	panics      prometheus.Counter
	handler     fiber.Handler
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "samtycke_http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "samtycke_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
		consents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "samtycke_consents_recorded_total", Help: "Consent records acknowledged (201), by method.",
		}, []string{"method"}),
		rateLimited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "samtycke_consents_rate_limited_total", Help: "Consent decisions refused with 429.",
		}),
		spoolFull: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "samtycke_consents_refused_spool_full_total", Help: "Consent decisions refused with 503 because the spool passed its disk budget.",
		}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "samtycke_http_panics_total", Help: "Handler panics turned into 500 answers.",
		}),
	}
	reg.MustRegister(m.requests, m.duration, m.consents, m.rateLimited, m.spoolFull, m.panics)
	m.handler = adaptor.HTTPHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	return m
}

// observe counts and times every request. It runs the error handler itself
// so that the status it records is final.
func (s *server) observe(c *fiber.Ctx) error {
	start := time.Now()
	if err := c.Next(); err != nil {
		if err := s.handleError(c, err); err != nil {
			return err
		}
	}
	route := c.Route().Path // the pattern, so label values stay few
	if route == "/" && c.Path() != "/" {
		route = "unmatched"
	}
	code := c.Response().StatusCode()
	s.metrics.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	s.metrics.duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
	return nil
}

// recover turns a panic in a handler into an error (a logged 500 JSON
// answer, through observe), so one bad request never kills the process.
func (s *server) recover(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.metrics.panics.Inc()
			s.Log.Error("handler panicked", "method", c.Method(), "path", c.Path(), "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return c.Next()
}

// deadline bounds every handler's work by requestTimeout.
func (s *server) deadline(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), requestTimeout)
	defer cancel()
	c.SetUserContext(ctx)
	return c.Next()
}

// getMetrics answers GET /metrics on the public listener only to
// Authorization: Bearer SAMTYCKE_METRICS_TOKEN; without a token it is not
// mounted (SAMTYCKE_METRICS_LISTEN serves it on an address of its own).
func (s *server) getMetrics(c *fiber.Ctx) error {
	got, _ := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
	if subtle.ConstantTimeCompare([]byte(got), []byte(s.Config.MetricsToken)) != 1 {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="metrics"`)
		return errMetricsToken
	}
	return s.metrics.handler(c)
}

var errMetricsToken = apierr.New(http.StatusUnauthorized, "unauthenticated", "", "send Authorization: Bearer with SAMTYCKE_METRICS_TOKEN")

// MetricsHandler serves the registry's metrics, for a listener of their own.
func MetricsHandler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
}

// getHealth says the process is alive; it checks nothing else.
func (s *server) getHealth(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

// getReady probes every dependency in parallel and answers with status
// words only: an anonymous caller learns nothing of internal addresses (the
// failures go to the log). A failing critical check (the spool) makes the
// instance unready; a failing optional one (ClickHouse, Redis) only
// degraded, since it keeps serving and recording from the spool and memory.
func (s *server) getReady(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	results := make(map[string]string, len(s.Checks))
	var mu sync.Mutex
	var wg sync.WaitGroup
	status, code := "ready", http.StatusOK
	for _, ch := range s.Checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := "ok"
			if err := ch.Probe(ctx); err != nil {
				res = "down"
				s.Log.Warn("readiness check failed", "check", ch.Name, "err", err)
			}
			mu.Lock()
			defer mu.Unlock()
			results[ch.Name] = res
			if res != "ok" {
				if ch.Critical {
					status, code = "unavailable", http.StatusServiceUnavailable
				} else if status == "ready" {
					status = "degraded"
				}
			}
		}()
	}
	wg.Wait()
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(code).JSON(fiber.Map{"status": status, "checks": results})
}
