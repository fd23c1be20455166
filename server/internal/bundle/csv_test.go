package bundle

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

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
		{"-2", "'-2"},
		{"\tx", "'\tx"},
		{"\x00=1+1", "'\x00=1+1"},
		{"\ufeff=1+1", "'\ufeff=1+1"},
		{"\u200b+1+1", "'\u200b+1+1"},
		{"\x01@SUM(1,1)", "\"'\x01@SUM(1,1)\""},
		{"\x00x", "\x00x"},
		{"\u200bx", "\u200bx"},
		{"å=1", "å=1"},
	} {
		if got := string(appendCell(nil, c.in, false)); got != c.want {
			t.Errorf("%q: %q, want %q", c.in, got, c.want)
		}
		if got := string(appendCell(nil, []byte(c.in), true)); got != ","+c.want {
			t.Errorf("%q as []byte: %q, want %q", c.in, got, ","+c.want)
		}
	}
}

// csvLeads are characters a cell may start with that do not show, and that
// a spreadsheet may drop before it looks for a formula.
func csvLeads() []string {
	var l []string
	for b := range 0x20 {
		l = append(l, string(rune(b)))
	}
	l = append(l, "\x7f")
	for r := rune(0x80); r <= 0x9f; r++ {
		l = append(l, string(r))
	}
	return append(l, "\ufeff", "\u200b", "\u200c", "\u200d", "\u2060", "\u180e", "\u00ad", "\u200e", "\u202e",
		" ", "\u00a0", "\u3000", "\u2028", "\u3164", "\u034f", "\ufe0f", "\xff", "\xc3", "\u200b\x00\ufeff \t")
}

// writtenCell is the cell's text as a CSV reader sees it: the RFC 4180
// quotes taken away, the neutralising quote kept.
func writtenCell(c string) string {
	w := string(appendCell(nil, c, false))
	if strings.HasPrefix(w, `"`) {
		return strings.ReplaceAll(w[1:len(w)-1], `""`, `"`)
	}
	return w
}

// A cell gets a quote at its very front when, after the characters that do
// not show, it starts with = + - @, or when it starts with tab, CR or '.
func TestCSVCellNeutralized(t *testing.T) {
	type tc struct {
		in   string
		want bool
	}
	var cases []tc
	for _, lead := range csvLeads() {
		for _, f := range []string{"=1+1", "+1+1", "-2+3", "@SUM(1;1)", `=HYPERLINK("http://x","y")`} {
			cases = append(cases, tc{lead + f, true})
		}
		// Followed by what shows and is no formula: a quote only for the
		// leads that are a formula start themselves.
		for _, f := range []string{"x", "1", "å", "'=1"} {
			cases = append(cases, tc{lead + f, lead[0] == '\t' || lead[0] == '\r'})
		}
	}
	for _, c := range []string{"'", "''", "'x", "\t", "\r", "\tx", "\rx", "=", "+", "-", "@"} {
		cases = append(cases, tc{c, true})
	}
	for _, c := range []string{"", "x=1", "1-2", "å-1", `["a","b"]`, "/=1", "\u200b", "\x00", "\ufeff"} {
		cases = append(cases, tc{c, false})
	}
	for _, c := range cases {
		want := c.in
		if c.want {
			want = "'" + c.in
		}
		if got := writtenCell(c.in); got != want {
			t.Errorf("%q is written %q, want %q", c.in, got, want)
		}
		back, err := restore(want)
		if err != nil || back != c.in {
			t.Errorf("%q restores as %q, %v; want %q", want, back, err, c.in)
		}
	}
}

// restore takes exactly the one quote the writer adds, and refuses a cell
// the writer cannot have written.
func TestCellRestore(t *testing.T) {
	for _, c := range []struct{ in, want, err string }{
		{"plain", "plain", ""},
		{"", "", ""},
		{"'=1+1", "=1+1", ""},
		{"''quoted", "'quoted", ""},
		{"'''", "''", ""},
		{"'\x00=1", "\x00=1", ""},
		{"'\tx", "\tx", ""},
		{"\u200bx", "\u200bx", ""},
		{"=1+1", "", "would have put a '"},
		{"\x00=1+1", "", "would have put a '"},
		{"\u2060-1", "", "would have put a '"},
		{"\tx", "", "would have put a '"},
		{"'x", "", "starts with a '"},
		{"'", "", "starts with a '"},
		{"'\u200bx", "", "starts with a '"},
	} {
		got, err := restore(c.in)
		if c.err == "" && (err != nil || got != c.want) {
			t.Errorf("restore(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
		if c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
			t.Errorf("restore(%q) = %q, %v; want an error with %q", c.in, got, err, c.err)
		}
	}
}

// nastyCells are cells for the round trip: every lead before formulas and
// before text, the characters CSV quotes, and bytes that are not UTF-8.
func nastyCells() []string {
	cells := []string{"", ",", `"`, `""`, "a,b", `say "hi"`, "\r", "\n", "\r\n", "\n\r", "two\r\nlines", "a\nb", "a\rb",
		"\r\n=1", "\"=1+1\"", "'", "''", "'x", "'=1", "å ä ö", "Ååäö,\"ÖÄ\"\r\n", "\xff\xfe", "bad\xffutf8", "\xc3",
		`=HYPERLINK("http://x","y")`, "x=1", "-", "-2", strings.Repeat("é", 1000),
		strings.Repeat(`a"b,`, 40<<10), // longer than the reader's buffer, quoted
		strings.Repeat("z", 100<<10),   // longer than the reader's buffer, unquoted
		strings.Repeat("\r\n", 300)}
	for _, lead := range csvLeads() {
		for _, f := range []string{"=1+1", "+1", "-1", "@SUM(1;1)", "x", "", ",x", "\"x", "\r\n"} {
			cells = append(cells, lead+f)
		}
	}
	return cells
}

// writeRows is records.csv as the exporter writes it, and the line each row
// starts on.
func writeRows(header []string, rows [][]string) ([]byte, []int) {
	b := csvPreambleOf(header)
	var lines []int
	line := 2
	for _, row := range rows {
		lines = append(lines, line)
		start := len(b)
		b = writeCSV(b, row)
		line += bytes.Count(b[start:], []byte("\n"))
	}
	return b, lines
}

type readRow struct {
	line  int
	cells []string
}

func readAll(data []byte, header []string) ([]readRow, error) {
	var got []readRow
	err := readCSV(bytes.NewReader(data), header, func(line int, cells []string) error {
		got = append(got, readRow{line, slices.Clone(cells)})
		return nil
	})
	return got, err
}

// Every cell, in every position of a row, reads back as it was, each row
// on its line.
func TestCSVCellRoundTrip(t *testing.T) {
	header := []string{"a", "b", "c"}
	cells := nastyCells()
	var rows [][]string
	for i := range cells {
		rows = append(rows, []string{cells[i], cells[(i+1)%len(cells)], cells[(i+2)%len(cells)]})
	}
	data, lines := writeRows(header, rows)
	got, err := readAll(data, header)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(rows) {
		t.Fatalf("%d rows read, want %d", len(got), len(rows))
	}
	for i, r := range got {
		if r.line != lines[i] || !slices.Equal(r.cells, rows[i]) {
			t.Errorf("row %d: line %d %q, want line %d %q", i, r.line, r.cells, lines[i], rows[i])
		}
	}
	// A file without rows, and the real header through csvPreamble.
	if got, err := readAll(csvPreambleOf(header), header); err != nil || len(got) != 0 {
		t.Errorf("header only: %v, %v", got, err)
	}
	row := make([]string, len(csvHeader))
	for i := range row {
		row[i] = cells[(i*7)%len(cells)]
	}
	data = writeCSV(csvPreamble(), row)
	if !bytes.HasPrefix(data, []byte("\xef\xbb\xbf"+csvHeader[0]+",")) {
		t.Errorf("records.csv starts %q", data[:20])
	}
	if got, err := readAll(data, csvHeader); err != nil || len(got) != 1 || !slices.Equal(got[0].cells, row) {
		t.Errorf("with csvHeader: %v, %v", got, err)
	}
}

// Only what the exporter writes reads.
func TestReadCSVRefuses(t *testing.T) {
	header := []string{"a", "b", "c"}
	pre := string(csvPreambleOf(header))
	for _, c := range []struct{ name, in, want string }{
		{"missing BOM", "a,b,c\r\nx,y,z\r\n", "records.csv: not as the exporter writes it: it does not start with the UTF-8 byte order mark"},
		{"empty file", "", "byte order mark"},
		{"BOM only", csvBOM, "records.csv line 1: not as the exporter writes it: the header row is not"},
		{"two BOMs", csvBOM + pre, "line 1: not as the exporter writes it: the header row"},
		{"other header", csvBOM + "a,b,d\r\nx,y,z\r\n", "line 1: not as the exporter writes it: the header row"},
		{"header quoted", csvBOM + "\"a\",b,c\r\n", "line 1: not as the exporter writes it: the header row"},
		{"header ends LF", csvBOM + "a,b,c\nx,y,z\n", "line 1: not as the exporter writes it: the header row"},
		{"LF line end", pre + "x,y,z\n", "records.csv line 2: not as the exporter writes it: a line break that is not CRLF"},
		{"LF line end, quoted last cell", pre + "x,y,\"z,\"\n", "line 2: not as the exporter writes it: a line break that is not CRLF"},
		{"CR line end", pre + "x,y,z\rx,y,z\r\n", "line 2: not as the exporter writes it: a line break that is not CRLF"},
		{"LF in an unquoted cell", pre + "x,y\nz,w\r\n", "line 2: not as the exporter writes it: a line break that is not CRLF"},
		{"CR in an unquoted cell", pre + "x\ry,y,z\r\n", "line 2: not as the exporter writes it: a line break that is not CRLF"},
		{"unnecessary quotes", pre + "\"x\",y,z\r\n", "records.csv line 2, cell 1 (a): not as the exporter writes it: it is in double quotes but holds no comma"},
		{"empty cell quoted", pre + "x,\"\",z\r\n", "line 2, cell 2 (b): not as the exporter writes it: it is in double quotes"},
		{"neutralized cell quoted", pre + "x,y,\"'=1\"\r\n", "line 2, cell 3 (c): not as the exporter writes it: it is in double quotes"},
		{"neutralising quote missing", pre + "x,=1+1,z\r\n", "line 2, cell 2 (b): not as the exporter writes it: a spreadsheet could evaluate it"},
		{"neutralising quote missing after NUL", pre + "x,y,\x00=1+1\r\n", "line 2, cell 3 (c): not as the exporter writes it: a spreadsheet could evaluate it"},
		{"neutralising quote missing after BOM", pre + "\ufeff@SUM(1;1),y,z\r\n", "line 2, cell 1 (a): not as the exporter writes it: a spreadsheet could evaluate it"},
		{"neutralising quote missing, quoted cell", pre + "x,\"-1,2\",z\r\n", "line 2, cell 2 (b): not as the exporter writes it: a spreadsheet could evaluate it"},
		{"neutralising quote missing before tab", pre + "\tx,y,z\r\n", "line 2, cell 1 (a): not as the exporter writes it: a spreadsheet could evaluate it"},
		{"neutralising quote after what does not show", pre + "\u200b'=1,y,z\r\n\u200b=1,y,z\r\n", "line 3, cell 1 (a): not as the exporter writes it: a spreadsheet"},
		{"quote where none is needed", pre + "x,'y,z\r\n", "line 2, cell 2 (b): not as the exporter writes it: it starts with a '"},
		{"quote alone", pre + "x,y,'\r\n", "line 2, cell 3 (c): not as the exporter writes it: it starts with a '"},
		{"quote before what does not show", pre + "'\u200bx,y,z\r\n", "line 2, cell 1 (a): not as the exporter writes it: it starts with a '"},
		{"quote where none is needed, quoted cell", pre + "\"'x,y\",y,z\r\n", "line 2, cell 1 (a): not as the exporter writes it: it starts with a '"},
		{"short row", pre + "x,y,z\r\nx,y\r\n", "records.csv line 3: not as the exporter writes it: 2 cells, want 3"},
		{"long row", pre + "x,y,z,w\r\n", "line 2: not as the exporter writes it: more than 3 cells"},
		{"trailing comma", pre + "x,y,z,\r\n", "line 2: not as the exporter writes it: more than 3 cells"},
		{"blank line at the end", pre + "x,y,z\r\n\r\n", "line 3: not as the exporter writes it: a blank line"},
		{"blank line between rows", pre + "\r\nx,y,z\r\n", "line 2: not as the exporter writes it: a blank line"},
		{"last line without CRLF", pre + "x,y,z", "line 2: not as the exporter writes it: the file ends without CRLF"},
		{"trailing garbage", pre + "x,y,z\r\ngarbage", "line 3: not as the exporter writes it: the file ends without CRLF"},
		{"trailing NUL", pre + "x,y,z\r\n\x00", "line 3: not as the exporter writes it: the file ends without CRLF"},
		{"bare quote in an unquoted cell", pre + "x,y\"y,z\r\n", "line 2, cell 2 (b): not as the exporter writes it: a double quote in a cell that is not in double quotes"},
		{"bare quote deep in a long cell", pre + "x,y,abcdefghijklmnopq\"rstuvwxyz\r\n", "line 2, cell 3 (c): not as the exporter writes it: a double quote in a cell that is not in double quotes"},
		{"CR deep in a long cell", pre + "abcdefghijklmnopq\rrstuvwxyz,y,z\r\n", "line 2: not as the exporter writes it: a line break that is not CRLF"},
		{"space before the opening quote", pre + " \"a,b\",y,z\r\n", "line 2, cell 1 (a): not as the exporter writes it: a double quote in a cell that is not"},
		{"quote inside not doubled", pre + "\"a,\"b,c\",y,z\r\n", "line 2, cell 1 (a): not as the exporter writes it: text after its closing double quote"},
		{"space after the closing quote", pre + "x,\"a,b\" ,z\r\n", "line 2, cell 2 (b): not as the exporter writes it: text after its closing double quote"},
		{"quote never closed", pre + "x,y,\"z,\r\n", "line 2, cell 3 (c): not as the exporter writes it: the file ends inside its double quotes"},
		{"quote never closed, no CRLF", pre + "x,y,\"z,", "line 2: not as the exporter writes it: the file ends without CRLF"},
		{"line counted after a cell of lines", pre + "\"a\r\nb\n\rc\",y,z\r\n=1,y,z\r\n", "records.csv line 5, cell 1 (a): not as the exporter writes it: a spreadsheet"},
		{"row too long", pre + strings.Repeat("x", maxCSVRow+1) + ",y,z\r\n", "line 2: not as the exporter writes it: the row is longer than"},
		{"row of lines too long", pre + "\"" + strings.Repeat("x\r\n", maxCSVRow/3+1) + "\",y,z\r\n", "line 2: not as the exporter writes it: the row is longer than"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rows := 0
			err := readCSV(strings.NewReader(c.in), header, func(int, []string) error { rows++; return nil })
			if !errors.Is(err, errCSVNotAsWritten) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%.80q: %v, want an error with %q", c.in, err, c.want)
			}
		})
	}
}

// fn's error ends the reading as it is; the cells slice is one for all
// rows, and the strings in it stay.
func TestReadCSVCallback(t *testing.T) {
	header := []string{"a", "b"}
	data, _ := writeRows(header, [][]string{{"1", "x,y"}, {"2", "=2"}, {"3", "z"}})
	var first *string
	var kept []string
	stop := errors.New("stop")
	err := readCSV(bytes.NewReader(data), header, func(line int, cells []string) error {
		if first == nil {
			first = &cells[0]
		} else if &cells[0] != first {
			t.Errorf("line %d: a new cells slice", line)
		}
		kept = append(kept, cells[1])
		if cells[0] == "2" {
			return stop
		}
		return nil
	})
	if err != stop {
		t.Errorf("err = %v, want fn's error as it is", err)
	}
	if !slices.Equal(kept, []string{"x,y", "=2"}) {
		t.Errorf("kept %q", kept)
	}
	if err := readCSV(iotest.ErrReader(errors.New("disk on fire")), header, func(int, []string) error { return nil }); err == nil || errors.Is(err, errCSVNotAsWritten) {
		t.Errorf("a failing reader: %v", err)
	}
}

// A record written by appendRecordCSV reads back as the same record,
// whatever its cells hold.
func TestCSVRowRoundTrip(t *testing.T) {
	r := Record{Log: "demo@i", Leaf: 42, Row: ledger.Row{RecordID: "r", ConsentID: "c", EventID: `=HYPERLINK("http://x","y")`, Site: "demo",
		RecordedAt: "2026-03-10T12:00:00.000Z", ConfigVersion: 7, ConfigHash: "h", Lang: "sv", Categories: []string{"necessary", "a<b"},
		Granted: []bool{true, false}, Method: "custom", Source: "banner", GPC: true, UABrowser: "-x", UAOS: "\x00+y", UADevice: "\ufeff@z",
		IPPrefix: "192.0.2.0/24", PageOrigin: "https://shop.example", PagePath: "/a,b\n\"c\"\t'd\r\n"}}
	var scratch []byte
	data := appendRecordCSV(csvPreamble(), &r, &scratch)
	n := 0
	err := readCSV(bytes.NewReader(data), csvHeader, func(line int, cells []string) error {
		n++
		got, err := recordOfCSV(cells)
		if err != nil {
			return err
		}
		if line != 2 || !reflect.DeepEqual(got, r) {
			t.Errorf("line %d read back\n%+v\nwant\n%+v\nfrom %q", line, got, r, data)
		}
		return nil
	})
	if err != nil || n != 1 {
		t.Errorf("%d rows, %v", n, err)
	}
}

// Whatever reads is what the writer writes: the cells read, written again,
// are the same bytes.
func FuzzReadCSV(f *testing.F) {
	header := []string{"a", "b", "c"}
	pre := string(csvPreambleOf(header))
	for _, s := range []string{pre, pre + "x,y,z\r\n", pre + "'=1,\"a,b\",\r\n", pre + "\"a\"\"b\",'',\"\r\n\"\r\n",
		pre + "x,\"\",z\r\n", pre + "=1,y,z\r\n", pre + "x,y,z\n", pre + "x,y\r\n\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var again []byte
		err := readCSV(bytes.NewReader(data), header, func(_ int, cells []string) error {
			again = writeCSV(again, cells)
			return nil
		})
		if err != nil {
			return
		}
		if again = append(csvPreambleOf(header), again...); !bytes.Equal(again, data) {
			t.Errorf("%q reads, but its cells are written %q", data, again)
		}
	})
}

// Whatever a cell holds, it reads back.
func FuzzCSVCell(f *testing.F) {
	for _, c := range nastyCells()[:80] {
		f.Add(c, "x", "\x00=1")
	}
	header := []string{"a", "b", "c"}
	f.Fuzz(func(t *testing.T, a, b, c string) {
		data, _ := writeRows(header, [][]string{{a, b, c}, {c, a, b}})
		got, err := readAll(data, header)
		if err != nil {
			t.Fatalf("%q: %v", data, err)
		}
		if len(got) != 2 || !slices.Equal(got[0].cells, []string{a, b, c}) || !slices.Equal(got[1].cells, []string{c, a, b}) {
			t.Errorf("%q, %q, %q read back as %v", a, b, c, got)
		}
	})
}

// benchCSV is records.csv of n rows as the exporter writes them: two
// quoted JSON cells a row, and 1 row in 50 with a cell to neutralize and a
// path to quote.
func benchCSV(n int) ([]byte, []string) {
	header := make([]string, 21)
	for i := range header {
		header[i] = fmt.Sprintf("column_%d", i)
	}
	buf := csvPreambleOf(header)
	at := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	for i := range n {
		path, browser := fmt.Sprintf("/products/%d?ref=news", i), "Firefox"
		if i%50 == 0 {
			path, browser = `/a,b"c"`, "=HYPERLINK(\"http://x\",\"y\")"
		}
		row := []string{fmt.Sprintf("0195f3a2-7c1e-7d3b-9a4f-%012x", i/1000), fmt.Sprintf("0195f3a2-8d2f-7e4c-ab50-%012x", i),
			fmt.Sprintf("0195f3a2-9e30-7f5d-bc61-%012x", i/3), fmt.Sprintf("ev-%d", i), "demo", at.Add(time.Duration(i) * time.Millisecond).Format(ledger.TimeLayout),
			"7", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "sv", `["necessary","statistics","marketing"]`,
			"[true,false,true]", "custom", "banner", "false", browser, "Linux", "desktop", "192.0.2.0/24", "https://shop.example", path, "2028-03-10"}
		buf = writeCSV(buf, row)
	}
	return buf, header
}

// BenchmarkReadCSV reads the same records.csv with readCSV and, for
// comparison, with encoding/csv (which checks far less: no canonical form,
// no neutralising quotes).
func BenchmarkReadCSV(b *testing.B) {
	const n = 100_000
	data, header := benchCSV(n)
	b.Run("readCSV", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			rows := 0
			if err := readCSV(bytes.NewReader(data), header, func(int, []string) error { rows++; return nil }); err != nil || rows != n {
				b.Fatalf("%d rows, %v", rows, err)
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("encoding-csv", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			cr := csv.NewReader(bytes.NewReader(data))
			cr.ReuseRecord = true
			rows := -1 // the header
			for {
				_, err := cr.Read()
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				rows++
			}
			if rows != n {
				b.Fatalf("%d rows", rows)
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}
