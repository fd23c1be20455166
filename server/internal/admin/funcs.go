package admin

import (
	"fmt"
	"html/template"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/samtycke/samtycke/server/internal/manage"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

// view is what every page template gets.
type view struct {
	Title, User, CSRF, Tab, Flash, Error string
	Site                                 *manage.Site
	Role                                 manage.Role
	Data                                 any

	problems []siteconfig.Problem // the editor's, shown next to their fields
	readOnly bool
	langs    []string
}

// Can reports whether the viewer's role allows a kind of action: edit,
// manage, audit.
func (v *view) Can(what string) bool {
	switch what {
	case "edit":
		return hasRole(manage.CanEdit, v.Role)
	case "manage":
		return hasRole(manage.CanManage, v.Role)
	case "audit":
		return hasRole(manage.CanAudit, v.Role)
	}
	return false
}

// errs returns the problems at name or below it, described relative to it.
func (v *view) errs(name string) []string {
	var out []string
	for _, p := range v.problems {
		if p.Field == name {
			out = append(out, p.Message)
		} else if rest, ok := strings.CutPrefix(p.Field, name+"/"); ok {
			out = append(out, rest+": "+p.Message)
		}
	}
	return out
}

// field is one form control of the editor.
type field struct {
	Name, Label, Value, Hint, Type string
	Options                        []string
	Checked, ReadOnly              bool
	Errs                           []string
	// Localized fields: one input per language.
	Map            siteconfig.Localized
	Langs          []string
	Required, Long bool
}

var missingRe = regexp.MustCompile(`^missing propert(?:y|ies) (.*)$`)
var quotedRe = regexp.MustCompile(`'([^']+)'`)

// placeProblems moves "missing property 'x'" from the object to the field
// x, where the editor shows it.
func placeProblems(ps []siteconfig.Problem) []siteconfig.Problem {
	out := make([]siteconfig.Problem, 0, len(ps))
	for _, p := range ps {
		if m := missingRe.FindStringSubmatch(p.Message); m != nil {
			for _, q := range quotedRe.FindAllStringSubmatch(m[1], -1) {
				out = append(out, siteconfig.Problem{Field: p.Field + "/" + q[1], Message: "required"})
			}
			continue
		}
		out = append(out, p)
	}
	return out
}

// fid turns a field name (a JSON Pointer) into an element id.
func fid(name string) string {
	return "f" + strings.NewReplacer("/", "-", "~", "_", " ", "_").Replace(name)
}

var textLabels = []struct {
	Key, Label string
	Long       bool
}{
	{"title", "Title", false}, {"description", "Text", true}, {"accept_all", "Accept all", false},
	{"reject_all", "Reject all", false}, {"settings", "Settings", false}, {"save", "Save choices", false},
	{"close", "Close", false}, {"always_on", "Always on", false}, {"withdraw", "Settings button", false},
	{"notice_link", "Cookie notice link", false},
}

func textValues(t siteconfig.Texts) map[string]string {
	return map[string]string{"title": t.Title, "description": t.Desc, "accept_all": t.AcceptAll, "reject_all": t.RejectAll,
		"settings": t.Settings, "save": t.Save, "close": t.Close, "always_on": t.AlwaysOn, "withdraw": t.Withdraw, "notice_link": t.NoticeLink}
}

// templateFuncs are the functions of every dashboard template; asset names
// a static file with its content hash, for caching forever.
func templateFuncs(asset func(string) string) template.FuncMap {
	text := func(v *view, name, label, value, hint string) field {
		return field{Name: name, Label: label, Value: value, Hint: hint, ReadOnly: v.readOnly, Errs: v.errs(name)}
	}
	return template.FuncMap{
		"asset": asset,
		"fid":   fid,
		"join":  strings.Join,
		"itoa":  strconv.Itoa,
		"inc":   func(n uint32) uint32 { return n + 1 },
		"intp": func(p *int) string {
			if p == nil {
				return ""
			}
			return strconv.Itoa(*p)
		},
		"short":   func(s string) string { return s[:min(12, len(s))] },
		"fmtTime": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") },
		"fmtDate": func(t time.Time) string { return t.UTC().Format(time.DateOnly) },
		"pct":     func(f float64) string { return fmt.Sprintf("%.1f %%", 100*f) },
		"methodLabel": func(m string) string {
			return map[string]string{"accept_all": "Accept all", "reject_all": "Reject all", "custom": "Custom",
				"withdraw": "Withdraw", "gpc": "GPC"}[m]
		},
		"text": text,
		"num": func(v *view, name, label, value, hint string) field {
			f := text(v, name, label, value, hint)
			f.Type = "number"
			return f
		},
		"color": func(v *view, name, label, value string) field {
			f := text(v, name, label, value, "#rrggbb")
			return f
		},
		"sel": func(v *view, name, label, value string, options []string, hint string) field {
			f := text(v, name, label, value, hint)
			f.Options = options
			return f
		},
		"chk": func(v *view, name, label string, checked bool, hint string) field {
			f := text(v, name, label, "", hint)
			f.Checked = checked
			return f
		},
		"loc": func(v *view, name, label string, m siteconfig.Localized, required, long bool, hint string) field {
			f := text(v, name, label, "", hint)
			f.Map, f.Langs, f.Required, f.Long = m, v.langs, required, long
			return f
		},
		"textloc": func(v *view, key, label string, long bool) field {
			d := v.Data.(*editorData)
			m := siteconfig.Localized{}
			for lang, t := range d.C.Texts {
				m[lang] = textValues(t)[key]
			}
			f := text(v, "/texts", label, "", "")
			f.Name = "/texts/" + key // rendered as /texts/<key>/<lang>, parsed back per language
			f.Errs = nil
			for _, lang := range v.langs {
				for _, e := range v.errs("/texts/" + lang + "/" + key) {
					f.Errs = append(f.Errs, lang+": "+e)
				}
			}
			f.Map, f.Langs, f.Required, f.Long = m, v.langs, true, long
			return f
		},
	}
}
