package admin

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/samtycke/samtycke/server/internal/apierr"
	"github.com/samtycke/samtycke/server/internal/bundle"
	"github.com/samtycke/samtycke/server/internal/ledger"
)

// Records is the consent log read back for auditors (issue 15): one
// visitor's history, exports, and the proofs and keys behind them.
type Records interface {
	bundle.Source
	ConsentHistory(ctx context.Context, site string, consentID uuid.UUID) ([]ledger.Row, error)
	CountRecords(ctx context.Context, q bundle.Query) (uint64, error)
	AllHeads(ctx context.Context) ([]ledger.Head, error)
}

// ConsentHistory is a consent ID's records on a site with the exact
// configuration versions they were made under.
type ConsentHistory struct {
	ConsentID string                 `json:"consent_id"`
	Records   []ledger.Row           `json:"records"`
	Versions  map[string]VersionText `json:"versions"`
}

// VersionText is a published version as shown to the visitor: Config is
// its canonical JSON (texts in every language), SHA256 its hash.
type VersionText struct {
	SHA256      string          `json:"sha256"`
	PublishedAt time.Time       `json:"published_at"`
	Config      json.RawMessage `json:"config"`
}

var errBadConsentID = apierr.New(http.StatusBadRequest, "invalid_consent_id", "consent_id", "the consent ID is not a UUID")

// history looks up a consent ID for an auditor and writes the lookup to
// the audit trail.
func (h *Handler) history(c *fiber.Ctx, raw string) (*ConsentHistory, error) {
	id, err := uuid.Parse(raw)
	if err != nil {
		return nil, errBadConsentID
	}
	site := siteOf(c)
	rows, err := h.Records.ConsentHistory(ctx(c), site, id)
	if err != nil {
		return nil, err
	}
	out := &ConsentHistory{ConsentID: id.String(), Records: rows, Versions: map[string]VersionText{}}
	for _, r := range rows {
		key := strconv.FormatUint(uint64(r.ConfigVersion), 10)
		if _, ok := out.Versions[key]; ok {
			continue
		}
		v, err := h.Records.Version(ctx(c), site, r.ConfigVersion)
		if err != nil {
			return nil, err
		}
		out.Versions[key] = VersionText{SHA256: v.Hash, PublishedAt: v.PublishedAt.UTC(), Config: v.JSON}
	}
	if err := h.Manager.Audit(ctx(c), principal(c), site, "lookup", map[string]any{"consent_id": id.String(), "records": len(rows)}); err != nil {
		return nil, err
	}
	return out, nil
}

// apiConsent: GET /v1/sites/{site}/consents/{consent_id}.
func (h *Handler) apiConsent(c *fiber.Ctx) error {
	out, err := h.history(c, c.Params("consent_id"))
	if err != nil {
		return err
	}
	return c.JSON(out)
}

// exportTimeout bounds an export's stream: the request's 10 s deadline
// ends with the handler, before the stream writer runs.
const exportTimeout = time.Hour

// exportWriteWindow is how long one write to the client may take; the
// connection's deadline moves on as the export progresses.
const exportWriteWindow = time.Minute

// apiExport: GET /v1/sites/{site}/consents/export?from=&to=&format=…
// streams the bundle (a zip) straight from ClickHouse to the client.
// X-Samtycke-Records announces the number of records, for progress.
func (h *Handler) apiExport(c *fiber.Ctx) error {
	site := siteOf(c)
	format := c.Query("format", bundle.CSV)
	q, err := bundle.ParseQuery(site, c.Query("from"), c.Query("to"), c.Query("method"), c.Query("category"), c.Query("lang"), format)
	if err != nil {
		return err
	}
	total, err := h.Records.CountRecords(ctx(c), q)
	if err != nil {
		return err
	}
	if err := h.Manager.Audit(ctx(c), principal(c), site, "export", map[string]any{"query": q, "format": format, "records": total}); err != nil {
		return err
	}
	name := fmt.Sprintf("samtycke-%s-%s-%s.zip", site, c.Query("from"), c.Query("to"))
	c.Set(fiber.HeaderContentType, "application/zip")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	c.Set("X-Samtycke-Records", strconv.FormatUint(total, 10))
	conn := c.Context().Conn()
	log := h.Log.With("site", site, "export", q.String())
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		sctx, cancel := context.WithTimeout(context.Background(), exportTimeout)
		defer cancel()
		extend := func(uint64) { _ = conn.SetWriteDeadline(time.Now().Add(exportWriteWindow)) }
		extend(0)
		var own []ledger.Head
		if h.OwnHeads != nil {
			for _, hd := range h.OwnHeads() {
				if s, _, err := ledger.SplitLogID(hd.Log); err == nil && s == site {
					own = append(own, hd)
				}
			}
		}
		m, err := bundle.Write(sctx, &flushing{w: w}, h.Records, q, format, "samtycke", extend, own)
		if err == nil {
			err = w.Flush()
		}
		if err != nil {
			// The status is sent; the client gets a truncated zip, which
			// neither unzips nor verifies.
			log.Warn("export ended early", "err", err)
			return
		}
		log.Info("export sent", "records", m.Rows)
	})
	return nil
}

// flushing passes writes on and flushes every 256 KB, so the first bytes
// leave before the last row is read.
type flushing struct {
	w       *bufio.Writer
	pending int
}

func (f *flushing) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	f.pending += n
	if err == nil && f.pending >= 256<<10 {
		f.pending = 0
		err = f.w.Flush()
	}
	return n, err
}

// apiKeys: GET /.well-known/samtycke-keys.json, public: every published
// key with its fingerprint, its logs and when it may sign. The list comes
// from ClickHouse, so it is a claim: an auditor saves it once (or gets
// `samtycke log keys` from the operator) and verifies against that copy,
// never against what the database says later.
func (h *Handler) apiKeys(c *fiber.Ctx) error {
	keys, err := h.Records.Keys(ctx(c))
	if err != nil {
		return err
	}
	heads, err := h.Records.AllHeads(ctx(c))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	c.Set(fiber.HeaderAccessControlAllowOrigin, "*")
	return c.JSON(map[string]any{"keys": ledger.Describe(keys, heads)})
}
