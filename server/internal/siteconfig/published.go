package siteconfig

import (
	"encoding/json"
	"fmt"
)

// Published decodes a configuration that was validated when it was published
// (its hash already checked by the caller). It applies none of today's rules:
// a rule added in a later release (a language the banner has no words for, a
// stricter CSS or URL check) must not take a banner that visitors were shown
// off the air, nor make its evidence unreadable. Drafts and publishing go
// through Parse.
func Published(data []byte) (*Config, error) {
	var c Config
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("published configuration: %w", err)
	}
	return &c, nil
}
