package manage

import "time"

// StatsQuery selects a site's statistics for the days [From, To], inclusive.
type StatsQuery struct {
	Site     string
	From, To time.Time
}

// Stats are a site's decisions over a period, from the daily aggregates.
type Stats struct {
	From       time.Time    `json:"from"`
	To         time.Time    `json:"to"`
	Total      uint64       `json:"total"`
	Days       []DayStats   `json:"days"`
	Methods    []Count      `json:"methods"`
	Languages  []Count      `json:"languages"`
	Devices    []Count      `json:"devices"`
	GPC        uint64       `json:"gpc"`
	Categories []OptInStats `json:"categories"`
}

// DayStats is one day's decisions, by method.
type DayStats struct {
	Day       time.Time         `json:"day"`
	Decisions uint64            `json:"decisions"`
	Methods   map[string]uint64 `json:"methods"`
}

// Count is a number of decisions with one value of a dimension.
type Count struct {
	Key   string  `json:"key"`
	N     uint64  `json:"n"`
	Share float64 `json:"share"`
}

// OptInStats is how often a category was granted.
type OptInStats struct {
	Category  string  `json:"category"`
	Granted   uint64  `json:"granted"`
	Decisions uint64  `json:"decisions"`
	Rate      float64 `json:"rate"`
}

// Methods in the order the dashboard shows them.
var Methods = []string{"accept_all", "reject_all", "custom", "withdraw", "gpc"}
