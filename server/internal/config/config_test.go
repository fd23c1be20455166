package config

import (
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:8080" || c.PublicBase() != "http://127.0.0.1:8080" || c.PublicOrigin() != "http://127.0.0.1:8080" ||
		c.ClickHouseURL != "clickhouse://127.0.0.1:9000/samtycke" || c.RedisURL != "redis://127.0.0.1:6379/0" ||
		c.DataDir != ".data/samtycke" || c.Demo || !c.RedisEnabled() ||
		c.RateLimitPerIP != 120 || c.RateLimitPerSite != 2000 || c.SpoolMaxBytes != 1<<30 {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestValues(t *testing.T) {
	c, err := Load(env(map[string]string{
		"SAMTYCKE_PUBLIC_URL": "https://consent.example.se/", "SAMTYCKE_REDIS_URL": "none", "SAMTYCKE_DEMO": "on",
		"SAMTYCKE_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.1",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.PublicBase() != "https://consent.example.se" || c.RedisEnabled() || !c.Demo || len(c.TrustedProxies) != 2 || c.TrustedProxies[1].String() != "192.0.2.1/32" {
		t.Fatalf("%+v", c)
	}
}

func TestErrorsNameTheVariable(t *testing.T) {
	for k, v := range map[string]string{
		"SAMTYCKE_LISTEN":             "8080",
		"SAMTYCKE_PUBLIC_URL":         "consent.example.se",
		"SAMTYCKE_CLICKHOUSE_URL":     "http://127.0.0.1:8123",
		"SAMTYCKE_REDIS_URL":          "localhost:6379",
		"SAMTYCKE_DEMO":               "yes",
		"SAMTYCKE_TRUSTED_PROXIES":    "10.0.0.0/33",
		"SAMTYCKE_ADMIN_EMAIL":        "admin",
		"SAMTYCKE_LOG_LEVEL":          "verbose",
		"SAMTYCKE_RATELIMIT_PER_IP":   "-1",
		"SAMTYCKE_RATELIMIT_PER_SITE": "lots",
		"SAMTYCKE_SPOOL_MAX_MB":       "0",
	} {
		_, err := Load(env(map[string]string{k: v}))
		if err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%s: error %v does not name the variable", k, v, err)
		}
	}
}

func TestDescribeMasksSecrets(t *testing.T) {
	out := strings.Join(Describe(env(map[string]string{
		"SAMTYCKE_CLICKHOUSE_URL": "clickhouse://app:hunter2@db:9000/samtycke", "SAMTYCKE_ADMIN_PASSWORD": "hunter2",
	})), "\n")
	if strings.Contains(out, "hunter2") || !strings.Contains(out, "SAMTYCKE_CLICKHOUSE_URL=clickhouse://app:xxxxx@db:9000/samtycke") {
		t.Fatalf("secrets not masked:\n%s", out)
	}
}
