package siteconfig_test

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

func TestContrast(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want float64
	}{
		{"#000000", "#ffffff", 21},
		{"#ffffff", "#ffffff", 1},
		{"#ffffff", "#1d4ed8", 6.70},
		{"#767676", "#ffffff", 4.54},
	} {
		got, ok := siteconfig.Contrast(tt.a, tt.b)
		if !ok || math.Abs(got-tt.want) > 0.01 {
			t.Errorf("Contrast(%s, %s) = %.3f, want %.2f", tt.a, tt.b, got, tt.want)
		}
	}
	if _, ok := siteconfig.Contrast("red", "#ffffff"); ok {
		t.Error("a named colour is not #rrggbb")
	}
}

// A configuration that breaks equal prominence or contrast is refused with a
// message that names the colours, the ratio and what to do.
func TestComplianceRefusesUnreadableOrUnequalBanners(t *testing.T) {
	for name, tt := range map[string]struct {
		edit      func(c *siteconfig.Config)
		field     string
		wantWords string
	}{
		"pale buttons": {func(c *siteconfig.Config) { c.Appearance.ButtonBackground = "#9ca3af" }, "/appearance/button_text", "contrast of 2.53:1, and at least 4.5:1"},
		"grey text":    {func(c *siteconfig.Config) { c.Appearance.Text = "#aaaaaa" }, "/appearance/text", "and at least 4.5:1 is needed"},
		"invisible buttons": {func(c *siteconfig.Config) {
			c.Appearance.ButtonBackground, c.Appearance.ButtonText = "#fafafa", "#111111"
		}, "/appearance/button_background", "see the buttons as buttons"},
		"long reject label": {func(c *siteconfig.Config) {
			tx := c.Texts["sv"]
			tx.RejectAll = "Fortsätt utan att godkänna några cookies"
			c.Texts["sv"] = tx
		}, "/texts/sv/reject_all", "makes this button bigger"},
		"same labels": {func(c *siteconfig.Config) {
			tx := c.Texts["en"]
			tx.RejectAll = tx.AcceptAll
			c.Texts["en"] = tx
		}, "/texts/en/reject_all", "three different labels"},
	} {
		t.Run(name, func(t *testing.T) {
			c := demoConfig(t)
			tt.edit(c)
			b, err := json.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			_, err = siteconfig.Parse(b)
			var ie *siteconfig.InvalidError
			if !errors.As(err, &ie) {
				t.Fatalf("want *InvalidError, got %v", err)
			}
			ps := ie.Problems
			for _, p := range ps {
				if p.Field == tt.field && strings.Contains(p.Message, tt.wantWords) {
					return
				}
			}
			t.Fatalf("want a problem at %s saying %q, got %+v", tt.field, tt.wantWords, ps)
		})
	}
}
