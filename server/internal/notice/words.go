package notice

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var isoDuration = regexp.MustCompile(`^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$`)

// unitOrder follows an ISO 8601 duration's fields.
var unitOrder = [7]string{"year", "month", "week", "day", "hour", "minute", "second"}

// Lifetime says a configured duration ("session", "persistent" or ISO 8601
// such as P1Y6M) in words: "sessionen", "1 år och 6 månader".
func Lifetime(lang, d string) string {
	l := pick(lang)
	switch d {
	case "session":
		return text[l].Session
	case "persistent":
		return text[l].Persistent
	}
	m := isoDuration.FindStringSubmatch(d)
	if m == nil {
		return d
	}
	var parts []string
	for i, s := range m[1:] {
		n, _ := strconv.Atoi(s)
		if n == 0 {
			continue
		}
		u := text[l].Units[unitOrder[i]][1]
		if n == 1 {
			u = text[l].Units[unitOrder[i]][0]
		}
		parts = append(parts, fmt.Sprintf("%d %s", n, u))
	}
	if len(parts) == 0 {
		return d
	}
	return join(l, parts)
}

// days says a number of days in words, as months when it is close to a
// whole number of them (182 days: "6 månader").
func days(lang string, n int) string {
	l := pick(lang)
	if months := int(float64(n)/30.44 + 0.5); n >= 28 && abs(float64(n)-float64(months)*30.44) <= 3 {
		return months1(l, months)
	}
	if n == 1 {
		return "1 " + text[l].Units["day"][0]
	}
	return fmt.Sprintf("%d %s", n, text[l].Units["day"][1])
}

func months1(l string, n int) string {
	if n == 1 {
		return "1 " + text[l].Units["month"][0]
	}
	return fmt.Sprintf("%d %s", n, text[l].Units["month"][1])
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// join lists words: "a, b och c" / "a, b and c".
func join(l string, parts []string) string {
	if len(parts) == 1 {
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + text[l].And + parts[len(parts)-1]
}

// Date writes a day as "3 juni 2022" / "3 June 2022" (UTC).
func Date(lang string, t time.Time) string {
	t = t.UTC()
	return fmt.Sprintf("%d %s %d", t.Day(), text[pick(lang)].Months[t.Month()-1], t.Year())
}

// months lists lang's month names for notice.js, which writes the day of a
// visitor's choice the way Date writes days on the server.
func months(lang string) string {
	m := text[pick(lang)].Months
	return strings.Join(m[:], ",")
}

func countryNames(lang string, codes []string) string {
	l := pick(lang)
	names := make([]string, len(codes))
	for i, c := range codes {
		if n, ok := text[l].Countries[c]; ok {
			names[i] = n
		} else {
			names[i] = c
		}
	}
	return join(l, names)
}
