package manage

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode"

	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

// Change is one difference between two configurations, at a JSON Pointer.
// Old or New is empty when the value was added or removed.
type Change struct {
	Path string `json:"path"`
	Old  string `json:"old,omitempty"`
	New  string `json:"new,omitempty"`
}

// Diff lists the leaves that differ between two JSON documents, in path
// order. Arrays compare by index, which is how the editor addresses them.
func Diff(a, b []byte) []Change {
	fa, fb := map[string]string{}, map[string]string{}
	var va, vb any
	_ = json.Unmarshal(a, &va)
	_ = json.Unmarshal(b, &vb)
	flatten("", va, fa)
	flatten("", vb, fb)
	return diffLeaves(fa, fb)
}

func diffLeaves(fa, fb map[string]string) []Change {
	var out []Change
	for k, x := range fa {
		if y, ok := fb[k]; !ok || x != y {
			out = append(out, Change{Path: k, Old: x, New: fb[k]})
		}
	}
	for k, y := range fb {
		if _, ok := fa[k]; !ok {
			out = append(out, Change{Path: k, New: y})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

func flatten(prefix string, v any, out map[string]string) {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			flatten(prefix+"/"+strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1"), x, out)
		}
	case []any:
		for i, x := range t {
			flatten(fmt.Sprintf("%s/%d", prefix, i), x, out)
		}
	case string:
		out[prefix] = t
	case nil:
	default:
		b, _ := json.Marshal(t)
		out[prefix] = string(b)
	}
}

// ReadableDiff is a change of configuration as a person reads it: grouped
// by texts, categories, items, appearance and the site's settings, with
// the words that changed in texts. A first publish is a summary instead.
type ReadableDiff struct {
	First  *Summary    `json:"first_publish,omitempty"`
	Groups []DiffGroup `json:"groups"`
	// Fields counts the changed leaves (JSON Pointers), for a one-line total.
	Fields int `json:"fields"`
}

// Count is how many things changed: entries, or 1 for a first publish.
func (d *ReadableDiff) Count() int {
	if d.First != nil {
		return 1
	}
	n := 0
	for _, g := range d.Groups {
		n += len(g.Entries)
	}
	return n
}

// Summary is what a first publish puts online.
type Summary struct {
	Categories []string       `json:"categories"` // ids, in display order
	Items      int            `json:"items"`
	ItemTypes  map[string]int `json:"item_types"` // cookie: 3, local_storage: 1, …
	Languages  []string       `json:"languages"`
}

// DiffGroup is one part of the configuration.
type DiffGroup struct {
	Key     string      `json:"key"` // texts, categories, items, appearance, settings
	Title   string      `json:"title"`
	Entries []DiffEntry `json:"entries"`
}

// DiffEntry is one thing that changed: a language's texts, a category, an
// item, or a setting.
type DiffEntry struct {
	Kind    string        `json:"kind"` // added, removed, changed
	Subject string        `json:"subject"`
	Fields  []FieldChange `json:"fields"`
}

// FieldChange is one changed field of an entry. Words is set for texts:
// the new text with what was deleted and inserted marked.
type FieldChange struct {
	Field string   `json:"field"`
	Lang  string   `json:"lang,omitempty"`
	Old   string   `json:"old,omitempty"`
	New   string   `json:"new,omitempty"`
	Words []WordOp `json:"words,omitempty"`
}

// WordOp is a run of text that is kept ("="), inserted ("+") or deleted ("-").
type WordOp struct {
	Op   string `json:"op"`
	Text string `json:"text"`
}

// Group keys and titles, in the order they are shown.
var groupTitles = []struct{ key, title string }{
	{"texts", "Banner texts"},
	{"categories", "Categories"},
	{"items", "Cookies and other items"},
	{"appearance", "Appearance"},
	{"settings", "Site, consent and controller"},
}

// textFields are the fields whose values are prose: they get a word diff.
var textFields = map[string]bool{"title": true, "description": true, "justification": true, "purpose": true,
	"collects": true, "third_party_access": true, "accept_all": true, "reject_all": true, "settings": true,
	"save": true, "close": true, "always_on": true, "withdraw": true, "notice_link": true}

// ReadDiff compares two configurations (canonical or draft JSON) the way
// ReadableDiff describes. from is empty, "{}" or null for a first publish.
// Either may be invalid as long as it has the shape of a configuration;
// one that has not gives a diff of its leaves under "settings".
func ReadDiff(from, to []byte) *ReadableDiff {
	d := &ReadableDiff{Groups: []DiffGroup{}, Fields: len(Diff(orEmpty(from), to))}
	b, errB := LenientConfig(to)
	if first(from) && errB == nil {
		d.First = summarize(b)
		return d
	}
	a, errA := LenientConfig(orEmpty(from))
	if errA != nil || errB != nil {
		if cs := Diff(orEmpty(from), to); len(cs) > 0 {
			e := DiffEntry{Kind: "changed", Subject: "Configuration"}
			for _, c := range cs {
				e.Fields = append(e.Fields, FieldChange{Field: c.Path, Old: c.Old, New: c.New})
			}
			d.Groups = append(d.Groups, DiffGroup{Key: "settings", Title: "Site, consent and controller", Entries: []DiffEntry{e}})
		}
		return d
	}
	entries := map[string][]DiffEntry{
		"texts":      diffTexts(a, b),
		"categories": diffCategories(a, b),
		"items":      diffItems(a, b),
		"appearance": diffObject("Appearance", a.Appearance, b.Appearance),
		"settings":   diffSettings(a, b),
	}
	for _, g := range groupTitles {
		if es := entries[g.key]; len(es) > 0 {
			d.Groups = append(d.Groups, DiffGroup{Key: g.key, Title: g.title, Entries: es})
		}
	}
	return d
}

func orEmpty(js []byte) []byte {
	if first(js) {
		return []byte("{}")
	}
	return js
}

func first(js []byte) bool {
	s := strings.TrimSpace(string(js))
	return s == "" || s == "{}" || s == "null"
}

func summarize(c *siteconfig.Config) *Summary {
	s := &Summary{Categories: c.CategoryIDs(), Items: len(c.Items), ItemTypes: map[string]int{}, Languages: c.Languages}
	for _, it := range c.Items {
		s.ItemTypes[it.Type]++
	}
	if s.Languages == nil {
		s.Languages = []string{}
	}
	return s
}

// leaves flattens a value to its JSON Pointer leaves.
func leaves(v any) map[string]string {
	b, _ := json.Marshal(v)
	var x any
	_ = json.Unmarshal(b, &x)
	out := map[string]string{}
	flatten("", x, out)
	return out
}

// fieldChanges turns the leaf changes of one object into fields: a
// Localized value's last segment is its language.
func fieldChanges(a, b any) []FieldChange {
	var out []FieldChange
	cs := diffLeaves(leaves(a), leaves(b))
	// In the order the configuration has its fields (title before
	// description), not alphabetically.
	order, _ := json.Marshal(b)
	if len(leaves(b)) == 0 {
		order, _ = json.Marshal(a)
	}
	pos := func(path string) int {
		seg, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
		return strings.Index(string(order), `"`+seg+`":`)
	}
	sort.SliceStable(cs, func(i, j int) bool { return pos(cs[i].Path) < pos(cs[j].Path) })
	for _, c := range cs {
		segs := strings.Split(strings.TrimPrefix(c.Path, "/"), "/")
		f := FieldChange{Field: strings.Join(segs, " "), Old: c.Old, New: c.New}
		if len(segs) == 2 && textFields[segs[0]] {
			f.Field, f.Lang = segs[0], segs[1]
		}
		if f.Lang != "" || textFields[f.Field] {
			f.Words = WordDiff(c.Old, c.New)
		}
		f.Field = strings.ReplaceAll(f.Field, "_", " ")
		out = append(out, f)
	}
	return out
}

// diffObject is one entry for two values of the same kind, or nothing.
func diffObject(subject string, a, b any) []DiffEntry {
	if fs := fieldChanges(a, b); len(fs) > 0 {
		return []DiffEntry{{Kind: "changed", Subject: subject, Fields: fs}}
	}
	return nil
}

// added and removed entries list the fields of what came or went.
func wholeEntry(kind, subject string, v any) DiffEntry {
	var fs []FieldChange
	if kind == "added" {
		fs = fieldChanges(struct{}{}, v)
	} else {
		fs = fieldChanges(v, struct{}{})
	}
	for i := range fs {
		fs[i].Words = nil // nothing to compare: the whole text is new or gone
	}
	return DiffEntry{Kind: kind, Subject: subject, Fields: fs}
}

func diffTexts(a, b *siteconfig.Config) []DiffEntry {
	var out []DiffEntry
	for _, l := range unionKeys(a.Texts, b.Texts) {
		ta, inA := a.Texts[l]
		tb, inB := b.Texts[l]
		subject := LanguageName(l)
		switch {
		case !inA:
			out = append(out, wholeEntry("added", subject, tb))
		case !inB:
			out = append(out, wholeEntry("removed", subject, ta))
		default:
			out = append(out, diffObject(subject, ta, tb)...)
		}
	}
	return out
}

func diffCategories(a, b *siteconfig.Config) []DiffEntry {
	ia, ib := map[string]siteconfig.Category{}, map[string]siteconfig.Category{}
	var order []string
	for _, c := range a.Categories {
		ia[c.ID] = c
		order = append(order, c.ID)
	}
	for _, c := range b.Categories {
		ib[c.ID] = c
		if _, ok := ia[c.ID]; !ok {
			order = append(order, c.ID)
		}
	}
	var out []DiffEntry
	for _, id := range order {
		ca, inA := ia[id]
		cb, inB := ib[id]
		subject := "Category " + id
		switch {
		case !inA:
			out = append(out, wholeEntry("added", subject, cb))
		case !inB:
			out = append(out, wholeEntry("removed", subject, ca))
		default:
			out = append(out, diffObject(subject, ca, cb)...)
		}
	}
	if ids, jds := a.CategoryIDs(), b.CategoryIDs(); len(out) == 0 && strings.Join(ids, ",") != strings.Join(jds, ",") {
		out = append(out, DiffEntry{Kind: "changed", Subject: "Order of the categories",
			Fields: []FieldChange{{Field: "order", Old: strings.Join(ids, ", "), New: strings.Join(jds, ", ")}}})
	}
	return out
}

// itemKey identifies an item across versions: what the banner matches on.
func itemKey(it siteconfig.Item) string { return it.Type + "\x00" + it.Name + "\x00" + it.Domain }

// ItemLabel names an item for people: "cookie _ga (google.com)".
func ItemLabel(it siteconfig.Item) string {
	kind := strings.ReplaceAll(it.Type, "_", " ")
	s := kind + " " + it.Name
	if it.Domain != "" && it.Domain != it.Name {
		s += " (" + it.Domain + ")"
	}
	return s
}

func diffItems(a, b *siteconfig.Config) []DiffEntry {
	ia := map[string]siteconfig.Item{}
	for _, it := range a.Items {
		ia[itemKey(it)] = it
	}
	seen := map[string]bool{}
	var out []DiffEntry
	for _, it := range b.Items {
		k := itemKey(it)
		seen[k] = true
		old, ok := ia[k]
		if !ok {
			out = append(out, wholeEntry("added", ItemLabel(it), it))
			continue
		}
		out = append(out, diffObject(ItemLabel(it), old, it)...)
	}
	for _, it := range a.Items {
		if !seen[itemKey(it)] {
			out = append(out, wholeEntry("removed", ItemLabel(it), it))
		}
	}
	// The notice lists items in their order: a new order is a change too.
	if len(out) == 0 && len(a.Items) == len(b.Items) {
		var ka, kb []string
		for i := range a.Items {
			ka, kb = append(ka, a.Items[i].Name), append(kb, b.Items[i].Name)
		}
		if strings.Join(ka, "\x00") != strings.Join(kb, "\x00") {
			out = append(out, DiffEntry{Kind: "changed", Subject: "Order of the items",
				Fields: []FieldChange{{Field: "order", Old: strings.Join(ka, ", "), New: strings.Join(kb, ", ")}}})
		}
	}
	return out
}

func diffSettings(a, b *siteconfig.Config) []DiffEntry {
	type rest struct {
		Name            string                  `json:"name"`
		DefaultLanguage string                  `json:"default_language"`
		Languages       []string                `json:"languages"`
		AllowedOrigins  []string                `json:"allowed_origins"`
		Consent         siteconfig.Consent      `json:"consent"`
		ConsentMode     *siteconfig.ConsentMode `json:"consent_mode"`
	}
	pick := func(c *siteconfig.Config) rest {
		return rest{c.Name, c.DefaultLanguage, c.Languages, c.AllowedOrigins, c.Consent, c.ConsentMode}
	}
	var out []DiffEntry
	// Lists read better whole than by index.
	ra, rb := pick(a), pick(b)
	var list []FieldChange
	for _, l := range []struct {
		name string
		a, b []string
	}{{"languages", ra.Languages, rb.Languages}, {"allowed origins", ra.AllowedOrigins, rb.AllowedOrigins}} {
		if strings.Join(l.a, "\n") != strings.Join(l.b, "\n") {
			list = append(list, FieldChange{Field: l.name, Old: strings.Join(l.a, ", "), New: strings.Join(l.b, ", ")})
		}
	}
	ra.Languages, rb.Languages, ra.AllowedOrigins, rb.AllowedOrigins = nil, nil, nil, nil
	if fs := append(list, fieldChanges(ra, rb)...); len(fs) > 0 {
		out = append(out, DiffEntry{Kind: "changed", Subject: "Site and consent", Fields: fs})
	}
	return append(out, diffObject("Controller (named in the notice)", a.Controller, b.Controller)...)
}

func unionKeys[V any](a, b map[string]V) []string {
	var out []string
	for k := range a {
		out = append(out, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// LanguageName is a language code with its English name, when known.
func LanguageName(code string) string {
	names := map[string]string{"sv": "Swedish", "en": "English", "fi": "Finnish", "nb": "Norwegian Bokmål", "no": "Norwegian",
		"da": "Danish", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian", "nl": "Dutch", "pl": "Polish",
		"el": "Greek", "is": "Icelandic", "et": "Estonian", "lv": "Latvian", "lt": "Lithuanian", "pt": "Portuguese"}
	if n, ok := names[code]; ok {
		return n + " (" + code + ")"
	}
	return code
}

// maxWordCells bounds the word diff's table (words × words); longer texts
// are shown as replaced whole.
const maxWordCells = 1 << 20

// WordDiff marks what changed from a to b, word by word: the longest
// common subsequence of their words (a word keeps the spaces after it).
func WordDiff(a, b string) []WordOp {
	wa, wb := words(a), words(b)
	if len(wa)*len(wb) > maxWordCells {
		return mergeOps([]WordOp{{"-", a}, {"+", b}})
	}
	// lcs[i][j]: the longest common subsequence of wa[i:] and wb[j:].
	lcs := make([][]int, len(wa)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(wb)+1)
	}
	for i := len(wa) - 1; i >= 0; i-- {
		for j := len(wb) - 1; j >= 0; j-- {
			if wa[i] == wb[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var ops []WordOp
	i, j := 0, 0
	for i < len(wa) && j < len(wb) {
		switch {
		case wa[i] == wb[j]:
			ops = append(ops, WordOp{"=", wa[i]})
			i, j = i+1, j+1
		case lcs[i+1][j] >= lcs[i][j+1]:
			ops = append(ops, WordOp{"-", wa[i]})
			i++
		default:
			ops = append(ops, WordOp{"+", wb[j]})
			j++
		}
	}
	for ; i < len(wa); i++ {
		ops = append(ops, WordOp{"-", wa[i]})
	}
	for ; j < len(wb); j++ {
		ops = append(ops, WordOp{"+", wb[j]})
	}
	return mergeOps(ops)
}

// words splits s into runs of white space and runs of anything else.
func words(s string) []string {
	var out []string
	start, space := 0, false
	for i, r := range s {
		if sp := unicode.IsSpace(r); i == 0 {
			space = sp
		} else if sp != space {
			out = append(out, s[start:i])
			start, space = i, sp
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// mergeOps joins each stretch of changes into one deletion followed by one
// insertion, so "- old + new" reads in order. White space alone between
// two changes joins them: "a b" → "x y" is one replacement, not two.
func mergeOps(ops []WordOp) []WordOp {
	for i := 1; i+1 < len(ops); i++ {
		if ops[i].Op == "=" && strings.TrimSpace(ops[i].Text) == "" && ops[i-1].Op != "=" && ops[i+1].Op != "=" {
			ws := ops[i].Text
			ops = append(ops[:i], append([]WordOp{{"-", ws}, {"+", ws}}, ops[i+1:]...)...)
			i++
		}
	}
	var out []WordOp
	var del, ins strings.Builder
	flush := func() {
		if del.Len() > 0 {
			out = append(out, WordOp{"-", del.String()})
		}
		if ins.Len() > 0 {
			out = append(out, WordOp{"+", ins.String()})
		}
		del.Reset()
		ins.Reset()
	}
	for _, o := range ops {
		switch o.Op {
		case "-":
			del.WriteString(o.Text)
		case "+":
			ins.WriteString(o.Text)
		default:
			flush()
			if n := len(out); n > 0 && out[n-1].Op == "=" {
				out[n-1].Text += o.Text
			} else if o.Text != "" {
				out = append(out, o)
			}
		}
	}
	flush()
	return out
}

// TypeCounts says the item types in words: "3 cookies", "1 pixel".
func (s *Summary) TypeCounts() []string {
	names := map[string][2]string{"cookie": {"cookie", "cookies"}, "local_storage": {"local storage entry", "local storage entries"},
		"session_storage": {"session storage entry", "session storage entries"}, "indexeddb": {"IndexedDB database", "IndexedDB databases"},
		"pixel": {"pixel or script", "pixels and scripts"}}
	var out []string
	for _, t := range []string{"cookie", "local_storage", "session_storage", "indexeddb", "pixel"} {
		if n := s.ItemTypes[t]; n > 0 {
			w := names[t][1]
			if n == 1 {
				w = names[t][0]
			}
			out = append(out, fmt.Sprintf("%d %s", n, w))
		}
	}
	return out
}

// LanguageNames are the languages with their names.
func (s *Summary) LanguageNames() []string {
	out := make([]string, len(s.Languages))
	for i, l := range s.Languages {
		out[i] = LanguageName(l)
	}
	return out
}
