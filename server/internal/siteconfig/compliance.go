package siteconfig

import (
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// MinTextContrast is WCAG 2.2's minimum contrast for text (1.4.3, AA).
const MinTextContrast = 4.5

// minBoundaryContrast is WCAG 2.2's minimum for a control against what
// surrounds it (1.4.11, non-text contrast).
const minBoundaryContrast = 3.0

// maxLabelRunes keeps every first-layer button on one line in the banner's
// narrowest layout (320 px, buttons stacked at full width, 15 px semibold):
// a label that wraps makes its button taller than the others.
const maxLabelRunes = 28

// compliance checks what regulators test on a first layer (PTS, IMY, EDPB
// cookie banner taskforce): Accept all and Reject all must be equally
// prominent and readable. Accept and Reject share one button style by
// construction, so what remains to compute is contrast and the labels.
func (c *Config) compliance() []Problem {
	var ps []Problem
	a := c.Appearance
	contrast := func(field, what string, fg, bg string, min float64, fix string) {
		r, ok := Contrast(fg, bg)
		if ok && r < min {
			ps = append(ps, Problem{field, fmt.Sprintf("%s: %s on %s gives a contrast of %.2f:1, and at least %.1f:1 is needed. %s",
				what, fg, bg, math.Floor(r*100)/100, min, fix)})
		}
	}
	contrast("/appearance/button_text", "The text of the Accept all, Reject all and Settings buttons", a.ButtonText, a.ButtonBackground,
		MinTextContrast, "Choose a darker button background or a lighter button text (or the reverse).")
	contrast("/appearance/text", "The banner's text", a.Text, a.Background, MinTextContrast,
		"Choose a text colour that stands out more from the background.")
	contrast("/appearance/button_background", "The buttons against the banner's background", a.ButtonBackground, a.Background, minBoundaryContrast,
		"Visitors must see the buttons as buttons: choose a button background that differs more from the banner's background.")
	for _, lang := range c.Languages {
		t, ok := c.Texts[lang]
		if !ok {
			continue
		}
		f := "/texts/" + lang
		for _, l := range []struct{ key, label string }{{"accept_all", t.AcceptAll}, {"reject_all", t.RejectAll}, {"settings", t.Settings}} {
			if n := utf8.RuneCountInString(l.label); n > maxLabelRunes {
				ps = append(ps, Problem{f + "/" + l.key, fmt.Sprintf("%q is %d characters; at most %d fit on one line on a small phone, and a longer label makes this button bigger than the others. Shorten it.", l.label, n, maxLabelRunes)})
			}
		}
		if t.AcceptAll == t.RejectAll || t.RejectAll == t.Settings || t.AcceptAll == t.Settings {
			ps = append(ps, Problem{f + "/reject_all", "Accept all, Reject all and Settings need three different labels, so that visitors can tell the choices apart."})
		}
	}
	return ps
}

// Contrast returns the WCAG contrast ratio of two #rrggbb colours (1 to 21),
// and false if either is not such a colour.
func Contrast(a, b string) (float64, bool) {
	la, ok1 := luminance(a)
	lb, ok2 := luminance(b)
	if !ok1 || !ok2 {
		return 0, false
	}
	return (math.Max(la, lb) + 0.05) / (math.Min(la, lb) + 0.05), true
}

// luminance is the relative luminance of a #rrggbb colour (WCAG 2.2).
func luminance(hex string) (float64, bool) {
	if len(hex) != 7 || hex[0] != '#' {
		return 0, false
	}
	v, err := strconv.ParseUint(hex[1:], 16, 32)
	if err != nil {
		return 0, false
	}
	ch := func(shift uint) float64 {
		c := float64((v>>shift)&0xff) / 255
		if c <= 0.04045 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	return 0.2126*ch(16) + 0.7152*ch(8) + 0.0722*ch(0), true
}
