package web

import (
	"bytes"
	"io/fs"
	"mime"
	"net/http"
	"path"

	"github.com/gofiber/fiber/v2"

	"github.com/samtycke/samtycke/server/internal/demo"
)

// getAdmin renders the dashboard's start page.
func (s *server) getAdmin(c *fiber.Ctx) error {
	var buf bytes.Buffer
	err := s.templates.ExecuteTemplate(&buf, "admin.html", map[string]any{
		"Version": s.Version, "PublicBase": s.Config.PublicBase(), "Demo": s.Config.Demo,
	})
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(buf.Bytes())
}

func (s *server) getDemoPage(c *fiber.Ctx) error { return serveDemoFile(c, "index.html") }

func (s *server) getDemoAsset(c *fiber.Ctx) error { return serveDemoFile(c, c.Params("file")) }

func serveDemoFile(c *fiber.Ctx, name string) error {
	if !fs.ValidPath(name) {
		return errNotFound
	}
	b, err := fs.ReadFile(demo.Static(), name)
	if err != nil {
		return errNotFound
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	c.Set(fiber.HeaderContentType, ct)
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return c.Status(http.StatusOK).Send(b)
}
