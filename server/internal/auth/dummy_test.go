package auth

import (
	"strings"
	"testing"
)

// An unknown account costs a full check: the dummy hash parses, and its
// parameters are those of a real hash.
func TestDummyHashCostsAsMuchAsARealOne(t *testing.T) {
	real, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	params := func(h string) string { return h[:strings.LastIndex(h[:strings.LastIndex(h, "$")], "$")] }
	if params(dummyHash) != params(real) {
		t.Errorf("dummy hash parameters %q, real ones %q", params(dummyHash), params(real))
	}
	if _, err := CheckPassword(dummyHash, "anything at all"); err != nil {
		t.Errorf("dummy hash does not parse: %v", err)
	}
}
