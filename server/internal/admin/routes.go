package admin

import (
	"github.com/gofiber/fiber/v2"

	"github.com/samtycke/samtycke/server/internal/manage"
)

// Mount adds every dashboard and management API route to app. This is the
// one list to read: each site route names the roles that may use it.
// A user or token without a role on the site gets 404 on every site route.
func (h *Handler) Mount(app fiber.Router) {
	var (
		read  = h.RequireRole(manage.CanRead...)   // owner, editor, auditor
		edit  = h.RequireRole(manage.CanEdit...)   // owner, editor
		own   = h.RequireRole(manage.CanManage...) // owner
		audit = h.RequireRole(manage.CanAudit...)  // owner, auditor
	)

	// JSON API: bearer API token, or the dashboard session (+ CSRF header).
	api := app.Group("/v1/sites", h.noStore, h.signedIn)
	api.Get("", h.apiListSites)
	api.Post("", h.apiCreateSite)
	api.Get("/:site", read, h.apiGetSite)
	api.Delete("/:site", own, h.apiDeleteSite)
	api.Patch("/:site", own, h.apiRenameSite)
	api.Get("/:site/draft", read, h.apiGetDraft)
	api.Put("/:site/draft", edit, h.apiPutDraft)
	api.Post("/:site/validate", edit, h.apiValidate)
	api.Get("/:site/publish", read, h.apiPublishPreview)
	api.Post("/:site/publish", edit, h.apiPublish)
	api.Get("/:site/versions", read, h.apiVersions)
	api.Get("/:site/versions/:n", read, h.apiVersion)
	api.Post("/:site/versions/:n/rollback", edit, h.apiRollback)
	api.Get("/:site/stats", read, h.apiStats)
	api.Get("/:site/audit", audit, h.apiAudit)
	api.Get("/:site/members", own, h.apiMembers)
	api.Put("/:site/members/:email", own, h.apiPutMember)
	api.Delete("/:site/members/:email", own, h.apiDeleteMember)
	api.Get("/:site/invitations", own, h.apiInvitations)
	api.Delete("/:site/invitations/:id", own, h.apiWithdrawInvitation)
	api.Get("/:site/tokens", own, h.apiTokens)
	api.Post("/:site/tokens", own, h.apiCreateToken)
	api.Delete("/:site/tokens/:id", own, h.apiRevokeToken)

	// Auditors (issue 15): exports and lookups of full records, each
	// written to the audit trail. "export" comes before :consent_id.
	if h.Records != nil {
		api.Get("/:site/consents/export", audit, h.apiExport)
		api.Get("/:site/consents/:consent_id", audit, h.apiConsent)
		app.Get("/.well-known/samtycke-keys.json", h.apiKeys)
	}
	// The scanner's stored reports; {id} may be "latest".
	if h.Scans != nil {
		api.Get("/:site/scans", read, h.apiScans)
		api.Get("/:site/scans/:id", read, h.apiScan)
		api.Post("/:site/scans/:id/add", edit, h.apiScanAdd)
	}

	h.mountPages(app, read, edit, own, audit)
}

// noStore keeps management answers out of every cache.
func (h *Handler) noStore(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Next()
}
