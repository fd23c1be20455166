package web

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/samtycke/samtycke/server/internal/apierr"
)

var errNotFound = apierr.New(http.StatusNotFound, "not_found", "", "no such page")

// handleError is the one place that turns a returned error into a response:
// *apierr.Error as itself, Fiber's own errors (413 from the body limit, 405)
// as their status, and anything else as a logged 500 that reveals nothing.
func (s *server) handleError(c *fiber.Ctx, err error) error {
	var ae *apierr.Error
	var fe *fiber.Error
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &fe):
		ae = apierr.New(fe.Code, codeFor(fe.Code), "", fe.Message)
		if fe.Code == fiber.StatusRequestEntityTooLarge {
			ae.Message = "the request body is too large"
		}
	default:
		s.Log.Error("request failed", "method", c.Method(), "path", c.Path(), "err", err)
		ae = apierr.New(http.StatusInternalServerError, "internal", "", "something went wrong on our side; it has been logged")
	}
	retry := ae.RetryAfter
	switch ae.Status {
	case http.StatusServiceUnavailable:
		s.Log.Warn("request not served", "method", c.Method(), "path", c.Path(), "err", err)
		retry = max(retry, 5*time.Second)
	case http.StatusConflict, http.StatusTooManyRequests:
		retry = max(retry, time.Second)
	}
	if retry > 0 {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int((retry+time.Second-1)/time.Second)))
	}
	return c.Status(ae.Status).JSON(fiber.Map{"error": ae})
}

func codeFor(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "bad_request"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusRequestEntityTooLarge:
		return "body_too_large"
	case http.StatusRequestTimeout:
		return "timeout"
	case http.StatusTooManyRequests:
		return "rate_limited"
	}
	if status >= 500 {
		return "unavailable"
	}
	return "error"
}
