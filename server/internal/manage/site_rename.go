package manage

import (
	"context"
	"net/http"
	"strings"

	"github.com/samtycke/samtycke/server/internal/apierr"
)

// RenameSite changes a site's name (what the dashboard shows; the id, the
// configuration and the published banner stay as they are).
func (m *Manager) RenameSite(ctx context.Context, p Principal, id, name string) (*Site, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 || strings.ContainsAny(name, "\r\n") {
		return nil, apierr.New(http.StatusBadRequest, "invalid_name", "name", "a site needs a name of at most 200 characters, on one line")
	}
	site, err := m.Site(ctx, id)
	if err != nil {
		return nil, err
	}
	if site.Name == name {
		return site, nil
	}
	from := site.Name
	site.Name = name
	if err := m.st.PutSiteInfo(ctx, *site); err != nil {
		return nil, err
	}
	return site, m.Audit(ctx, p, id, "site.rename", map[string]any{"from": from, "to": name})
}
