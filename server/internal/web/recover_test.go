package web

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// A panicking handler becomes a logged 500 JSON answer; the process and the
// next request are fine.
func TestPanicBecomesA500(t *testing.T) {
	var logged strings.Builder
	s := &server{Deps: Deps{Log: slog.New(slog.NewTextHandler(&logged, nil))}, metrics: newMetrics(prometheus.NewRegistry())}
	app := fiber.New(fiber.Config{ErrorHandler: s.handleError})
	app.Use(s.observe, s.recover, s.deadline)
	app.Get("/boom", func(c *fiber.Ctx) error { panic("boom") })
	app.Get("/fine", func(c *fiber.Ctx) error {
		if _, ok := c.UserContext().Deadline(); !ok {
			t.Error("a handler's context has no deadline")
		}
		return c.SendString("ok")
	})
	res, err := app.Test(httptest.NewRequest("GET", "/boom", nil))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 500 || !strings.Contains(string(b), `"code":"internal"`) || strings.Contains(string(b), "boom") {
		t.Fatalf("%d %s", res.StatusCode, b)
	}
	if !strings.Contains(logged.String(), "handler panicked") || !strings.Contains(logged.String(), "boom") {
		t.Errorf("the panic is not logged: %s", logged.String())
	}
	if n := testutil.ToFloat64(s.metrics.panics); n != 1 {
		t.Errorf("panics counted %v", n)
	}
	res, err = app.Test(httptest.NewRequest("GET", "/fine", nil))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("after a panic: %v %v", res, err)
	}
}
