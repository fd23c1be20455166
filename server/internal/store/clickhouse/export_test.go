package clickhouse

// ConsentColumnNames exposes the INSERT column list to the external tests.
func ConsentColumnNames() []string {
	out := make([]string, len(consentColumns))
	for i, c := range consentColumns {
		out[i] = c.name
	}
	return out
}

// ColumnExists exposes the re-run rule for ADD COLUMN to the external tests.
var ColumnExists = columnExists

// OnCluster exposes the cluster rewrite to the external tests.
var OnCluster = onCluster

// SplitFields exposes the cutting of a row read for an export.
var SplitFields = splitFields
