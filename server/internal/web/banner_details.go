package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/samtycke/samtycke/server/internal/apierr"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

// detailsCacheControl: a version never changes, so its details are cached
// for a year by browsers and CDNs.
const detailsCacheControl = "public, max-age=31536000, immutable"

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
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, detailsCacheControl)
	c.Set(fiber.HeaderAccessControlAllowOrigin, "*")
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Cross-Origin-Resource-Policy", "cross-origin")
	return sendPrecompressed(c, a)
}
