package notice

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var isoDuration = regexp.MustCompile(`^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$`)

// unit names: singular, plural.
var units = map[string][7][2]string{
	"sv": {{"år", "år"}, {"månad", "månader"}, {"vecka", "veckor"}, {"dag", "dagar"}, {"timme", "timmar"}, {"minut", "minuter"}, {"sekund", "sekunder"}},
	"en": {{"year", "years"}, {"month", "months"}, {"week", "weeks"}, {"day", "days"}, {"hour", "hours"}, {"minute", "minutes"}, {"second", "seconds"}},
}

// Lifetime says a configured duration ("session", "persistent" or ISO 8601
// such as P1Y6M) in words: "sessionen", "1 år och 6 månader".
func Lifetime(lang, d string) string {
	l := pick(lang)
	switch d {
	case "session":
		return text[l].session
	case "persistent":
		return text[l].persistent
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
		u := units[l][i][1]
		if n == 1 {
			u = units[l][i][0]
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
		return "1 " + units[l][3][0]
	}
	return fmt.Sprintf("%d %s", n, units[l][3][1])
}

func months1(l string, n int) string {
	if n == 1 {
		return "1 " + units[l][1][0]
	}
	return fmt.Sprintf("%d %s", n, units[l][1][1])
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
	and := " och "
	if l == "en" {
		and = " and "
	}
	return strings.Join(parts[:len(parts)-1], ", ") + and + parts[len(parts)-1]
}

var monthNames = map[string][12]string{
	"sv": {"januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september", "oktober", "november", "december"},
	"en": {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
}

// Date writes a day as "3 juni 2022" / "3 June 2022" (UTC).
func Date(lang string, t time.Time) string {
	t = t.UTC()
	return fmt.Sprintf("%d %s %d", t.Day(), monthNames[pick(lang)][t.Month()-1], t.Year())
}

// months lists lang's month names for notice.js, which writes the day of a
// visitor's choice the way Date writes days on the server.
func months(lang string) string {
	m := monthNames[pick(lang)]
	return strings.Join(m[:], ",")
}

// countries names the usual destinations of transfers; others show their
// ISO code.
var countries = map[string]map[string]string{
	"sv": {"US": "USA", "GB": "Storbritannien", "CA": "Kanada", "CH": "Schweiz", "IN": "Indien", "CN": "Kina", "JP": "Japan",
		"SG": "Singapore", "AU": "Australien", "IL": "Israel", "KR": "Sydkorea", "BR": "Brasilien", "NZ": "Nya Zeeland", "ZA": "Sydafrika",
		"AE": "Förenade Arabemiraten", "RU": "Ryssland", "UA": "Ukraina", "TR": "Turkiet", "PH": "Filippinerna", "MX": "Mexiko"},
	"en": {"US": "the United States", "GB": "the United Kingdom", "CA": "Canada", "CH": "Switzerland", "IN": "India", "CN": "China", "JP": "Japan",
		"SG": "Singapore", "AU": "Australia", "IL": "Israel", "KR": "South Korea", "BR": "Brazil", "NZ": "New Zealand", "ZA": "South Africa",
		"AE": "the United Arab Emirates", "RU": "Russia", "UA": "Ukraine", "TR": "Turkey", "PH": "the Philippines", "MX": "Mexico"},
}

func countryNames(lang string, codes []string) string {
	l := pick(lang)
	names := make([]string, len(codes))
	for i, c := range codes {
		if n, ok := countries[l][c]; ok {
			names[i] = n
		} else {
			names[i] = c
		}
	}
	return join(l, names)
}
