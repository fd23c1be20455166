package scan

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText prints the report as terminal tables: findings first, then
// everything observed, third parties, declared items never seen, and what
// was refused.
func WriteText(w io.Writer, r *Report) error {
	before, after := 0, 0
	for _, p := range r.Pages {
		if p.Pass == Before {
			before++
		} else {
			after++
		}
	}
	fmt.Fprintf(w, "Scan %s of site %s, configuration version %d\n", r.ID, r.Site, r.ConfigVersion)
	fmt.Fprintf(w, "%s · %.1f s · %d pages before consent, %d after Accept all · %s downloaded · banner %s\n",
		r.StartedAt.Format(time.RFC3339), float64(r.DurationMS)/1000, before, after, size(r.Bytes), yesNo(r.BannerFound, "found", "NOT FOUND"))
	if len(r.Limits) > 0 {
		fmt.Fprintf(w, "Stopped early: the %s limit was reached; the report covers what was scanned.\n", strings.Join(r.Limits, ", "))
	}
	fmt.Fprintf(w, "\nFindings: %d undeclared, %d pre-consent, %d unseen\n", r.Counts[Undeclared], r.Counts[PreConsent], r.Counts[Unseen])

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	section := func(title string) { fmt.Fprintf(tw, "\n%s\n", title) }
	section("ITEMS SEEN")
	fmt.Fprintln(tw, "FINDING\tTYPE\tNAME\tDOMAIN\tPARTY\tDECLARED AS\tBEFORE\tAFTER\tEXPIRES\t")
	for _, o := range r.Items {
		decl := "-"
		if o.Declared != nil {
			decl = o.Declared.Category + " (" + o.Declared.Name + ")"
		} else if o.Suggestion != nil {
			decl = "? suggest " + o.Suggestion.Category + ", " + o.Suggestion.Provider + ", " + o.Suggestion.Duration
		}
		exp := "session"
		if o.Expires != nil {
			exp = o.Expires.Format("2006-01-02")
		} else if o.Type != "cookie" {
			exp = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", finding(o.Findings), o.Type, o.Name, o.Domain, o.Party, decl,
			yesNo(o.BeforeConsent, "yes", "-"), yesNo(o.AfterConsent, "yes", "-"), exp)
	}
	if len(r.ThirdParties) > 0 {
		section("THIRD-PARTY HOSTS")
		fmt.Fprintln(tw, "FINDING\tHOST\tREQUESTS\tPROVIDER\tCATEGORY\tDECLARED\tBEFORE\tAFTER\t")
		for _, t := range r.ThirdParties {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t\n", finding(t.Findings), t.Host, t.Requests, dash(t.Provider), dash(t.Category),
				yesNo(t.Declared, "yes", "no"), yesNo(t.BeforeConsent, "yes", "-"), yesNo(t.AfterConsent, "yes", "-"))
		}
	}
	if len(r.Unseen) > 0 {
		section("DECLARED, NEVER SEEN")
		fmt.Fprintln(tw, "TYPE\tNAME\tDOMAIN\tCATEGORY\t")
		for _, d := range r.Unseen {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", d.Type, d.Name, dash(d.Domain), d.Category)
		}
	}
	if len(r.Refused) > 0 {
		section("REFUSED")
		for _, x := range r.Refused {
			fmt.Fprintf(tw, "%s\t%s\t\n", x.URL, x.Reason)
		}
	}
	section("PAGES")
	for _, p := range r.Pages {
		status := fmt.Sprint(p.Status)
		if p.Error != "" {
			status = "error: " + p.Error
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t\n", p.Pass, p.URL, status)
	}
	return tw.Flush()
}

func finding(fs []string) string {
	if len(fs) == 0 {
		return "ok"
	}
	return strings.Join(fs, ",")
}

func yesNo(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func size(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}
