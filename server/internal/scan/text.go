package scan

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// words are the report's words in its two languages.
var words = map[string]map[string]string{
	"en": {
		"scan":           "Scan %s of site %s, configuration version %d",
		"summary":        "%s · %.1f s · %d pages before consent, %d after Accept all · %s downloaded · banner %s",
		"found":          "found",
		"notfound":       "NOT FOUND",
		"limits":         "Stopped early: the %s limit was reached; the report covers what was scanned.",
		"findings":       "Findings: %d undeclared, %d pre-consent, %d unseen",
		"items":          "ITEMS SEEN",
		"itemshead":      "FINDING\tTYPE\tNAME\tDOMAIN\tPARTY\tDECLARED AS\tBEFORE\tAFTER\tEXPIRES\t",
		"suggest":        "? suggest %s, %s, %s",
		"session":        "session",
		"hosts":          "THIRD-PARTY HOSTS",
		"hostshead":      "FINDING\tHOST\tREQUESTS\tPROVIDER\tCATEGORY\tDECLARED\tBEFORE\tAFTER\t",
		"unseentitle":    "DECLARED, NEVER SEEN",
		"unseenhd":       "TYPE\tNAME\tDOMAIN\tCATEGORY\t",
		"refused":        "REFUSED",
		"skipped":        "NOT PAGES, NOT VISITED (extension or Content-Type)",
		"pages":          "PAGES",
		"error":          "error: ",
		"yes":            "yes",
		"no":             "no",
		"ok":             "ok",
		"sugg":           "SUGGESTED DECLARATIONS (check them; JSON in the report with --json)",
		"sugghead":       "TYPE\tNAME\tPATTERN\tPROVIDER\tCATEGORY\tDURATION\t",
		"pass:" + Before: "before consent",
		"pass:" + After:  "after Accept all",
		Undeclared:       "undeclared",
		PreConsent:       "pre-consent",
		Unseen:           "unseen",
		"limit:pages":    "pages", "limit:time": "time", "limit:bytes": "bytes",
	},
	"sv": {
		"scan":           "Skanning %s av webbplatsen %s, konfigurationsversion %d",
		"summary":        "%s · %.1f s · %d sidor före samtycke, %d efter Godkänn alla · %s hämtat · bannern %s",
		"found":          "hittad",
		"notfound":       "SAKNAS",
		"limits":         "Avbröts i förtid: gränsen för %s nåddes; rapporten gäller det som skannades.",
		"findings":       "Fynd: %d odeklarerade, %d före samtycke, %d aldrig sedda",
		"items":          "SEDDA COOKIES OCH LAGRING",
		"itemshead":      "FYND\tTYP\tNAMN\tDOMÄN\tPART\tDEKLARERAD SOM\tFÖRE\tEFTER\tUPPHÖR\t",
		"suggest":        "? förslag %s, %s, %s",
		"session":        "session",
		"hosts":          "TREDJEPARTSVÄRDAR",
		"hostshead":      "FYND\tVÄRD\tANROP\tLEVERANTÖR\tKATEGORI\tDEKLARERAD\tFÖRE\tEFTER\t",
		"unseentitle":    "DEKLARERADE, ALDRIG SEDDA",
		"unseenhd":       "TYP\tNAMN\tDOMÄN\tKATEGORI\t",
		"refused":        "VÄGRADE",
		"skipped":        "INTE SIDOR, INTE BESÖKTA (filändelse eller Content-Type)",
		"pages":          "SIDOR",
		"error":          "fel: ",
		"yes":            "ja",
		"no":             "nej",
		"ok":             "ok",
		"sugg":           "FÖRESLAGNA DEKLARATIONER (granska dem; JSON i rapporten med --json)",
		"sugghead":       "TYP\tNAMN\tMÖNSTER\tLEVERANTÖR\tKATEGORI\tLIVSLÄNGD\t",
		"pass:" + Before: "före samtycke",
		"pass:" + After:  "efter Godkänn alla",
		Undeclared:       "odeklarerad",
		PreConsent:       "före samtycke",
		Unseen:           "aldrig sedd",
		"limit:pages":    "sidor", "limit:time": "tid", "limit:bytes": "byte",
	},
}

// WriteText prints the report as terminal tables in its language: findings
// first, then everything observed, third parties, declared items never
// seen, suggested declarations, what was refused or skipped, and the pages.
func WriteText(w io.Writer, r *Report) error {
	lang := r.Lang
	if _, ok := words[lang]; !ok {
		lang = "en"
	}
	t := func(k string) string {
		if s, ok := words[lang][k]; ok {
			return s
		}
		return k
	}
	before, after := 0, 0
	for _, p := range r.Pages {
		if p.Pass == Before {
			before++
		} else {
			after++
		}
	}
	fmt.Fprintf(w, t("scan")+"\n", r.ID, r.Site, r.ConfigVersion)
	fmt.Fprintf(w, t("summary")+"\n", r.StartedAt.Format(time.RFC3339), float64(r.DurationMS)/1000, before, after, size(r.Bytes),
		yesNo(r.BannerFound, t("found"), t("notfound")))
	if len(r.Limits) > 0 {
		var ls []string
		for _, l := range r.Limits {
			ls = append(ls, t("limit:"+l))
		}
		fmt.Fprintf(w, t("limits")+"\n", strings.Join(ls, ", "))
	}
	fmt.Fprintf(w, "\n"+t("findings")+"\n", r.Counts[Undeclared], r.Counts[PreConsent], r.Counts[Unseen])

	finding := func(fs []string) string {
		if len(fs) == 0 {
			return t("ok")
		}
		out := make([]string, len(fs))
		for i, f := range fs {
			out[i] = t(f)
		}
		return strings.Join(out, ",")
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	section := func(title string) { fmt.Fprintf(tw, "\n%s\n", title) }
	section(t("items"))
	fmt.Fprintln(tw, t("itemshead"))
	for _, o := range r.Items {
		decl := "-"
		if o.Declared != nil {
			decl = o.Declared.Category + " (" + o.Declared.Name + ")"
		} else if o.Suggestion != nil {
			decl = fmt.Sprintf(t("suggest"), o.Suggestion.Category, o.Suggestion.Provider, o.Suggestion.Duration)
		}
		exp := t("session")
		if o.Expires != nil {
			exp = o.Expires.Format("2006-01-02")
		} else if o.Type != "cookie" {
			exp = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", finding(o.Findings), o.Type, o.Name, o.Domain, o.Party, decl,
			yesNo(o.BeforeConsent, t("yes"), "-"), yesNo(o.AfterConsent, t("yes"), "-"), exp)
	}
	if len(r.ThirdParties) > 0 {
		section(t("hosts"))
		fmt.Fprintln(tw, t("hostshead"))
		for _, h := range r.ThirdParties {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t\n", finding(h.Findings), h.Host, h.Requests, dash(h.Provider), dash(h.Category),
				yesNo(h.Declared, t("yes"), t("no")), yesNo(h.BeforeConsent, t("yes"), "-"), yesNo(h.AfterConsent, t("yes"), "-"))
		}
	}
	if len(r.Unseen) > 0 {
		section(t("unseentitle"))
		fmt.Fprintln(tw, t("unseenhd"))
		for _, d := range r.Unseen {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", d.Type, d.Name, dash(d.Domain), d.Category)
		}
	}
	if len(r.Suggestions) > 0 {
		section(t("sugg"))
		fmt.Fprintln(tw, t("sugghead"))
		for _, s := range r.Suggestions {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", s.Type, s.Name, dash(s.Pattern), s.Provider, s.Category, s.Duration)
		}
	}
	for _, l := range []struct {
		title string
		list  []Refusal
	}{{t("refused"), r.Refused}, {t("skipped"), r.Skipped}} {
		if len(l.list) > 0 {
			section(l.title)
			for _, x := range l.list {
				fmt.Fprintf(tw, "%s\t%s\t\n", x.URL, x.Reason)
			}
		}
	}
	section(t("pages"))
	for _, p := range r.Pages {
		status := fmt.Sprint(p.Status)
		if p.Error != "" {
			status = t("error") + p.Error
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t\n", t("pass:"+p.Pass), p.URL, status)
	}
	return tw.Flush()
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
