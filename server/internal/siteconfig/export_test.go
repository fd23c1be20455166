package siteconfig

import "time"

// SetClock gives tests control of the clock pointers expire by.
func SetClock(p *Provider, now func() time.Time) { p.now = now }
