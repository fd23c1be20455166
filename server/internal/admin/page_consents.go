package admin

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/samtycke/samtycke/server/internal/consent"
	"github.com/samtycke/samtycke/server/internal/ledger"
)

// getConsents: the auditors' page. A consent ID looks one visitor up (and
// is audited like the API); the export form downloads the bundle from the
// API with progress; the signing keys are listed for verify --keys.
func (h *Handler) getConsents(c *fiber.Ctx) error {
	v := h.newView(c, "Consents")
	v.Tab = "consents"
	now := h.Now().UTC()
	data := map[string]any{"ConsentID": c.Query("consent_id"),
		"From": now.AddDate(0, 0, -30).Format(time.DateOnly), "To": now.Format(time.DateOnly),
		"Methods": []string{consent.MethodAcceptAll, consent.MethodRejectAll, consent.MethodCustom, consent.MethodWithdraw, consent.MethodGPC}}
	if id := c.Query("consent_id"); id != "" {
		hist, err := h.history(c, id)
		if err != nil {
			return err
		}
		data["History"] = hist
	}
	keys, err := h.Records.Keys(ctx(c))
	if err != nil {
		return err
	}
	heads, err := h.Records.AllHeads(ctx(c))
	if err != nil {
		return err
	}
	data["Keys"] = ledger.Describe(keys, heads)
	v.Data = data
	return h.render(c, "consents", v)
}
