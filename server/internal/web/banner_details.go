package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/samtycke/samtycke/server/internal/apierr"
	"github.com/samtycke/samtycke/server/internal/precompressed"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

// immutableCacheControl: what the second layer loads lazily never changes
// at its URL (a version's details; the stylesheet, named by its content),
// so browsers and CDNs cache it for a year.
const immutableCacheControl = "public, max-age=31536000, immutable"

// sendLazy serves one of the second layer's lazily loaded parts: public data,
// readable from any origin, cached as cacheControl says.
func sendLazy(c *fiber.Ctx, contentType, cacheControl string, a *precompressed.Body) error {
	c.Set(fiber.HeaderContentType, contentType)
	c.Set(fiber.HeaderCacheControl, cacheControl)
	c.Set(fiber.HeaderAccessControlAllowOrigin, "*")
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Cross-Origin-Resource-Policy", "cross-origin")
	return sendPrecompressed(c, a)
}

// getBannerDetails serves a version's item details in one language
// (?lang=, else the version's default), which the banner's second layer
// loads when it first opens. Public data: any origin may read it.
func (s *server) getBannerDetails(c *fiber.Ctx) error {
	site := c.Params("site") // aliases Fiber's buffer; the provider copies what it keeps
	if !siteconfig.ValidSiteID(site) {
		return apierr.New(http.StatusNotFound, "unknown_site", "", "%q is not a site id", site)
	}
	n, err := strconv.ParseUint(c.Params("version"), 10, 32)
	if err != nil || n == 0 {
		return apierr.New(http.StatusNotFound, "unknown_version", "", "%q is not a version number", c.Params("version"))
	}
	v, err := s.Versions.Get(c.UserContext(), site, uint32(n))
	if errors.Is(err, siteconfig.ErrNotFound) {
		return apierr.New(http.StatusNotFound, "unknown_version", "", "site %q has no published version %d", site, n)
	}
	if err != nil {
		return unavailable(err)
	}
	a, err := s.Banner.Details(v, c.Query("lang"))
	if err != nil {
		return err
	}
	return sendLazy(c, fiber.MIMEApplicationJSONCharsetUTF8, immutableCacheControl, a)
}

// getBannerStyles serves the second layer's stylesheet, which it loads on
// its first open; the banner's URL names the content (?v=). A name this
// release's stylesheet does not have comes from another release's banner
// (an instance not yet updated, or no longer): it gets this stylesheet, but
// no cache may keep it under that name.
func (s *server) getBannerStyles(c *fiber.Ctx) error {
	cc := immutableCacheControl
	if c.Query("v") != s.Banner.StylesVersion() {
		cc = "no-cache"
	}
	return sendLazy(c, "text/css; charset=utf-8", cc, s.Banner.Styles())
}
