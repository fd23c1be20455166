package manage

import "time"

// SetClock lets a test move a Manager's time (expiry of invitations, tokens).
func SetClock(m *Manager, now func() time.Time) { m.now = now }
