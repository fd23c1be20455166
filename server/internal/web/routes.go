package web

import (
	"github.com/gofiber/fiber/v2"

	"github.com/samtycke/samtycke/server/internal/banner"
)

// routes mounts every route of the server. This is the one list to read.
func (s *server) routes(app *fiber.App) {
	app.Use(s.observe, s.recover, s.deadline, s.hsts)

	// Public: called by banners from any embedding origin.
	app.Get("/b/:site.js", s.getBanner)
	// Banner (issue 12): a version's item details and the stylesheet, loaded
	// when the second layer first opens.
	app.Get("/b/:site/:version/details.json", s.getBannerDetails)
	app.Get(banner.StylesPath, s.getBannerStyles)
	app.Options("/v1/consents", s.preflightConsent)
	app.Post("/v1/consents", s.postConsent)

	// A visitor's own decisions, by their consent ID (issue 15). Public,
	// CORS for the site's allowed origins.
	if s.History != nil {
		app.Get("/v1/consents/:consent_id", s.getConsentHistory)
	}

	// The evidence logs: hashes and signed heads, for anyone to check
	// (package ledger). Log IDs hold "@" and "~", which routes take as is.
	if s.Logs != nil {
		app.Get("/v1/logs", s.getLogs)
		app.Get("/v1/logs/:log/sth", s.getLogHead)
		app.Get("/v1/logs/:log/consistency", s.getLogConsistency)
		app.Get("/v1/logs/:log/inclusion", s.getLogInclusion)
	}

	// Cookie notice and the embeddable declaration (issue 13). Public: the
	// .json forms answer any origin. ".json" routes come first, as :n would
	// match "3.json".
	app.Get("/s/:site/cookies.json", s.getNoticeJSON)
	app.Get("/s/:site/cookies/embed.json", s.getNoticeEmbed)
	app.Get("/s/:site/cookies/v/:n.json", s.getNoticeVersionJSON)
	app.Get("/s/:site/cookies/v/:n", s.getNoticeVersion)
	app.Get("/s/:site/cookies", s.getNotice)

	// Operations.
	app.Get("/healthz", s.getHealth)
	app.Get("/readyz", s.getReady)
	// Metrics are not public: on the public listener only with a token.
	if s.Config.MetricsToken != "" {
		app.Get("/metrics", s.getMetrics)
	}

	// Site owners, editors and auditors: the dashboard (/admin/…) and the
	// management API (/v1/sites/…); package admin lists those routes.
	if s.Admin != nil {
		s.Admin.Mount(app)
	} else {
		app.Get("/admin/", s.getAdmin) // non-strict routing: /admin too
	}

	// Demo site, with SAMTYCKE_DEMO=on.
	if s.Config.Demo {
		app.Get("/", func(c *fiber.Ctx) error { return c.Redirect("/demo") })
		app.Get("/demo", s.getDemoPage)
		// Banner (issue 12): the demo under a strict Content-Security-Policy.
		app.Get("/demo/strict", s.getDemoStrict)
		app.Get("/demo/:file", s.getDemoAsset)
	}

	app.Use(func(c *fiber.Ctx) error { return errNotFound })
}
