package manage_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/samtycke/samtycke/server/internal/demo"
	"github.com/samtycke/samtycke/server/internal/manage"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

func TestWordDiff(t *testing.T) {
	for _, tc := range []struct {
		name, a, b string
		want       []manage.WordOp
	}{
		{"same", "Vi använder cookies.", "Vi använder cookies.", []manage.WordOp{{Op: "=", Text: "Vi använder cookies."}}},
		{"one word replaced", "Vi använder kakor för statistik.", "Vi använder cookies för statistik.",
			[]manage.WordOp{{Op: "=", Text: "Vi använder "}, {Op: "-", Text: "kakor"}, {Op: "+", Text: "cookies"}, {Op: "=", Text: " för statistik."}}},
		{"inserted", "Accept all", "Accept all cookies",
			[]manage.WordOp{{Op: "=", Text: "Accept all"}, {Op: "+", Text: " cookies"}}},
		{"deleted at the start", "Please note: we use cookies", "we use cookies",
			[]manage.WordOp{{Op: "-", Text: "Please note: "}, {Op: "=", Text: "we use cookies"}}},
		{"from nothing", "", "Hej", []manage.WordOp{{Op: "+", Text: "Hej"}}},
		{"to nothing", "Hej då", "", []manage.WordOp{{Op: "-", Text: "Hej då"}}},
		{"two changes keep the middle", "a b c d e", "a x c d y",
			[]manage.WordOp{{Op: "=", Text: "a "}, {Op: "-", Text: "b"}, {Op: "+", Text: "x"}, {Op: "=", Text: " c d "}, {Op: "-", Text: "e"}, {Op: "+", Text: "y"}}},
		{"neighbouring words are one change", "a b c", "x y c",
			[]manage.WordOp{{Op: "-", Text: "a b"}, {Op: "+", Text: "x y"}, {Op: "=", Text: " c"}}},
		{"no-break space", "a b", "a c", []manage.WordOp{{Op: "=", Text: "a "}, {Op: "-", Text: "b"}, {Op: "+", Text: "c"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := manage.WordDiff(tc.a, tc.b)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("WordDiff(%q, %q)\n got %+v\nwant %+v", tc.a, tc.b, got, tc.want)
			}
			// Kept and deleted runs give back a, kept and inserted runs b.
			var a, b strings.Builder
			for _, o := range got {
				if o.Op != "+" {
					a.WriteString(o.Text)
				}
				if o.Op != "-" {
					b.WriteString(o.Text)
				}
			}
			if a.String() != tc.a || b.String() != tc.b {
				t.Errorf("the runs give %q and %q", a.String(), b.String())
			}
		})
	}
	// A text too long for the table is replaced whole, not diffed slowly.
	long := strings.Repeat("ord ", 2000)
	if got := manage.WordDiff(long, long+"x"); len(got) != 2 || got[0].Op != "-" || got[1].Op != "+" {
		t.Errorf("long texts: %d runs", len(got))
	}
}

func demoJSON(t *testing.T) (*siteconfig.Config, []byte) {
	t.Helper()
	c, err := demo.Config("https://consent.example.se")
	if err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return c, js
}

func TestReadDiffFirstPublishIsASummary(t *testing.T) {
	c, js := demoJSON(t)
	d := manage.ReadDiff(nil, js)
	if d.First == nil || len(d.Groups) != 0 {
		t.Fatalf("first publish: %+v", d)
	}
	if !reflect.DeepEqual(d.First.Categories, c.CategoryIDs()) || d.First.Items != len(c.Items) || !reflect.DeepEqual(d.First.Languages, c.Languages) {
		t.Errorf("summary %+v of %d categories, %d items, %v", d.First, len(c.Categories), len(c.Items), c.Languages)
	}
	n := 0
	for _, k := range d.First.ItemTypes {
		n += k
	}
	if n != len(c.Items) || len(d.First.TypeCounts()) == 0 {
		t.Errorf("item types %v", d.First.ItemTypes)
	}
	if d.Fields < 50 {
		t.Errorf("a first publish changes %d fields: the summary stands for them", d.Fields)
	}
	if got := manage.ReadDiff([]byte("{}"), js); got.First == nil {
		t.Error(`"{}" is a first publish too`)
	}
}

func TestReadDiffGroups(t *testing.T) {
	a, ajs := demoJSON(t)
	var b siteconfig.Config
	if err := json.Unmarshal(ajs, &b); err != nil {
		t.Fatal(err)
	}
	lang := a.Languages[0]
	tx := b.Texts[lang]
	tx.Title = tx.Title + " nu"
	b.Texts[lang] = tx
	b.Categories[1].Description = siteconfig.Localized{}
	for k, v := range a.Categories[1].Description {
		b.Categories[1].Description[k] = v
	}
	b.Categories[1].Description[lang] = "Ny text"
	removed := b.Items[0]
	b.Items = append(b.Items[1:], siteconfig.Item{Name: "_new", Type: "cookie", Provider: "X", Party: "first", Category: a.Categories[1].ID,
		Purpose: siteconfig.Localized{lang: "Nytt"}, Duration: "P1D"})
	b.Items[0].Duration = "P9D"
	b.Appearance.Background = "#000000"
	b.Controller.Email = "ny@example.se"
	b.AllowedOrigins = append(b.AllowedOrigins, "https://ny.example.se")
	bjs, err := json.Marshal(&b)
	if err != nil {
		t.Fatal(err)
	}

	d := manage.ReadDiff(ajs, bjs)
	if d.First != nil {
		t.Fatal("not a first publish")
	}
	groups := map[string]manage.DiffGroup{}
	var order []string
	for _, g := range d.Groups {
		groups[g.Key] = g
		order = append(order, g.Key)
	}
	if want := []string{"texts", "categories", "items", "appearance", "settings"}; !reflect.DeepEqual(order, want) {
		t.Fatalf("groups %v, want %v", order, want)
	}

	texts := groups["texts"].Entries
	if len(texts) != 1 || texts[0].Subject != manage.LanguageName(lang) || len(texts[0].Fields) != 1 {
		t.Fatalf("texts: %+v", texts)
	}
	if f := texts[0].Fields[0]; f.Field != "title" || !hasOp(f.Words, "+", "nu") {
		t.Errorf("title change: %+v", f)
	}

	cats := groups["categories"].Entries
	if len(cats) != 1 || cats[0].Subject != "Category "+a.Categories[1].ID {
		t.Fatalf("categories: %+v", cats)
	}
	if f := cats[0].Fields[0]; f.Field != "description" || f.Lang != lang || !hasOp(f.Words, "+", "Ny text") {
		t.Errorf("category description: %+v", f)
	}

	kinds := map[string]string{}
	for _, e := range groups["items"].Entries {
		kinds[e.Subject] = e.Kind
	}
	if kinds[manage.ItemLabel(removed)] != "removed" || kinds["cookie _new"] != "added" || kinds[manage.ItemLabel(b.Items[0])] != "changed" || len(kinds) != 3 {
		t.Errorf("items: %v", kinds)
	}

	if f := groups["appearance"].Entries[0].Fields; len(f) != 1 || f[0].Field != "background" || f[0].New != "#000000" || f[0].Words != nil {
		t.Errorf("appearance: %+v", f)
	}
	var settings []string
	for _, e := range groups["settings"].Entries {
		for _, f := range e.Fields {
			settings = append(settings, e.Subject+": "+f.Field)
		}
	}
	if want := []string{"Site and consent: allowed origins", "Controller (named in the notice): email"}; !reflect.DeepEqual(settings, want) {
		t.Errorf("settings %v, want %v", settings, want)
	}

	if same := manage.ReadDiff(ajs, ajs); len(same.Groups) != 0 || same.Fields != 0 {
		t.Errorf("no change: %+v", same)
	}
}

func hasOp(ops []manage.WordOp, op, text string) bool {
	for _, o := range ops {
		if o.Op == op && strings.TrimSpace(o.Text) == text {
			return true
		}
	}
	return false
}

// Every change shows somewhere: a new order of the items or categories
// alone is an entry, and fields keep the configuration's order.
func TestReadDiffOrderAndFieldOrder(t *testing.T) {
	a, ajs := demoJSON(t)
	var b siteconfig.Config
	if err := json.Unmarshal(ajs, &b); err != nil {
		t.Fatal(err)
	}
	if len(b.Items) < 2 {
		t.Fatal("the demo has fewer than two items")
	}
	b.Items[0], b.Items[1] = b.Items[1], b.Items[0]
	bjs, err := json.Marshal(&b)
	if err != nil {
		t.Fatal(err)
	}
	d := manage.ReadDiff(ajs, bjs)
	if d.Count() != 1 || d.Groups[0].Entries[0].Subject != "Order of the items" {
		t.Errorf("reordered items: %+v", d.Groups)
	}

	if err := json.Unmarshal(ajs, &b); err != nil {
		t.Fatal(err)
	}
	lang := a.Languages[0]
	tx := b.Texts[lang]
	tx.Title, tx.Desc, tx.AcceptAll = "T", "D", "A"
	b.Texts[lang] = tx
	if bjs, err = json.Marshal(&b); err != nil {
		t.Fatal(err)
	}
	var fields []string
	for _, f := range manage.ReadDiff(ajs, bjs).Groups[0].Entries[0].Fields {
		fields = append(fields, f.Field)
	}
	if want := []string{"title", "description", "accept all"}; !reflect.DeepEqual(fields, want) {
		t.Errorf("fields %v, want %v", fields, want)
	}
}
