package web

import (
	"github.com/gofiber/fiber/v2"

	"github.com/samtycke/samtycke/server/internal/demo"
)

// getDemoStrict serves the demo page under a strict Content-Security-Policy
// with a nonce fresh for each request.
func (s *server) getDemoStrict(c *fiber.Ctx) error {
	page, csp, err := demo.StrictPage()
	if err != nil {
		return err
	}
	c.Set("Content-Security-Policy", csp)
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(page)
}
