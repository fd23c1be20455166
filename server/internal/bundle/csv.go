package bundle

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/samtycke/samtycke/server/internal/ledger"
)

// csvHeader is the header row of records.csv. categories and granted hold
// JSON arrays.
var csvHeader = []string{"batch_id", "record_id", "consent_id", "event_id", "site", "recorded_at", "config_version", "config_hash",
	"lang", "categories", "granted", "method", "source", "gpc", "ua_browser", "ua_os", "ua_device", "ip_prefix",
	"page_origin", "page_path", "retain_until"}

// Neutralize keeps spreadsheets from evaluating a cell: one that starts
// with =, +, -, @, tab or CR gets a single quote in front (OWASP's advice).
// A cell that starts with a quote gets one more, so that Restore can take
// exactly one away and the CSV still verifies.
func Neutralize(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r'", rune(s[0])) {
		return "'" + s
	}
	return s
}

// Restore undoes Neutralize.
func Restore(s string) string {
	if strings.HasPrefix(s, "'") {
		return s[1:]
	}
	return s
}

func csvCells(r *ledger.Row) []string {
	cats, gr := jsonStrings(r.Categories), jsonBools(r.Granted)
	cells := []string{r.BatchID, r.RecordID, r.ConsentID, r.EventID, r.Site, r.RecordedAt, strconv.FormatUint(uint64(r.ConfigVersion), 10),
		r.ConfigHash, r.Lang, cats, gr, r.Method, r.Source, strconv.FormatBool(r.GPC), r.UABrowser, r.UAOS, r.UADevice,
		r.IPPrefix, r.PageOrigin, r.PagePath, r.RetainUntil}
	for i, c := range cells {
		cells[i] = Neutralize(c)
	}
	return cells
}

// rowOfCSV parses one data line of records.csv.
func rowOfCSV(cells []string) (ledger.Row, error) {
	if len(cells) != len(csvHeader) {
		return ledger.Row{}, fmt.Errorf("%d cells, want %d", len(cells), len(csvHeader))
	}
	c := make([]string, len(cells))
	for i := range cells {
		c[i] = Restore(cells[i])
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

// writeCSV writes one RFC 4180 line: CRLF at the end, a cell quoted when
// it holds a comma, a quote, CR or LF, quotes doubled. (encoding/csv's
// writer drops a CR inside a cell when it ends lines with CRLF.)
func writeCSV(buf []byte, cells []string) []byte {
	for i, c := range cells {
		if i > 0 {
			buf = append(buf, ',')
		}
		if !strings.ContainsAny(c, ",\"\r\n") {
			buf = append(buf, c...)
			continue
		}
		buf = append(buf, '"')
		buf = append(buf, strings.ReplaceAll(c, `"`, `""`)...)
		buf = append(buf, '"')
	}
	return append(buf, '\r', '\n')
}

// jsonStrings is json.Marshal of category IDs ([a-z0-9_]: nothing to
// escape), without its cost on a million rows.
func jsonStrings(ss []string) string {
	if slices.ContainsFunc(ss, func(s string) bool { return strings.ContainsAny(s, "\"\\<>&") || !utf8.ValidString(s) || hasControl(s) }) {
		b, _ := json.Marshal(ss)
		return string(b)
	}
	var b strings.Builder
	b.WriteByte('[')
	for i, s := range ss {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		b.WriteString(s)
		b.WriteByte('"')
	}
	b.WriteByte(']')
	return b.String()
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return strings.ContainsAny(s, "\u2028\u2029")
}

func jsonBools(bs []bool) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, v := range bs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatBool(v))
	}
	b.WriteByte(']')
	return b.String()
}
