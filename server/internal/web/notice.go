package web

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/text/language"

	"github.com/samtycke/samtycke/server/internal/apierr"
	"github.com/samtycke/samtycke/server/internal/cache"
	"github.com/samtycke/samtycke/server/internal/notice"
	"github.com/samtycke/samtycke/server/internal/precompressed"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

// The current notice changes only when a site publishes: browsers and CDNs
// keep it as long as the banner and revalidate with its ETag. A numbered
// version never changes.
const (
	noticeCacheControl  = "public, max-age=300, stale-while-revalidate=60, stale-if-error=86400"
	versionCacheControl = "public, max-age=86400, stale-if-error=604800"
)

type noticeKind uint8

const (
	noticeHTML noticeKind = iota
	noticeJSON
	noticeEmbed
)

type noticeKey struct {
	site string
	n    uint32
	lang string
	kind noticeKind
}

// notices renders each (version, language, form) once and keeps the bytes:
// versions are immutable, so a rendered notice never goes stale.
type notices struct {
	r   *notice.Renderer
	csp string

	mu       sync.Mutex
	rendered map[noticeKey]*precompressed.Body
}

const maxNotices = 4096

func newNotices(publicOrigin string) (*notices, error) {
	r, err := notice.New()
	if err != nil {
		return nil, err
	}
	return &notices{r: r, csp: r.CSP(publicOrigin), rendered: map[noticeKey]*precompressed.Body{}}, nil
}

func (s *server) getNotice(c *fiber.Ctx) error      { return s.serveNotice(c, noticeHTML, false) }
func (s *server) getNoticeJSON(c *fiber.Ctx) error  { return s.serveNotice(c, noticeJSON, false) }
func (s *server) getNoticeEmbed(c *fiber.Ctx) error { return s.serveNotice(c, noticeEmbed, false) }
func (s *server) getNoticeVersion(c *fiber.Ctx) error {
	return s.serveNotice(c, noticeHTML, true)
}
func (s *server) getNoticeVersionJSON(c *fiber.Ctx) error {
	return s.serveNotice(c, noticeJSON, true)
}

var langRe = regexp.MustCompile(`^[a-z]{2,3}(-[A-Z]{2})?$`)

func (s *server) serveNotice(c *fiber.Ctx, kind noticeKind, numbered bool) error {
	site := strings.Clone(c.Params("site"))
	if !siteconfig.ValidSiteID(site) {
		return apierr.New(http.StatusNotFound, "unknown_site", "", "%q is not a site id", site)
	}
	ctx := c.UserContext()
	var v *siteconfig.Version
	var err error
	if numbered {
		n, perr := strconv.ParseUint(c.Params("n"), 10, 32)
		if perr != nil || n == 0 {
			return apierr.New(http.StatusBadRequest, "bad_version", "n", "the version must be a positive whole number")
		}
		v, err = s.Versions.Get(ctx, site, uint32(n))
	} else {
		v, err = s.Versions.Current(ctx, site)
	}
	if errors.Is(err, siteconfig.ErrNotFound) {
		if numbered {
			return apierr.New(http.StatusNotFound, "unknown_version", "n", "site %q has no published version %s", site, c.Params("n"))
		}
		return apierr.New(http.StatusNotFound, "unknown_site", "", "no published configuration for site %q", site)
	}
	if err != nil {
		return unavailable(err)
	}
	lang, err := noticeLanguage(c, v.Config)
	if err != nil {
		return err
	}
	lang = notice.For(lang)
	body, err := s.notices.get(ctx, s, v, lang, kind)
	if err != nil {
		return err
	}

	switch kind {
	case noticeHTML:
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		c.Set(fiber.HeaderContentSecurityPolicy, s.notices.csp)
		c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
		c.Set(fiber.HeaderXFrameOptions, "SAMEORIGIN")
	case noticeJSON, noticeEmbed:
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
		// Public data, fetched by banners on any embedding site.
		c.Set(fiber.HeaderAccessControlAllowOrigin, "*")
		c.Set("Cross-Origin-Resource-Policy", "cross-origin")
	}
	c.Set(fiber.HeaderContentLanguage, lang)
	c.Set("X-Content-Type-Options", "nosniff")
	if c.Query("lang") == "" {
		c.Vary(fiber.HeaderAcceptLanguage)
	}
	if numbered {
		c.Set(fiber.HeaderCacheControl, versionCacheControl)
	} else {
		c.Set(fiber.HeaderCacheControl, noticeCacheControl)
	}

	return sendPrecompressed(c, body)
}

// noticeLanguage is ?lang= when given (it must be one of the site's
// languages), else the best of Accept-Language, else the site's default.
func noticeLanguage(c *fiber.Ctx, cfg *siteconfig.Config) (string, error) {
	if q := c.Query("lang"); q != "" {
		if !langRe.MatchString(q) {
			return "", apierr.New(http.StatusBadRequest, "bad_lang", "lang", "lang must be a language code such as sv or en")
		}
		if !cfg.HasLanguage(q) {
			return "", apierr.New(http.StatusNotFound, "unknown_language", "lang", "the notice is available in %s", strings.Join(cfg.Languages, ", "))
		}
		return strings.Clone(q), nil
	}
	tags, _, _ := language.ParseAcceptLanguage(c.Get(fiber.HeaderAcceptLanguage))
	for _, t := range tags {
		if cfg.HasLanguage(t.String()) {
			return t.String(), nil
		}
		if b, conf := t.Base(); conf != language.No && cfg.HasLanguage(b.String()) {
			return b.String(), nil
		}
	}
	return cfg.DefaultLanguage, nil
}

func (n *notices) get(ctx context.Context, s *server, v *siteconfig.Version, lang string, kind noticeKind) (*precompressed.Body, error) {
	k := noticeKey{v.Site, v.Number, lang, kind}
	n.mu.Lock()
	b := n.rendered[k]
	n.mu.Unlock()
	if b != nil {
		return b, nil
	}
	// Versions are numbered 1…n without gaps; the page links every earlier one.
	earlier := make([]notice.Earlier, 0, v.Number-1)
	for i := uint32(1); i < v.Number; i++ {
		e, err := s.Versions.Get(ctx, v.Site, i)
		if err != nil {
			return nil, unavailable(err)
		}
		earlier = append(earlier, notice.Earlier{Number: i, PublishedAt: e.PublishedAt})
	}
	base := s.Config.PublicBase()
	in := notice.Input{Version: v, Lang: lang, Earlier: earlier, PublicBase: base}
	if v.Config.AllowsOrigin(s.Config.PublicOrigin()) {
		// Served on one of the site's own origins: the page loads the site's
		// banner, so that "change your choice" works there too.
		in.Banner = base + "/b/" + v.Site + ".js"
	}
	d := notice.Build(in)
	var raw []byte
	var err error
	switch kind {
	case noticeHTML:
		raw, err = n.r.HTML(d, base)
	case noticeJSON:
		raw, err = n.r.JSON(d)
	case noticeEmbed:
		raw, err = n.r.Embed(d, base)
	}
	if err != nil {
		return nil, err
	}
	b, err = precompressed.New(raw)
	if err != nil {
		return nil, err
	}
	n.mu.Lock()
	cache.MakeRoom(n.rendered, maxNotices)
	n.rendered[k] = b
	n.mu.Unlock()
	return b, nil
}
