package admin

import (
	"log/slog"
	"reflect"
	"testing"

	"github.com/gofiber/fiber/v2"
)

// Every /admin and /v1/sites request runs each middleware once: counted on
// the handlers that Fiber's stack applies to the prefix.
func TestMiddlewareRunsOncePerRequest(t *testing.T) {
	h, err := New(Deps{Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	app := fiber.New()
	h.Mount(app)
	count := map[uintptr]int{}
	var get []*fiber.Route
	for _, rs := range app.Stack() {
		for _, r := range rs {
			if r.Method == fiber.MethodGet {
				get = append(get, r)
			}
		}
	}
	for _, r := range get {
		if r.Path != "/admin" && r.Path != "/v1/sites" {
			continue
		}
		for _, fn := range r.Handlers {
			count[reflect.ValueOf(fn).Pointer()]++
		}
	}
	for name, fn := range map[string]fiber.Handler{"securityHeaders": h.securityHeaders, "htmlErrors": h.htmlErrors,
		"signedIn": h.signedIn, "noStore": h.noStore} {
		want := 1
		if name == "signedIn" {
			want = 2 // once for /admin, once for /v1/sites: no request is under both
		}
		if got := count[reflect.ValueOf(fn).Pointer()]; got != want {
			t.Errorf("%s is applied %d times to the prefixes, want %d", name, got, want)
		}
	}
}
