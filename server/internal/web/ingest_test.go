package web_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

type ack struct {
	RecordID   string `json:"record_id"`
	ConsentID  string `json:"consent_id"`
	RecordedAt string `json:"recorded_at"`
}

func post(t *testing.T, s *stack, body []byte, header map[string]string) (response, ack) {
	t.Helper()
	h := map[string]string{"Content-Type": "application/json"}
	for k, v := range header {
		h[k] = v
	}
	r := s.do(t, "POST", "/v1/consents", body, h)
	var a ack
	if r.status == 201 {
		if err := json.Unmarshal(r.body, &a); err != nil {
			t.Fatal(err)
		}
	}
	return r, a
}

// postUntilDone posts like a client that retries a 409 in_progress (the
// first answer's event id is still being remembered) after a moment.
func postUntilDone(t *testing.T, s *stack, body []byte, header map[string]string) (response, ack) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		r, a := post(t, s, body, header)
		if r.status != 409 || time.Now().After(deadline) {
			return r, a
		}
	}
}

func rowsFor(t *testing.T, s *stack, where string, args ...any) uint64 {
	t.Helper()
	if err := s.svc.Shipper.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var n uint64
	if err := s.svc.Store.Conn().QueryRow(context.Background(), "SELECT count() FROM consent_log WHERE "+where, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The same decision sent again (same event_id, or Idempotency-Key) gets the
// same record and leaves one row, also after a restart of the server.
func TestSameEventOnce(t *testing.T) {
	env := map[string]string{"SAMTYCKE_DATA_DIR": t.TempDir()}
	s := newStack(t, env)
	event := uuid.NewString()
	body := []byte(strings.Replace(string(consentBody("demo", 1, rejectChoices, "reject_all")), `"gpc":false`, `"gpc":false,"event_id":"`+event+`"`, 1))
	r1, a1 := post(t, s, body, nil)
	r2, a2 := postUntilDone(t, s, body, nil)
	if r1.status != 201 || r2.status != 201 || a1.RecordID == "" || a1 != a2 {
		t.Fatalf("first %d %+v, retry %d %+v: want the same record", r1.status, a1, r2.status, a2)
	}
	if r2.header.Get("Idempotent-Replayed") != "true" {
		t.Error("a replayed answer is marked Idempotent-Replayed: true")
	}
	if n := rowsFor(t, s, "event_id = ?", event); n != 1 {
		t.Fatalf("%d rows for one event, want 1", n)
	}

	// Idempotency-Key works like event_id, and must agree with it.
	key := uuid.NewString()
	plain := consentBody("demo", 1, rejectChoices, "reject_all")
	_, k1 := post(t, s, plain, map[string]string{"Idempotency-Key": key})
	_, k2 := postUntilDone(t, s, plain, map[string]string{"Idempotency-Key": key})
	if k1.RecordID == "" || k1 != k2 {
		t.Fatalf("Idempotency-Key: %+v then %+v", k1, k2)
	}
	bad, _ := post(t, s, body, map[string]string{"Idempotency-Key": uuid.NewString()})
	if code, field := apiError(t, bad); bad.status != 400 || code != "invalid_header" || field != "Idempotency-Key" {
		t.Errorf("differing key and event_id: %d %s %s", bad.status, code, field)
	}
	notUUID, _ := post(t, s, plain, map[string]string{"Idempotency-Key": "retry-1"})
	if notUUID.status != 400 {
		t.Errorf("a key that is not a UUID: %d", notUUID.status)
	}

	// Across a restart: a second server on the same data, database and Redis.
	s.stop(t)
	again := newStackOn(t, s.env)
	r3, a3 := postUntilDone(t, again, body, nil)
	if r3.status != 201 || a3 != a1 {
		t.Fatalf("after a restart: %d %+v, want %+v", r3.status, a3, a1)
	}
	if n := rowsFor(t, again, "event_id = ?", event); n != 1 {
		t.Fatalf("%d rows for one event after a restart, want 1", n)
	}
}

// Rate limits per IP prefix and per site answer 429 with Retry-After and a
// JSON error, on Redis and, when Redis is down, in process memory.
func TestRateLimits(t *testing.T) {
	for _, redisURL := range []string{"", "redis://127.0.0.1:1/0"} {
		name := "redis"
		if redisURL != "" {
			name = "redis down"
		}
		t.Run(name, func(t *testing.T) {
			env := map[string]string{"SAMTYCKE_RATELIMIT_PER_IP": "5", "SAMTYCKE_RATELIMIT_PER_SITE": "0"}
			if redisURL != "" {
				env["SAMTYCKE_REDIS_URL"] = redisURL
			}
			s := newStack(t, env)
			for i := range 5 {
				if r, _ := post(t, s, consentBody("demo", 1, rejectChoices, "reject_all"), nil); r.status != 201 {
					t.Fatalf("decision %d of 5: %d %s", i+1, r.status, r.body)
				}
			}
			r, _ := post(t, s, consentBody("demo", 1, rejectChoices, "reject_all"), nil)
			if code, _ := apiError(t, r); r.status != 429 || code != "rate_limited" {
				t.Fatalf("6th decision in a minute: %d %s", r.status, code)
			}
			if secs, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || secs < 1 || secs > 60 {
				t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
			}
			// Another network is not limited by this one.
			other, _ := post(t, s, consentBody("demo", 1, rejectChoices, "reject_all"), map[string]string{"X-Forwarded-For": "198.51.100.7"})
			if other.status != 429 {
				t.Log("(X-Forwarded-For is not trusted here, so it is the same network: still limited)")
			}
		})
	}
	t.Run("per site", func(t *testing.T) {
		s := newStack(t, map[string]string{"SAMTYCKE_RATELIMIT_PER_IP": "0", "SAMTYCKE_RATELIMIT_PER_SITE": "3"})
		limited := 0
		for range 10 {
			if r, _ := post(t, s, consentBody("demo", 1, rejectChoices, "reject_all"), nil); r.status == 429 {
				limited++
			}
		}
		// 3 per second with bursts of 3: of 10 quick decisions most are refused.
		if limited < 5 {
			t.Fatalf("%d of 10 decisions limited at 3/s, want most", limited)
		}
	})
}

// R4: hostile bodies get a 4xx JSON error, never a 5xx and never a crash.
func TestHostileBodies(t *testing.T) {
	s := newStack(t, nil)
	good := string(consentBody("demo", 1, rejectChoices, "reject_all"))
	bodies := map[string]string{
		"null":              `null`,
		"number":            `1e999999`,
		"string":            `"demo"`,
		"deep nesting":      strings.Repeat(`{"a":`, 2000) + `1` + strings.Repeat(`}`, 2000),
		"deep array":        `{"choices":` + strings.Repeat(`[`, 3000) + strings.Repeat(`]`, 3000) + `}`,
		"huge version":      strings.Replace(good, `"config_version":1`, `"config_version":99999999999999999999`, 1),
		"float version":     strings.Replace(good, `"config_version":1`, `"config_version":1e3`, 1),
		"null choices":      strings.Replace(good, rejectChoices, `null`, 1),
		"null choice":       strings.Replace(good, `"statistics":false`, `"statistics":null`, 1),
		"nul byte":          strings.Replace(good, `"sv"`, "\"s\x00v\"", 1),
		"lone surrogate":    strings.Replace(good, `"sv"`, `"\ud800"`, 1),
		"overlong utf8":     strings.Replace(good, `"sv"`, "\"\xc0\xaf\"", 1),
		"bom":               "\xef\xbb\xbf" + good,
		"site path":         strings.Replace(good, `"site":"demo"`, `"site":"../../etc/passwd"`, 1),
		"site sql":          strings.Replace(good, `"site":"demo"`, `"site":"demo' OR 1=1 --"`, 1),
		"url javascript":    strings.Replace(good, `https://shop.example/kassa?email=a@b.se#x`, `javascript:alert(1)`, 1),
		"url 3 KiB":         strings.Replace(good, `https://shop.example/kassa`, "https://shop.example/"+strings.Repeat("a", 3000), 1),
		"13 categories":     strings.Replace(good, rejectChoices, `{"a":true,"b":true,"c":true,"d":true,"e":true,"f":true,"g":true,"h":true,"i":true,"j":true,"k":true,"l":true,"m":true}`, 1),
		"withdraw granting": string(consentBody("demo", 1, `{"necessary":true,"preferences":true,"statistics":false,"marketing":false}`, "withdraw")),
		"event id not uuid": strings.Replace(good, `"gpc":false`, `"gpc":false,"event_id":"x"`, 1),
		"consent id nil": `{"site":"demo","consent_id":"00000000-0000-0000-0000-000000000000","config_version":1,"choices":` + rejectChoices +
			`,"method":"reject_all","lang":"sv","url":"https://shop.example/"}`,
		"trailing garbage":   good + `garbage`,
		"two objects":        good + good,
		"4 KiB + 1":          good + strings.Repeat(" ", 4097-len(good)),
		"empty":              ``,
		"whitespace":         "   \n\t",
		"array of decisions": `[` + good + `]`,
	}
	for name, body := range bodies {
		r, _ := post(t, s, []byte(body), nil)
		if r.status < 400 || r.status >= 500 {
			t.Errorf("%s: status %d: %s", name, r.status, r.body)
			continue
		}
		apiError(t, r)
	}
	if r := s.do(t, "GET", "/readyz", nil, nil); r.status != 200 {
		t.Fatalf("the server is not well after hostile bodies: %d", r.status)
	}
}

// A chunked body with no Content-Length is cut off at the route's limit,
// not read whole.
func TestChunkedBodyOverLimit(t *testing.T) {
	s := newStack(t, nil)
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/consents HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
	chunk := bytes.Repeat([]byte(" "), 1024)
	for range 8 { // 8 KiB, twice the limit
		fmt.Fprintf(conn, "%x\r\n%s\r\n", len(chunk), chunk)
	}
	if err := conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 413 || !strings.Contains(string(b), `"code":"body_too_large"`) {
		t.Fatalf("%d %s", res.StatusCode, b)
	}
}

// /readyz answers with status words only: nothing about internal addresses.
func TestReadyzSaysNoMore(t *testing.T) {
	s := newStack(t, map[string]string{"SAMTYCKE_REDIS_URL": "redis://127.0.0.1:1/0"})
	r := s.do(t, "GET", "/readyz", nil, nil)
	var body struct {
		Status string
		Checks map[string]string
	}
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatal(err)
	}
	if body.Status != "degraded" || body.Checks["redis"] != "down" || body.Checks["clickhouse"] != "ok" || body.Checks["spool"] != "ok" {
		t.Fatalf("readyz %s", r.body)
	}
	if strings.Contains(string(r.body), "127.0.0.1") || strings.Contains(string(r.body), "dial") {
		t.Fatalf("readyz leaks details: %s", r.body)
	}
}
