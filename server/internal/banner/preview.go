package banner

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

// PreviewEndpoint is where a preview banner posts its consents: a sink in
// the dashboard, so trying the preview never writes to the consent log.
const PreviewEndpoint = "/admin/preview/consents"

// Preview returns the banner script for a configuration that is not
// published (the editor's draft, possibly invalid): the same script and
// projection (PublicConfig) as a published version, numbered 0, posting to
// PreviewEndpoint, its second layer loading the items from details (the
// dashboard's, for the same configuration: DetailsOf). It is built per call
// and never cached: drafts change on every keystroke.
func (b *Builder) Preview(site string, cfg *siteconfig.Config, details string) ([]byte, error) {
	c := *cfg
	// A draft may lack lists the banner iterates over.
	if c.Categories == nil {
		c.Categories = []siteconfig.Category{}
	}
	if c.Items == nil {
		c.Items = []siteconfig.Item{}
	}
	if c.Languages == nil {
		c.Languages = []string{}
	}
	pub := b.PublicConfig(&siteconfig.Version{Site: site, Number: 0, Config: &c})
	pub.Endpoint = b.publicBase + PreviewEndpoint
	pub.Details = details
	js, err := json.Marshal(pub)
	if err != nil {
		return nil, fmt.Errorf("banner preview: %w", err)
	}
	return []byte(strings.Replace(b.code, placeholder, string(js), 1)), nil
}
