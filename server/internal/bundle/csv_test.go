package bundle

import (
	"encoding/csv"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/samtycke/samtycke/server/internal/ledger"
)

// The fast path writes what json.Marshal writes, for every kind of ID.
func TestAppendJSONStrings(t *testing.T) {
	for _, ss := range [][]string{{}, {"necessary", "statistics_2"}, {"a<b"}, {"a&b"}, {"c>d"}, {"å"}, {"x\u2028y"}, {"tab\t"}, {"bad\xff"}, {`q"`, `b\`}, {"del\x7f"}} {
		want, err := json.Marshal(ss)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONStrings(nil, ss); string(got) != string(want) {
			t.Errorf("%q: %s, want %s", ss, got, want)
		}
	}
}

func TestAppendCell(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"plain", "plain"},
		{"a,b", `"a,b"`},
		{`say "hi"`, `"say ""hi"""`},
		{"two\r\nlines", "\"two\r\nlines\""},
		{"=1+1", "'=1+1"},
		{"@SUM(1,1)", `"'@SUM(1,1)"`},
		{"'quoted", "''quoted"},
		{"\r=1", "\"'\r=1\""},
		{"x=1", "x=1"},
	} {
		if got := string(appendCell(nil, c.in, false)); got != c.want {
			t.Errorf("%q: %q, want %q", c.in, got, c.want)
		}
	}
}

// A cell a spreadsheet would evaluate gets a quote in front, which restore
// takes away; other cells pass as they are.
func TestNeutralizedCellsRestore(t *testing.T) {
	for _, c := range []string{"=1+1", "+SUM(A1:A2)", "-2+3", "@SUM(1,1)", "\t=1", "\r=1", "'=1+1", `=HYPERLINK("http://x","y")`} {
		cells, err := csv.NewReader(strings.NewReader(string(appendCell(nil, c, false)) + "\r\n")).Read()
		if err != nil {
			t.Fatal(err)
		}
		if cells[0][0] != '\'' || restore(cells[0]) != c {
			t.Errorf("%q: written %q, restored %q", c, cells[0], restore(cells[0]))
		}
	}
	for _, c := range []string{"/", "sv", "", "necessary"} {
		if string(appendCell(nil, c, false)) != c || restore(c) != c {
			t.Errorf("%q was changed", c)
		}
	}
}

// A row written by appendRow reads back as the same row, whatever its cells
// hold. (But CRLF: encoding/csv reads it inside a quoted cell as LF; no cell
// holds one, as ingest keeps page URLs escaped.)
func TestCSVRowRoundTrip(t *testing.T) {
	r := ledger.Row{BatchID: "b", RecordID: "r", ConsentID: "c", EventID: `=HYPERLINK("http://x","y")`, Site: "demo",
		RecordedAt: "2026-03-10T12:00:00.000Z", ConfigVersion: 7, ConfigHash: "h", Lang: "sv", Categories: []string{"necessary", "a<b"},
		Granted: []bool{true, false}, Method: "custom", Source: "banner", GPC: true, UABrowser: "-x", UAOS: "+y", UADevice: "@z",
		IPPrefix: "192.0.2.0/24", PageOrigin: "https://shop.example", PagePath: "/a,b\n\"c\"\t'd\r"}
	var scratch []byte
	line := appendRow(nil, &r, &scratch)
	cells, err := csv.NewReader(strings.NewReader(string(line))).Read()
	if err != nil {
		t.Fatal(err)
	}
	got, err := rowOfCSV(cells)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, r) {
		t.Errorf("read back\n%+v\nwant\n%+v\nfrom %q", got, r, line)
	}
}
