package admin

import (
	"fmt"
	"html"
	"html/template"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/samtycke/samtycke/server/internal/manage"
)

// getStats shows a period's statistics: charts drawn here as SVG (no
// chart library, no script), the numbers as tables, and a CSV link.
func (h *Handler) getStats(c *fiber.Ctx) error {
	from, to, err := period(c, h.Now())
	if err != nil {
		return err
	}
	st, err := h.Manager.Stats(ctx(c), siteOf(c), from, to)
	if err != nil {
		return err
	}
	v := h.newView(c, "Statistics")
	v.Tab = "stats"
	v.Data = map[string]any{"Stats": st, "From": from.Format(time.DateOnly), "To": to.Format(time.DateOnly),
		"Methods": manage.Methods, "DailyChart": dailyChart(st), "OptInChart": optInChart(st)}
	return h.render(c, "stats", v)
}

// dailyChart is a stacked bar per day, one colour per method.
func dailyChart(st *manage.Stats) template.HTML {
	const w, hgt, left, bottom, top = 640.0, 220.0, 44.0, 22.0, 8.0
	var peak uint64
	for _, d := range st.Days {
		peak = max(peak, d.Decisions)
	}
	scale := niceCeil(peak)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-labelledby="daily-title"><title id="daily-title">Decisions per day from %s to %s, %d in all; the numbers are in the table below.</title>`,
		w, hgt, st.From.Format(time.DateOnly), st.To.Format(time.DateOnly), st.Total)
	plotH := hgt - bottom - top
	for i := 0; i <= 4; i++ {
		y := top + plotH - plotH*float64(i)/4
		fmt.Fprintf(&b, `<line x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f" stroke="#e5e7eb"/><text x="%.0f" y="%.1f" text-anchor="end">%d</text>`,
			left, w, y, y, left-6, y+4, scale*uint64(i)/4)
	}
	n := len(st.Days)
	if n == 0 {
		b.WriteString(`</svg>`)
		return template.HTML(b.String())
	}
	slot := (w - left) / float64(n)
	bar := max(slot*0.7, 1)
	for i, d := range st.Days {
		x := left + float64(i)*slot + (slot-bar)/2
		y := top + plotH
		for _, m := range manage.Methods {
			v := d.Methods[m]
			if v == 0 || scale == 0 {
				continue
			}
			hh := plotH * float64(v) / float64(scale)
			y -= hh
			fmt.Fprintf(&b, `<rect class="m-%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s %s: %d</title></rect>`,
				m, x, y, bar, hh, d.Day.Format(time.DateOnly), m, v)
		}
		if i == 0 || i == n-1 || (n > 6 && i == n/2) {
			anchor := "middle"
			if i == 0 {
				anchor = "start"
			} else if i == n-1 {
				anchor = "end"
			}
			fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" text-anchor="%s">%s</text>`, x+bar/2, hgt-6, anchor, d.Day.Format("Jan 2"))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// optInChart is one horizontal bar per category: the share of decisions
// that granted it.
func optInChart(st *manage.Stats) template.HTML {
	if len(st.Categories) == 0 {
		return template.HTML(`<p class="empty">No decisions in this period.</p>`)
	}
	const w, row, label = 640.0, 34.0, 130.0
	hgt := row * float64(len(st.Categories))
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-labelledby="optin-title"><title id="optin-title">Share of decisions that granted each category.</title>`, w, hgt)
	for i, c := range st.Categories {
		y := float64(i) * row
		barW := (w - label - 60) * c.Rate
		fmt.Fprintf(&b, `<text x="0" y="%.1f">%s</text><rect class="bar-bg" x="%.0f" y="%.1f" width="%.0f" height="16" rx="3"/>`,
			y+20, html.EscapeString(c.Category), label, y+8, w-label-60)
		fmt.Fprintf(&b, `<rect class="bar-fg" x="%.0f" y="%.1f" width="%.1f" height="16" rx="3"/><text x="%.0f" y="%.1f" text-anchor="end">%.1f %%</text>`,
			label, y+8, barW, w, y+20, 100*c.Rate)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// niceCeil rounds up to 1, 2 or 5 times a power of ten, for axis labels.
func niceCeil(n uint64) uint64 {
	if n <= 4 {
		return 4
	}
	p := uint64(1)
	for p*10 < n {
		p *= 10
	}
	for _, m := range []uint64{1, 2, 4, 5, 10} {
		if m*p >= n {
			return m * p
		}
	}
	return 10 * p
}
