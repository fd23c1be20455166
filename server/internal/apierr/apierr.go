// Package apierr is the error that crosses the HTTP edge: a status, a stable
// machine-readable code, a sentence for people and, when one field is at
// fault, its name. Lower layers return it for bad input; the web error handler
// writes it as {"error":{"code":…,"message":…,"field":…}}. Anything else that
// reaches the edge is a 500 and is logged there.
package apierr

import (
	"fmt"
	"time"
)

// Error is a client-facing error.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	// Cause is the underlying failure, logged but never sent to clients.
	Cause error `json:"-"`
	// RetryAfter, when set, is sent as the Retry-After header (429, 503).
	RetryAfter time.Duration `json:"-"`
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Cause }

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%d %s: %v", e.Status, e.Code, e.Cause)
	}
	if e.Field != "" {
		return fmt.Sprintf("%d %s: %s (field %s)", e.Status, e.Code, e.Message, e.Field)
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
}

// New returns an Error; message is formatted with args.
func New(status int, code, field, message string, args ...any) *Error {
	if len(args) > 0 {
		message = fmt.Sprintf(message, args...)
	}
	return &Error{Status: status, Code: code, Field: field, Message: message}
}
