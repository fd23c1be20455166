package web

import "github.com/gofiber/fiber/v2"

// hsts tells browsers to use https only, on answers served over https: the
// public URL is https, or a trusted proxy (SAMTYCKE_TRUSTED_PROXIES) says
// so with X-Forwarded-Proto (Fiber's Protocol reads it only from those).
// Over plain http the header means nothing and is left out. Two years,
// subdomains left alone: they may be other people's sites.
func (s *server) hsts(c *fiber.Ctx) error {
	if s.Config.PublicURL.Scheme == "https" || c.Protocol() == "https" {
		c.Set(fiber.HeaderStrictTransportSecurity, "max-age=63072000")
	}
	return c.Next()
}
