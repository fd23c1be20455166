package bundle

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// csvHeader is the header row of records.csv.
var csvHeader = recordsHeader

// csvBOM starts records.csv: without it Excel reads the UTF-8 as the
// system's 8-bit code page (å as Ã¥).
const csvBOM = "\ufeff"

// csvPreamble is what records.csv starts with: the BOM and the header row.
func csvPreamble() []byte { return csvPreambleOf(csvHeader) }

func csvPreambleOf(header []string) []byte { return writeCSV([]byte(csvBOM), header) }

// writeCSV appends one RFC 4180 line of neutralized cells (the header).
func writeCSV(buf []byte, cells []string) []byte {
	for i, c := range cells {
		buf = appendCell(buf, c, i > 0)
	}
	return append(buf, '\r', '\n')
}

// appendCell appends one cell, after a comma unless it is the first: a
// single quote in front when needsQuote says a spreadsheet could evaluate it
// (OWASP's advice), and, as RFC 4180 has it, in double quotes, quotes
// doubled, when it holds a comma, a quote, CR or LF. (encoding/csv's writer
// drops a CR inside a cell when it ends lines with CRLF.)
func appendCell[T string | []byte](buf []byte, c T, comma bool) []byte {
	if comma {
		buf = append(buf, ',')
	}
	quote := false
	for i := 0; i < len(c); i++ {
		if csvSpecial[c[i]] {
			quote = true
			break
		}
	}
	if quote {
		buf = append(buf, '"')
	}
	if needsQuote(c) {
		buf = append(buf, '\'')
	}
	if !quote {
		return append(buf, c...)
	}
	for i := 0; i < len(c); i++ {
		if c[i] == '"' {
			buf = append(buf, '"')
		}
		buf = append(buf, c[i])
	}
	return append(buf, '"')
}

// needsQuote is the one rule for the quote appendCell puts in front of a
// cell: the cell starts with a tab, CR or single quote, or its first
// character that shows is =, +, - or @. Characters that do not show are
// skipped first, because spreadsheets drop some of them and then evaluate
// what follows (LibreOffice does so with a NUL): controls (Cc: C0, DEL,
// C1), format characters (Cf: U+FEFF, U+200B–U+200D, U+2060, U+180E, bidi
// marks, soft hyphen, …), white space, the other default-ignorable
// characters (fillers, variation selectors) and bytes that are not UTF-8.
// A cell that starts with a quote always gets one more, so that restore can
// take exactly one away.
func needsQuote[T string | []byte](c T) bool {
	if len(c) == 0 {
		return false
	}
	switch leadOf[c[0]] {
	case leadText:
		return false
	case leadQuoted:
		return true
	}
	return needsQuoteAfter(c)
}

// needsQuoteAfter is needsQuote for a cell that starts with a character
// that may not show.
func needsQuoteAfter[T string | []byte](c T) bool {
	for i := 0; i < len(c); {
		if b := c[i]; b < utf8.RuneSelf {
			if b == '=' || b == '+' || b == '-' || b == '@' {
				return true
			}
			if b >= 0x20 && b != ' ' && b != 0x7f {
				return false
			}
			i++
			continue
		}
		var tmp [utf8.UTFMax]byte // no string of a []byte cell: no allocation
		r, n := utf8.DecodeRune(tmp[:copy(tmp[:], c[i:])])
		if r == utf8.RuneError && n == 1 || unicode.In(r, csvInvisible...) {
			i += n
			continue
		}
		return false
	}
	return false
}

var csvInvisible = []*unicode.RangeTable{unicode.Cc, unicode.Cf, unicode.White_Space,
	unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector}

// restore takes away the quote appendCell put in front of a cell, and
// refuses a cell appendCell cannot have written: one with a quote the writer
// would not have added, or without one it would have.
func restore(s string) (string, error) {
	if len(s) == 0 || leadOf[s[0]] == leadText { // most cells, decided here
		return s, nil
	}
	if s[0] == '\'' {
		if !needsQuote(s[1:]) {
			return "", errExtraQuote
		}
		return s[1:], nil
	}
	if needsQuote(s) {
		return "", errMissingQuote
	}
	return s, nil
}

var (
	errExtraQuote   = errors.New("it starts with a ' that the exporter adds only to a cell a spreadsheet could evaluate (or that starts with a tab, CR or ')")
	errMissingQuote = errors.New("a spreadsheet could evaluate it, and the exporter would have put a ' in front")
)

// lead classes of a cell's first byte, so that needsQuote decides most
// cells (a million rows of ~21) with one look-up.
const (
	leadText   = iota // decided: no quote
	leadQuoted        // decided: quote
	leadSkip          // may not show: look further
)

var (
	csvSpecial [256]bool
	leadOf     [256]uint8
	csvStop    [256]bool // where an unquoted cell ends or goes wrong
)

func init() {
	for _, b := range []byte(",\"\r\n") {
		csvSpecial[b] = true
		csvStop[b] = true
	}
	for b := range 256 {
		switch {
		case b == '=' || b == '+' || b == '-' || b == '@' || b == '\t' || b == '\r' || b == '\'':
			leadOf[b] = leadQuoted
		case b < 0x20 || b == ' ' || b >= 0x7f:
			leadOf[b] = leadSkip
		}
	}
}

// errCSVNotAsWritten is what readCSV's errors about the file's form wrap.
var errCSVNotAsWritten = errors.New("not as the exporter writes it")

// maxCSVRow bounds the bytes of one row, as eachRecord bounds an NDJSON
// line: ingest keeps a record far below it (4 KiB bodies).
const maxCSVRow = 1 << 20

// readCSV reads records.csv exactly as the exporter writes it, and nothing
// else, so that a file that reads is the file that was written: the BOM,
// the header row equal to header, every line ending in CRLF (the last too,
// and no blank line after it), a cell in double quotes if and only if it
// holds a comma, a quote, CR or LF, quotes in it doubled, and len(header)
// cells a row, each with the quote appendCell adds exactly where it adds it.
// For each row it calls fn with the physical line the row starts on
// (1-based, counting LFs as wc -l and sed do: the header is line 1) and the
// cells, their quote taken away. fn's error ends the reading and is
// returned as it is. The cells slice is reused for the next row: fn must
// copy it to keep it (the strings in it it may keep).
func readCSV(r io.Reader, header []string, fn func(line int, cells []string) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	want := csvPreambleOf(header)
	got := make([]byte, len(want))
	n, err := io.ReadFull(br, got)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return fmt.Errorf("records.csv: %w", err)
	}
	if !bytes.HasPrefix(got[:n], []byte(csvBOM)) {
		return fmt.Errorf("records.csv: %w: it does not start with the UTF-8 byte order mark (EF BB BF)", errCSVNotAsWritten)
	}
	if !bytes.Equal(got[:n], want) {
		return fmt.Errorf("records.csv line 1: %w: the header row is not %q", errCSVNotAsWritten, want[len(csvBOM):])
	}
	p := csvReader{br: br, header: header, line: 1,
		ends: make([]int, len(header)), cells: make([]string, len(header))}
	for {
		line := p.line + 1
		if err := p.row(); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		for i, c := range p.cells {
			if p.cells[i], err = restore(c); err != nil {
				return p.cellErr(line, i, err.Error())
			}
		}
		if err := fn(line, p.cells); err != nil {
			return err
		}
	}
}

type csvReader struct {
	br     *bufio.Reader
	header []string
	line   int    // physical lines read so far
	long   []byte // a line longer than br's buffer
	size   int    // bytes of the row so far
	out    []byte // the row's cells unquoted, end to end
	ends   []int  // where each cell ends in out
	cells  []string
}

// physLine returns the next physical line, its LF included; io.EOF at the
// end of the file.
func (p *csvReader) physLine(rowLine int) ([]byte, error) {
	b, err := p.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		p.long = append(p.long[:0], b...)
		for err == bufio.ErrBufferFull && p.size+len(p.long) <= maxCSVRow {
			b, err = p.br.ReadSlice('\n')
			p.long = append(p.long, b...)
		}
		b = p.long
	}
	if p.size += len(b); p.size > maxCSVRow {
		return nil, p.rowErr(rowLine, "the row is longer than %d bytes", maxCSVRow)
	}
	switch {
	case err == nil:
		p.line++
		return b, nil
	case err == io.EOF && len(b) == 0:
		return nil, io.EOF
	case err == io.EOF:
		return nil, p.rowErr(p.line+1, "the file ends without CRLF after its last line (%q)", csvExcerpt(b))
	}
	return nil, fmt.Errorf("records.csv line %d: %w", p.line+1, err)
}

// row reads the next row into p.cells; io.EOF when there is none.
func (p *csvReader) row() error {
	rowLine := p.line + 1
	p.size = 0
	b, err := p.physLine(rowLine)
	if err != nil {
		return err
	}
	p.out = p.out[:0]
	n := 0 // cells read
	for i := 0; ; {
		start := len(p.out)
		if b[i] == '"' {
			doubled := false
			for i++; ; {
				j := bytes.IndexByte(b[i:], '"')
				if j < 0 { // the LF ending b is in the cell
					p.out = append(p.out, b[i:]...)
					if b, err = p.physLine(rowLine); err == io.EOF {
						return p.cellErr(rowLine, n, "the file ends inside its double quotes")
					} else if err != nil {
						return err
					}
					i = 0
					continue
				}
				p.out = append(p.out, b[i:i+j]...)
				if i += j + 1; b[i] != '"' { // b ends with LF: b[i] exists
					break
				}
				p.out = append(p.out, '"')
				i++
				doubled = true
			}
			if !doubled && !bytes.ContainsAny(p.out[start:], ",\r\n") {
				return p.cellErr(rowLine, n, "it is in double quotes but holds no comma, quote, CR or LF")
			}
		} else {
			j := csvNextStop(b, i)
			p.out = append(p.out, b[i:j]...)
			if i = j; b[i] == '"' {
				return p.cellErr(rowLine, n, "a double quote in a cell that is not in double quotes")
			}
		}
		if n == len(p.header) {
			return p.rowErr(rowLine, "more than %d cells", len(p.header))
		}
		p.ends[n] = len(p.out)
		n++
		switch {
		case b[i] == ',':
			i++
			continue
		case b[i] == '\r' && i+2 == len(b):
		case b[i] == '\r', b[i] == '\n':
			return p.rowErr(rowLine, "a line break that is not CRLF outside double quotes")
		default:
			return p.cellErr(rowLine, n-1, "text after its closing double quote")
		}
		break
	}
	if n < len(p.header) {
		if n == 1 && len(p.out) == 0 {
			return p.rowErr(rowLine, "a blank line")
		}
		return p.rowErr(rowLine, "%d cells, want %d", n, len(p.header))
	}
	s, prev := string(p.out), 0 // one string a row; the cells share it
	for k, end := range p.ends {
		p.cells[k], prev = s[prev:end], end
	}
	return nil
}

// csvNextStop is the index of the first comma, quote, CR or LF in b from i
// on, b ending with LF. Eight bytes at a time (SWAR): a byte-at-a-time loop
// took a third of readCSV's time.
func csvNextStop(b []byte, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	zero := func(v uint64) uint64 { return (v - ones) &^ v & highs } // exact up to the first zero byte
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		if m := zero(x^(','*ones)) | zero(x^('"'*ones)) | zero(x^('\r'*ones)) | zero(x^('\n'*ones)); m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for !csvStop[b[i]] {
		i++
	}
	return i
}

func (p *csvReader) rowErr(line int, format string, args ...any) error {
	return fmt.Errorf("records.csv line %d: %w: %s", line, errCSVNotAsWritten, fmt.Sprintf(format, args...))
}

func (p *csvReader) cellErr(line, cell int, why string) error {
	name := "beyond the header"
	if cell < len(p.header) {
		name = p.header[cell]
	}
	return fmt.Errorf("records.csv line %d, cell %d (%s): %w: %s", line, cell+1, name, errCSVNotAsWritten, why)
}

func csvExcerpt(b []byte) []byte {
	if len(b) > 40 {
		return b[:40]
	}
	return b
}

// appendJSONStrings appends json.Marshal of category IDs, without its cost
// on a million rows for the usual IDs ([a-z0-9_]: nothing to escape).
func appendJSONStrings(buf []byte, ss []string) []byte {
	for _, s := range ss {
		for i := 0; i < len(s); i++ {
			// Plain ASCII that json.Marshal writes as is; anything else
			// (escapes, HTML characters, non-ASCII) is left to it.
			if b := s[i]; b < 0x20 || b >= 0x7f || b == '"' || b == '\\' || b == '<' || b == '>' || b == '&' {
				j, _ := json.Marshal(ss) // []string always marshals
				return append(buf, j...)
			}
		}
	}
	buf = append(buf, '[')
	for i, s := range ss {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(append(append(buf, '"'), s...), '"')
	}
	return append(buf, ']')
}

func appendJSONBools(buf []byte, bs []bool) []byte {
	buf = append(buf, '[')
	for i, v := range bs {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = strconv.AppendBool(buf, v)
	}
	return append(buf, ']')
}
