package service_test

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/samtycke/samtycke/server/internal/cache/redis"
	"github.com/samtycke/samtycke/server/internal/consent"
	"github.com/samtycke/samtycke/server/internal/dedup"
	"github.com/samtycke/samtycke/server/internal/spool"
)

// floorFiber is P4's second reference: the least a server can do and still
// keep the guarantees of a 201, built from samtycke's own spool and event-id
// index. It decodes the same JSON, claims the event id in Redis, appends the
// body to a spool (group-committed fdatasync before the answer), writes the
// event id's final entry and answers 201. Everything else samtycke does for a
// consent is left out: the version and origin checks, rate limits, the
// record and its hash, receipts, shipping and ClickHouse. Its CPU per
// request against the bare handler's bounds what trimming samtycke's own
// work could reach. Without a redisURL it only fsyncs (no event ids): what
// that guarantee costs on its own. It returns its URL and its spool, whose
// counts show that it did fsync what it answered.
func floorFiber(b *testing.B, redisURL string) (string, *spool.Spool) {
	var kv *redis.Cache
	var events *dedup.Index
	if redisURL != "" {
		var err error
		if kv, err = redis.Open(redisURL, "floor:"); err != nil {
			b.Fatal(err)
		}
		events = dedup.New(kv, slog.New(slog.DiscardHandler))
	}
	sp, err := spool.Open(b.TempDir(), spool.Options{})
	if err != nil {
		b.Fatal(err)
	}
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Post("/v1/consents", func(c *fiber.Ctx) error {
		req, err := consent.Decode(c.Body())
		if err != nil {
			return c.SendStatus(400)
		}
		// Announced like samtycke's handler: the Redis round trip ahead of
		// the append does not cost this request a group commit of its own.
		sp.Expect()
		id, err := uuid.NewV7()
		if err != nil {
			sp.Withdraw()
			return err
		}
		ctx := c.UserContext()
		if events != nil {
			if st, _ := events.Claim(ctx, req.Site, req.EventID, id); st != dedup.Fresh {
				sp.Withdraw()
				return c.SendStatus(409)
			}
		}
		if _, err := sp.AppendExpected(nil, c.Body()); err != nil {
			if events != nil {
				events.Abandon(ctx, req.Site, req.EventID)
			}
			return err
		}
		if events != nil {
			events.Done(ctx, req.Site, req.EventID, dedup.Entry{RecordID: id, RecordedAt: time.Now()})
		}
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return c.Status(201).SendString(`{"record_id":"` + id.String() + `"}`)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go app.Listener(ln)
	b.Cleanup(func() {
		err := app.ShutdownWithTimeout(10 * time.Second)
		if events != nil {
			// The index's last entries go to Redis before the client closes.
			err = errors.Join(err, events.Close(), kv.Close())
		}
		if err = errors.Join(err, sp.Close()); err != nil {
			b.Error(err)
		}
	})
	return "http://" + ln.Addr().String(), sp
}

// floorRetry posts one decision twice to the floor: the first is recorded,
// the second refused as already claimed.
func floorRetry(b *testing.B, base string) {
	body := `{"site":"demo","consent_id":"` + uuid.NewString() + `","event_id":"` + uuid.NewString() +
		`","config_version":1,"choices":{"necessary":true,"preferences":false,"statistics":true,"marketing":false},"method":"custom","lang":"sv","url":"https://shop.example/p"}`
	for _, want := range []int{201, 409} {
		res, err := http.Post(base+"/v1/consents", "application/json", strings.NewReader(body))
		expect(b, res, err, want, "the floor's answer")
	}
}
