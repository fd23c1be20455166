// Package siteconfig defines a site's configuration (the Go mirror of
// schemas/site-config.schema.json), validates it, and describes published,
// immutable versions of it.
package siteconfig

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"time"
)

// NecessaryID is the category that is always granted and cannot be refused.
const NecessaryID = "necessary"

var siteIDRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// ValidSiteID reports whether id has the form of a site id: lowercase letters,
// digits and hyphens, at most 63 characters.
func ValidSiteID(id string) bool { return siteIDRe.MatchString(id) }

// Localized is one text per language code.
type Localized map[string]string

// Config is a site configuration. Field order and names follow the JSON
// Schema; encoding/json writes struct fields in order and map keys sorted, so
// Canonical is deterministic.
type Config struct {
	Name            string           `json:"name"`
	DefaultLanguage string           `json:"default_language"`
	Languages       []string         `json:"languages"`
	AllowedOrigins  []string         `json:"allowed_origins"`
	Consent         Consent          `json:"consent"`
	Categories      []Category       `json:"categories"`
	Items           []Item           `json:"items"`
	Texts           map[string]Texts `json:"texts"`
	Appearance      Appearance       `json:"appearance"`
	ConsentMode     *ConsentMode     `json:"consent_mode,omitempty"`
	Controller      Controller       `json:"controller"`
}

// Consent holds how long a choice and a consent record are kept, and what
// the banner does on a refusal.
type Consent struct {
	LifetimeDays    int    `json:"lifetime_days"`
	RetentionMonths int    `json:"retention_months"`
	CookieDomain    string `json:"cookie_domain,omitempty"`
	// ReloadOnWithdraw, when false, keeps the page after a decision that
	// refuses a category whose scripts ran on it (the site stops its
	// trackers itself); nil means true, the default.
	ReloadOnWithdraw *bool `json:"reload_on_withdraw,omitempty"`
}

// ReloadsOnWithdraw reports whether the banner reloads the page after a
// refusal of a category whose scripts ran on it.
func (c Consent) ReloadsOnWithdraw() bool { return c.ReloadOnWithdraw == nil || *c.ReloadOnWithdraw }

// Category is a purpose the visitor can grant or refuse.
type Category struct {
	ID            string    `json:"id"`
	Title         Localized `json:"title"`
	Description   Localized `json:"description"`
	Justification Localized `json:"justification,omitempty"`
}

// Item is a cookie or similar storage (local/session storage, IndexedDB,
// pixel) the site uses.
type Item struct {
	Name             string       `json:"name"`
	Pattern          string       `json:"pattern,omitempty"`
	Type             string       `json:"type"`
	Provider         string       `json:"provider"`
	Party            string       `json:"party"`
	Domain           string       `json:"domain,omitempty"`
	Category         string       `json:"category"`
	Purpose          Localized    `json:"purpose"`
	Collects         Localized    `json:"collects,omitempty"`
	ThirdPartyAccess Localized    `json:"third_party_access,omitempty"`
	Justification    Localized    `json:"justification,omitempty"`
	Duration         string       `json:"duration"`
	ThirdCountry     ThirdCountry `json:"third_country"`
}

// ThirdCountry says whether an item's data leaves the EU/EEA, and under what
// safeguard.
type ThirdCountry struct {
	Transfer  bool     `json:"transfer"`
	Countries []string `json:"countries,omitempty"`
	Safeguard string   `json:"safeguard,omitempty"`
}

// Texts are the banner's strings in one language.
type Texts struct {
	Title      string `json:"title"`
	Desc       string `json:"description"`
	AcceptAll  string `json:"accept_all"`
	RejectAll  string `json:"reject_all"`
	Settings   string `json:"settings"`
	Save       string `json:"save"`
	Close      string `json:"close"`
	AlwaysOn   string `json:"always_on"`
	Withdraw   string `json:"withdraw"`
	NoticeLink string `json:"notice_link"`
}

// Appearance is how the banner looks. Accept and reject share one button
// style by construction.
type Appearance struct {
	Position         string `json:"position"`
	Background       string `json:"background"`
	Text             string `json:"text"`
	ButtonBackground string `json:"button_background"`
	ButtonText       string `json:"button_text"`
	FontFamily       string `json:"font_family,omitempty"`
	RadiusPx         *int   `json:"radius_px,omitempty"`
	FloatingButton   string `json:"floating_button,omitempty"`
}

// ConsentMode configures Google Consent Mode v2 and Microsoft UET signals.
type ConsentMode struct {
	Google       bool              `json:"google"`
	MicrosoftUET bool              `json:"microsoft_uet,omitempty"`
	Mapping      map[string]string `json:"mapping,omitempty"`
}

// Controller is the data controller named in the cookie notice.
type Controller struct {
	Name             string `json:"name"`
	OrgNumber        string `json:"org_number,omitempty"`
	Address          string `json:"address,omitempty"`
	Email            string `json:"email"`
	Phone            string `json:"phone,omitempty"`
	DPOEmail         string `json:"dpo_email,omitempty"`
	PrivacyPolicyURL string `json:"privacy_policy_url,omitempty"`
}

// CategoryIDs returns the category ids in display order.
func (c *Config) CategoryIDs() []string {
	ids := make([]string, len(c.Categories))
	for i, cat := range c.Categories {
		ids[i] = cat.ID
	}
	return ids
}

// HasLanguage reports whether lang is one of the configured languages.
func (c *Config) HasLanguage(lang string) bool {
	for _, l := range c.Languages {
		if l == lang {
			return true
		}
	}
	return false
}

// AllowsOrigin reports whether pages of origin may embed the banner.
func (c *Config) AllowsOrigin(origin string) bool {
	for _, o := range c.AllowedOrigins {
		if o == origin {
			return true
		}
	}
	return false
}

// Canonical returns the configuration's canonical JSON, the bytes that are
// stored and hashed.
func (c *Config) Canonical() ([]byte, error) { return json.Marshal(c) }

// Hash is the hex SHA-256 of canonical JSON.
func Hash(canonical []byte) string {
	sum := sha256.Sum256(canonical)
	return hex.EncodeToString(sum[:])
}

// Version is a published, immutable configuration. JSON holds the exact bytes
// whose SHA-256 is Hash, so an auditor can re-check it.
type Version struct {
	Site        string
	Number      uint32
	Hash        string
	JSON        []byte
	Config      *Config
	PublishedAt time.Time
	PublishedBy string
	Note        string
}
