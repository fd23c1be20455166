package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/samtycke/samtycke/server/internal/apierr"
	"github.com/samtycke/samtycke/server/internal/manage"
)

// decodeJSON reads a JSON request body strictly: the right media type, no
// unknown fields, nothing after the value.
func decodeJSON(c *fiber.Ctx, v any) error {
	if mt, _, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType)); err != nil || mt != fiber.MIMEApplicationJSON {
		return apierr.New(http.StatusUnsupportedMediaType, "unsupported_media_type", "", "send Content-Type: application/json")
	}
	dec := json.NewDecoder(bytes.NewReader(c.Body()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			return apierr.New(http.StatusBadRequest, "invalid_type", ute.Field, "%s has the wrong type", ute.Field)
		}
		return apierr.New(http.StatusBadRequest, "invalid_json", "", "the body is not valid JSON for this request: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return apierr.New(http.StatusBadRequest, "invalid_json", "", "unexpected data after the JSON value")
	}
	return nil
}

// problemsError is 422 with the validator's problems, each with its field.
func problemsError(c *fiber.Ctx, ie *manage.InvalidDraftError) error {
	first := ""
	if len(ie.Problems) > 0 {
		first = ie.Problems[0].Field
	}
	return c.Status(http.StatusUnprocessableEntity).JSON(fiber.Map{
		"error":    fiber.Map{"code": "invalid_configuration", "message": "the configuration breaks these rules; nothing was published", "field": first},
		"problems": ie.Problems,
	})
}

// versionParam parses :n.
func versionParam(c *fiber.Ctx) (uint32, error) {
	n, err := strconv.ParseUint(c.Params("n"), 10, 32)
	if err != nil || n == 0 {
		return 0, apierr.New(http.StatusBadRequest, "invalid_version", "n", "a version is a positive integer")
	}
	return uint32(n), nil
}

// period parses ?from=YYYY-MM-DD&to=YYYY-MM-DD; the default is the last 30
// days up to today.
func period(c *fiber.Ctx, now time.Time) (from, to time.Time, err error) {
	to = now.UTC().Truncate(24 * time.Hour)
	from = to.AddDate(0, 0, -29)
	if s := c.Query("to"); s != "" {
		if to, err = time.Parse(time.DateOnly, s); err != nil {
			return from, to, apierr.New(http.StatusBadRequest, "invalid_date", "to", "to must be a date like 2026-01-31")
		}
	}
	if s := c.Query("from"); s != "" {
		if from, err = time.Parse(time.DateOnly, s); err != nil {
			return from, to, apierr.New(http.StatusBadRequest, "invalid_date", "from", "from must be a date like 2026-01-01")
		}
	} else if c.Query("to") != "" {
		from = to.AddDate(0, 0, -29)
	}
	return from, to, nil
}

// rawJSON lets stored JSON be embedded as is in an answer.
type rawJSON []byte

// MarshalJSON implements json.Marshaler.
func (r rawJSON) MarshalJSON() ([]byte, error) { return r, nil }

// emailParam is :email, percent-decoded (clients may escape the @).
func emailParam(c *fiber.Ctx) string {
	// A copy: Fiber's params point into a buffer the next request reuses.
	raw := strings.Clone(c.Params("email"))
	if s, err := url.PathUnescape(raw); err == nil {
		return s
	}
	return raw
}
