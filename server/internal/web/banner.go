package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/samtycke/samtycke/server/internal/apierr"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

// bannerCacheControl lets browsers and CDNs keep the script for five
// minutes, then revalidate with its ETag; a publish reaches every visitor
// within that time.
const bannerCacheControl = "public, max-age=300, stale-while-revalidate=60, stale-if-error=86400"

// getBanner serves the current version's precompressed script.
func (s *server) getBanner(c *fiber.Ctx) error {
	site := strings.Clone(c.Params("site")) // Fiber reuses the buffer; the provider keeps the key
	if !siteconfig.ValidSiteID(site) {
		return apierr.New(http.StatusNotFound, "unknown_site", "", "%q is not a site id", site)
	}
	v, err := s.Versions.Current(c.UserContext(), site)
	if errors.Is(err, siteconfig.ErrNotFound) {
		return apierr.New(http.StatusNotFound, "unknown_site", "", "no published configuration for site %q", site)
	}
	if err != nil {
		return unavailable(err)
	}
	a, err := s.Banner.For(v)
	if err != nil {
		return err
	}
	body, etag, enc := a.Raw, a.ETag, ""
	switch accept := c.Get(fiber.HeaderAcceptEncoding); {
	case acceptsCoding(accept, "br"):
		body, etag, enc = a.Brotli, a.ETagBrotli, "br"
	case acceptsCoding(accept, "gzip"):
		body, etag, enc = a.Gzip, a.ETagGzip, "gzip"
	}
	c.Set(fiber.HeaderContentType, "text/javascript; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, bannerCacheControl)
	c.Set(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
	c.Set(fiber.HeaderETag, etag)
	c.Set("X-Content-Type-Options", "nosniff")
	// The script is embedded by other sites, so other origins may load it.
	c.Set("Cross-Origin-Resource-Policy", "cross-origin")
	if matchesETag(c.Get(fiber.HeaderIfNoneMatch), etag) {
		return c.SendStatus(http.StatusNotModified)
	}
	if enc != "" {
		c.Set(fiber.HeaderContentEncoding, enc)
	}
	return c.Send(body)
}

// acceptsCoding reports whether an Accept-Encoding header accepts coding
// with a non-zero quality.
func acceptsCoding(header, coding string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), coding) {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}

// matchesETag implements If-None-Match (weak comparison, as RFC 9110 asks).
func matchesETag(header, etag string) bool {
	if header == "" {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}
