package bundle

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/samtycke/samtycke/server/internal/ledger"
)

// csvHeader is the header row of records.csv. categories and granted hold
// JSON arrays.
var csvHeader = []string{"batch_id", "record_id", "consent_id", "event_id", "site", "recorded_at", "config_version", "config_hash",
	"lang", "categories", "granted", "method", "source", "gpc", "ua_browser", "ua_os", "ua_device", "ip_prefix",
	"page_origin", "page_path", "retain_until"}

// restore takes away the quote that appendCell puts in front of a cell a
// spreadsheet would evaluate.
func restore(s string) string {
	if strings.HasPrefix(s, "'") {
		return s[1:]
	}
	return s
}

// appendRow appends r as one line of records.csv. A million rows go
// through here, so cells are written straight into buf: no string per cell.
func appendRow(buf []byte, r *ledger.Row, scratch *[]byte) []byte {
	for i, c := range []string{r.BatchID, r.RecordID, r.ConsentID, r.EventID, r.Site, r.RecordedAt} {
		buf = appendCell(buf, c, i > 0)
	}
	buf = strconv.AppendUint(append(buf, ','), uint64(r.ConfigVersion), 10)
	buf = appendCell(buf, r.ConfigHash, true)
	buf = appendCell(buf, r.Lang, true)
	*scratch = appendJSONStrings((*scratch)[:0], r.Categories)
	buf = appendCell(buf, *scratch, true)
	*scratch = appendJSONBools((*scratch)[:0], r.Granted)
	buf = appendCell(buf, *scratch, true)
	buf = appendCell(buf, r.Method, true)
	buf = appendCell(buf, r.Source, true)
	buf = strconv.AppendBool(append(buf, ','), r.GPC)
	for _, c := range []string{r.UABrowser, r.UAOS, r.UADevice, r.IPPrefix, r.PageOrigin, r.PagePath, r.RetainUntil} {
		buf = appendCell(buf, c, true)
	}
	return append(buf, '\r', '\n')
}

// rowOfCSV parses one data line of records.csv.
func rowOfCSV(cells []string) (ledger.Row, error) {
	if len(cells) != len(csvHeader) {
		return ledger.Row{}, fmt.Errorf("%d cells, want %d", len(cells), len(csvHeader))
	}
	c := make([]string, len(cells))
	for i := range cells {
		c[i] = restore(cells[i])
	}
	r := ledger.Row{BatchID: c[0], RecordID: c[1], ConsentID: c[2], EventID: c[3], Site: c[4], RecordedAt: c[5],
		ConfigHash: c[7], Lang: c[8], Method: c[11], Source: c[12], UABrowser: c[14], UAOS: c[15], UADevice: c[16],
		IPPrefix: c[17], PageOrigin: c[18], PagePath: c[19], RetainUntil: c[20]}
	v, err := strconv.ParseUint(c[6], 10, 32)
	if err != nil {
		return r, fmt.Errorf("config_version %q", c[6])
	}
	r.ConfigVersion = uint32(v)
	if err := json.Unmarshal([]byte(c[9]), &r.Categories); err != nil {
		return r, fmt.Errorf("categories %q", c[9])
	}
	if err := json.Unmarshal([]byte(c[10]), &r.Granted); err != nil {
		return r, fmt.Errorf("granted %q", c[10])
	}
	if r.GPC, err = strconv.ParseBool(c[13]); err != nil {
		return r, fmt.Errorf("gpc %q", c[13])
	}
	return r, nil
}

// writeCSV writes one RFC 4180 line of neutralized cells (the header).
func writeCSV(buf []byte, cells []string) []byte {
	for i, c := range cells {
		buf = appendCell(buf, c, i > 0)
	}
	return append(buf, '\r', '\n')
}

// appendCell appends one cell, after a comma unless it is the first. A
// spreadsheet evaluates a cell that starts with =, +, -, @, tab or CR, so
// such a cell gets a single quote in front (OWASP's advice); one that starts
// with a quote gets one more, so that restore can take exactly one away and
// the CSV still verifies. As RFC 4180 has it, a cell is quoted when it holds
// a comma, a quote, CR or LF, quotes doubled. (encoding/csv's writer drops a
// CR inside a cell when it ends lines with CRLF.)
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
	if len(c) > 0 && formulaStart[c[0]] {
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

var csvSpecial, formulaStart [256]bool

func init() {
	for _, b := range []byte(",\"\r\n") {
		csvSpecial[b] = true
	}
	for _, b := range []byte("=+-@\t\r'") {
		formulaStart[b] = true
	}
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
