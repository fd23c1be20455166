package admin

import (
	"encoding/csv"
	"fmt"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/samtycke/samtycke/server/internal/manage"
)

// sendStatsCSV writes the daily numbers as CSV: one row per day, a column
// per method. Every cell is a date or a number, so nothing in it can be
// evaluated as a formula by a spreadsheet.
func sendStatsCSV(c *fiber.Ctx, site string, st *manage.Stats) error {
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s-stats-%s-%s.csv"`,
		site, st.From.Format(time.DateOnly), st.To.Format(time.DateOnly)))
	w := csv.NewWriter(c)
	head := append([]string{"day", "decisions"}, manage.Methods...)
	if err := w.Write(head); err != nil {
		return err
	}
	for _, d := range st.Days {
		row := []string{d.Day.Format(time.DateOnly), strconv.FormatUint(d.Decisions, 10)}
		for _, m := range manage.Methods {
			row = append(row, strconv.FormatUint(d.Methods[m], 10))
		}
		if err := w.Write(row); err != nil {
			return err
		}
	}
	w.Flush()
	return w.Error()
}
