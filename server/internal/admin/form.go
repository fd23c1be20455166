package admin

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"

	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

// The editor's form names each control by the JSON Pointer of its value
// ("/categories/1/title/en"), so the validator's problems land next to
// their fields. Banner texts are the exception: "/texts/<key>/<lang>", so
// that languages sit side by side.
//
// configFromForm rebuilds a configuration from such a form. Empty optional
// values are left out; a localized map with every language empty is left
// out, and one with some languages filled keeps the empty ones, so that the
// validator names the missing translations.

var (
	intFields  = map[string]bool{"/consent/lifetime_days": true, "/consent/retention_months": true, "/appearance/radius_px": true}
	listFields = map[string]bool{"/languages": true, "/allowed_origins": true}
	boolFields = map[string]bool{"/consent_mode/google": true, "/consent_mode/microsoft_uet": true}
)

func isLocalized(parts []string) bool {
	// /categories/N/{title,description,justification}/LANG
	// /items/N/{purpose,collects,third_party_access,justification}/LANG
	if len(parts) != 4 {
		return false
	}
	switch parts[0] {
	case "categories":
		return parts[2] == "title" || parts[2] == "description" || parts[2] == "justification"
	case "items":
		return parts[2] == "purpose" || parts[2] == "collects" || parts[2] == "third_party_access" || parts[2] == "justification"
	}
	return false
}

// configFromForm turns form values (name → value) into configuration JSON.
func configFromForm(form map[string]string) ([]byte, error) {
	root := map[string]any{}
	set := func(parts []string, v any) {
		m := root
		for _, p := range parts[:len(parts)-1] {
			next, ok := m[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[p] = next
			}
			m = next
		}
		m[parts[len(parts)-1]] = v
	}
	names := make([]string, 0, len(form))
	for k := range form {
		if strings.HasPrefix(k, "/") {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		v := strings.TrimSpace(form[name])
		parts := strings.Split(name[1:], "/")
		switch {
		case len(parts) == 3 && parts[0] == "texts":
			set([]string{"texts", parts[2], parts[1]}, v) // /texts/<key>/<lang>
		case intFields[name]:
			if v == "" {
				continue
			}
			n, err := strconv.Atoi(v)
			if err != nil {
				continue // left out: the validator names the missing value
			}
			set(parts, n)
		case listFields[name]:
			set(parts, splitList(v))
		case boolFields[name]:
			set(parts, v == "true")
		case name == "/consent/reload_on_withdraw":
			// The form sends a hidden "false" before the checkbox's "true";
			// true is the default and is left out.
			if v == "false" {
				set(parts, false)
			}
		case len(parts) == 4 && parts[0] == "items" && parts[2] == "third_country":
			switch parts[3] {
			case "transfer":
				set(parts, v == "true")
			case "countries":
				if l := splitList(strings.ToUpper(v)); len(l) > 0 {
					set(parts, l)
				}
			default:
				if v != "" {
					set(parts, v)
				}
			}
		case isLocalized(parts):
			set(parts, v) // kept even when empty; pruned below
		default:
			if v != "" {
				set(parts, v)
			}
		}
	}
	// Items whose transfer box is unticked send nothing for it.
	if items, ok := root["items"].(map[string]any); ok {
		for _, it := range items {
			if m, ok := it.(map[string]any); ok {
				tc, _ := m["third_country"].(map[string]any)
				if tc == nil {
					tc = map[string]any{}
					m["third_country"] = tc
				}
				if _, ok := tc["transfer"]; !ok {
					tc["transfer"] = false
				}
			}
		}
	}
	pruneLocalized(root)
	if cm, ok := root["consent_mode"].(map[string]any); ok {
		if _, ok := cm["google"]; !ok {
			cm["google"] = false
		}
		if cm["google"] == false && cm["microsoft_uet"] != true && cm["mapping"] == nil {
			delete(root, "consent_mode")
		}
	}
	for _, k := range []string{"categories", "items"} {
		root[k] = indexedToList(root[k])
	}
	for _, k := range []string{"consent", "appearance", "controller", "texts"} {
		if root[k] == nil {
			root[k] = map[string]any{}
		}
	}
	return json.Marshal(root)
}

func splitList(v string) []string {
	return append([]string{}, strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' || r == ' ' })...)
}

// pruneLocalized drops localized maps whose every language is empty.
func pruneLocalized(root map[string]any) {
	for _, list := range []string{"categories", "items"} {
		objs, _ := root[list].(map[string]any)
		for _, o := range objs {
			m, _ := o.(map[string]any)
			for k, v := range m {
				loc, ok := v.(map[string]any)
				if !ok || k == "third_country" {
					continue
				}
				empty := true
				for _, s := range loc {
					if s != "" {
						empty = false
					}
				}
				if empty {
					delete(m, k)
				}
			}
		}
	}
}

// indexedToList turns {"0": a, "2": b} into [a, b], in index order.
func indexedToList(v any) []any {
	m, _ := v.(map[string]any)
	type kv struct {
		i int
		v any
	}
	var xs []kv
	for k, x := range m {
		i, err := strconv.Atoi(k)
		if err != nil {
			continue
		}
		xs = append(xs, kv{i, x})
	}
	sort.Slice(xs, func(a, b int) bool { return xs[a].i < xs[b].i })
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x.v
	}
	return out
}

// applyOp applies an editor button (add or remove a category or item) to a
// lenient configuration.
func applyOp(c *siteconfig.Config, op string) {
	kind, arg, _ := strings.Cut(op, ":")
	i, _ := strconv.Atoi(arg)
	switch kind {
	case "add_category":
		c.Categories = append(c.Categories, siteconfig.Category{Title: siteconfig.Localized{}, Description: siteconfig.Localized{}})
	case "remove_category":
		if i > 0 && i < len(c.Categories) {
			c.Categories = append(c.Categories[:i], c.Categories[i+1:]...)
		}
	case "add_item":
		c.Items = append(c.Items, siteconfig.Item{Type: "cookie", Party: "first", Duration: "session", Category: siteconfig.NecessaryID})
	case "remove_item":
		if i >= 0 && i < len(c.Items) {
			c.Items = append(c.Items[:i], c.Items[i+1:]...)
		}
	}
}
