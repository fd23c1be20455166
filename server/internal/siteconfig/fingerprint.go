package siteconfig

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// Fingerprint identifies the consent-relevant content of a configuration:
// what the visitor is asked to agree to (categories, items, texts in every
// language) and who asks (the controller). A visitor who chose under a
// version with another fingerprint is asked again; a change of appearance,
// allowed origins, retention or Consent Mode mapping keeps the fingerprint,
// so it does not re-prompt. 16 hex digits: short enough for the cookie.
func (c *Config) Fingerprint() string {
	b, err := json.Marshal(struct {
		Languages  []string         `json:"languages"`
		Categories []Category       `json:"categories"`
		Items      []Item           `json:"items"`
		Texts      map[string]Texts `json:"texts"`
		Controller Controller       `json:"controller"`
	}{c.Languages, c.Categories, c.Items, c.Texts, c.Controller})
	if err != nil {
		panic("siteconfig: fingerprint: " + err.Error()) // plain structs of strings and ints always marshal
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}
