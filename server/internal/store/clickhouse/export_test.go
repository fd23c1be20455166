package clickhouse

// ConsentColumnNames exposes the INSERT column list to the external tests.
func ConsentColumnNames() []string {
	out := make([]string, len(consentColumns))
	for i, c := range consentColumns {
		out[i] = c.name
	}
	return out
}
