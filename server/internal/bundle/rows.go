package bundle

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/samtycke/samtycke/server/internal/ledger"
)

// recordsHeader is the header row of records.csv: where the record is in
// the evidence log, then the record's fields as hashed (ledger.Row).
// categories and granted hold JSON arrays.
var recordsHeader = []string{"log_id", "leaf_index", "record_id", "consent_id", "event_id", "site", "recorded_at", "config_version", "config_hash",
	"lang", "categories", "granted", "method", "source", "gpc", "ua_browser", "ua_os", "ua_device", "ip_prefix",
	"page_origin", "page_path", "retain_until"}

// appendRecordCSV appends r as one line of records.csv. A million rows go
// through here, so cells are written straight into buf: no string per cell.
func appendRecordCSV(buf []byte, r *Record, scratch *[]byte) []byte {
	buf = appendCell(buf, r.Log, false)
	buf = strconv.AppendUint(append(buf, ','), r.Leaf, 10)
	for _, c := range []string{r.RecordID, r.ConsentID, r.EventID, r.Site, r.RecordedAt} {
		buf = appendCell(buf, c, true)
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

// recordOfCSV parses the cells of one data line of records.csv, as the
// canonical reader returns them.
func recordOfCSV(c []string) (Record, error) {
	if len(c) != len(recordsHeader) {
		return Record{}, fmt.Errorf("%d cells, want %d", len(c), len(recordsHeader))
	}
	r := Record{Log: c[0], Row: ledger.Row{RecordID: c[2], ConsentID: c[3], EventID: c[4], Site: c[5], RecordedAt: c[6],
		ConfigHash: c[8], Lang: c[9], Method: c[12], Source: c[13], UABrowser: c[15], UAOS: c[16], UADevice: c[17],
		IPPrefix: c[18], PageOrigin: c[19], PagePath: c[20], RetainUntil: c[21]}}
	var err error
	if r.Leaf, err = parseUint(c[1], 64); err != nil {
		return r, fmt.Errorf("leaf_index %q", c[1])
	}
	v, err := parseUint(c[7], 32)
	if err != nil {
		return r, fmt.Errorf("config_version %q", c[7])
	}
	r.ConfigVersion = uint32(v)
	if err := json.Unmarshal([]byte(c[10]), &r.Categories); err != nil {
		return r, fmt.Errorf("categories %q", c[10])
	}
	if err := json.Unmarshal([]byte(c[11]), &r.Granted); err != nil {
		return r, fmt.Errorf("granted %q", c[11])
	}
	switch c[14] {
	case "true":
		r.GPC = true
	case "false":
	default:
		return r, fmt.Errorf("gpc %q", c[14])
	}
	// What the writer would write for these values: a row is read only in
	// the one form it is written in.
	var scratch []byte
	if got := appendRecordCSV(nil, &r, &scratch); !bytes.Equal(got, canonicalLine(c)) {
		return r, fmt.Errorf("not in the exporter's form (numbers, arrays or booleans written otherwise)")
	}
	return r, nil
}

// canonicalLine writes cells back as a line, as the writer would.
func canonicalLine(c []string) []byte {
	var buf []byte
	for i, cell := range c {
		buf = appendCell(buf, cell, i > 0)
	}
	return append(buf, '\r', '\n')
}

// parseUint accepts decimal digits only, without a leading zero (as
// strconv.AppendUint writes them).
func parseUint(s string, bits int) (uint64, error) {
	if s == "" || (len(s) > 1 && s[0] == '0') || s[0] == '+' {
		return 0, strconv.ErrSyntax
	}
	return strconv.ParseUint(s, 10, bits)
}

// appendRecordJSON appends r as one line of records.ndjson (without the
// newline): its position, then the row's canonical JSON.
func appendRecordJSON(buf []byte, r *Record) []byte {
	log, _ := json.Marshal(r.Log) // a string always marshals
	buf = append(append(append(buf, `{"log_id":`...), log...), `,"leaf_index":`...)
	buf = append(strconv.AppendUint(buf, r.Leaf, 10), ',')
	return append(buf, r.Row.Encode()[1:]...)
}

// recordOfJSON parses one line of records.ndjson, which must be in the
// writer's canonical form.
func recordOfJSON(line []byte) (Record, error) {
	var v struct {
		Log  string `json:"log_id"`
		Leaf uint64 `json:"leaf_index"`
		ledger.Row
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return Record{}, err
	}
	r := Record{Log: v.Log, Leaf: v.Leaf, Row: v.Row}
	if !bytes.Equal(appendRecordJSON(nil, &r), line) {
		return r, fmt.Errorf("not in canonical form: the line was edited")
	}
	return r, nil
}
