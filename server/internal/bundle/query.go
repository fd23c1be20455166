// Package bundle writes an export of the consent log as a verifiable bundle
// (a zip: the records; per evidence log its signed head, the leaves of the
// period and the compact ranges around them; the configuration versions the
// records reference; the keys; a manifest) and verifies one offline.
// docs/tamper-evidence.md describes what a bundle proves.
package bundle

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/samtycke/samtycke/server/internal/apierr"
	"github.com/samtycke/samtycke/server/internal/consent"
	"github.com/samtycke/samtycke/server/internal/ledger"
)

// Query selects a site's records for an export.
type Query struct {
	Site     string    `json:"site"`
	From     time.Time `json:"from"` // log time in [From, To)
	To       time.Time `json:"to"`
	Method   string    `json:"method,omitempty"`
	Lang     string    `json:"lang,omitempty"`
	Category string    `json:"category,omitempty"` // with Granted: the records that show it granted or refused
	Granted  bool      `json:"granted,omitempty"`
}

// Filtered reports whether the query selects by more than the period, so
// that records left out of a batch cannot be told from deleted ones.
func (q *Query) Filtered() bool { return q.Method != "" || q.Lang != "" || q.Category != "" }

// MatchFilters tells whether a row is one the query's filters select (the
// period is judged by the log time of the row's leaf, see ledger.Leaf).
func (q *Query) MatchFilters(r *ledger.Row) bool {
	if r.Site != q.Site || (q.Method != "" && r.Method != q.Method) || (q.Lang != "" && r.Lang != q.Lang) {
		return false
	}
	if q.Category != "" {
		i := slices.Index(r.Categories, q.Category)
		return i >= 0 && i < len(r.Granted) && r.Granted[i] == q.Granted
	}
	return true
}

// InPeriod tells whether a log time (Unix ms) lies in [From, To).
func (q *Query) InPeriod(ms int64) bool {
	return ms >= q.From.UnixMilli() && ms < q.To.UnixMilli()
}

// Formats of the records file.
const (
	CSV    = "csv"
	NDJSON = "ndjson"
)

// ParseQuery checks an export's parameters as the CLI and the API take
// them: dates (YYYY-MM-DD, to inclusive), method, category=granted|refused,
// language, format.
func ParseQuery(site, from, to, method, category, lang, format string) (Query, error) {
	q := Query{Site: site, Method: method, Lang: lang}
	var err error
	if q.From, err = time.Parse(time.DateOnly, from); err != nil {
		return q, apierr.New(http.StatusBadRequest, "invalid_from", "from", "from must be a date, YYYY-MM-DD")
	}
	last, err := time.Parse(time.DateOnly, to)
	if err != nil {
		return q, apierr.New(http.StatusBadRequest, "invalid_to", "to", "to must be a date, YYYY-MM-DD")
	}
	if last.Before(q.From) {
		return q, apierr.New(http.StatusBadRequest, "invalid_period", "to", "to is before from")
	}
	q.To = last.AddDate(0, 0, 1)
	if method != "" && !slices.Contains([]string{consent.MethodAcceptAll, consent.MethodRejectAll, consent.MethodCustom, consent.MethodWithdraw, consent.MethodGPC}, method) {
		return q, apierr.New(http.StatusBadRequest, "invalid_method", "method", "method must be accept_all, reject_all, custom, withdraw or gpc")
	}
	if category != "" {
		name, decision, ok := strings.Cut(category, "=")
		if !ok || name == "" || (decision != "granted" && decision != "refused") {
			return q, apierr.New(http.StatusBadRequest, "invalid_category", "category", "category must be NAME=granted or NAME=refused")
		}
		q.Category, q.Granted = name, decision == "granted"
	}
	if len(lang) > 35 {
		return q, apierr.New(http.StatusBadRequest, "invalid_lang", "lang", "lang is not a language tag")
	}
	if format != CSV && format != NDJSON {
		return q, apierr.New(http.StatusBadRequest, "invalid_format", "format", "format must be csv or ndjson")
	}
	return q, nil
}

func (q *Query) String() string {
	return fmt.Sprintf("%s %s..%s", q.Site, q.From.Format(time.DateOnly), q.To.AddDate(0, 0, -1).Format(time.DateOnly))
}
