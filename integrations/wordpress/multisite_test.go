package wordpress_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// WordPress multisite refuses addresses with a port, so the network is
// served on port 80 of a loopback address of its own (127.0.x.y: another
// test's network never shares it).
func TestWordPressMultisite(t *testing.T) {
	started := time.Now()
	defer func() { t.Logf("the multisite test took %v", time.Since(started).Round(100*time.Millisecond)) }()
	php, err := exec.LookPath("php")
	if err != nil {
		need(t, "SAMTYCKE_TEST_SERVICES", "php (Debian's php-cli)", err)
	}
	mysql, err := exec.LookPath("mysql")
	if err != nil {
		need(t, "SAMTYCKE_TEST_SERVICES", "the MariaDB client", err)
	}
	if _, err := os.Stat(filepath.Join(debianWordPress, "wp-settings.php")); err != nil {
		need(t, "SAMTYCKE_TEST_SERVICES", "Debian's wordpress package", err)
	}
	var host string
	for i := 0; i < 20 && host == ""; i++ {
		b := make([]byte, 2)
		if _, err := rand.Read(b); err != nil {
			t.Fatal(err)
		}
		h := fmt.Sprintf("127.0.%d.%d", 1+int(b[0])%250, 2+int(b[1])%250)
		ln, err := net.Listen("tcp", h+":80")
		if err != nil {
			if i == 19 {
				need(t, "SAMTYCKE_TEST_SERVICES", "port 80 on a loopback address (multisite needs it; run as root)", err)
			}
			continue
		}
		ln.Close()
		host = h
	}

	db := "samtycke_wpms_" + randomHex(6)
	sql := func(q string) error {
		out, err := exec.Command(mysql, "-h", "127.0.0.1", "-P", "3306", "-u", "root", "-e", q).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %v: %s", q, err, out)
		}
		return nil
	}
	if err := sql("CREATE DATABASE " + db + " CHARACTER SET utf8mb4"); err != nil {
		need(t, "SAMTYCKE_TEST_SERVICES", "MariaDB on 127.0.0.1:3306 (root, no password)", err)
	}
	t.Cleanup(func() {
		if err := sql("DROP DATABASE IF EXISTS " + db); err != nil {
			t.Error(err)
		}
	})

	wpDir := filepath.Join(t.TempDir(), "wordpress")
	if out, err := exec.Command("cp", "-a", debianWordPress, wpDir).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	plugin, err := filepath.Abs("samtycke")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-a", plugin, filepath.Join(wpDir, "wp-content", "plugins", "samtycke")).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	debugLog := filepath.Join(wpDir, "wp-content", "debug.log")
	wpPassword := "wp-" + randomHex(8)
	fill := strings.NewReplacer("{{DB}}", db, "{{SALT}}", randomHex(16), "{{LOG}}", debugLog, "{{HOST}}", host, "{{WP_PASSWORD}}", wpPassword)
	config := func(network bool) string {
		c := fill.Replace(wpConfig)
		// The network's sites have addresses of their own: no WP_HOME.
		c = regexp.MustCompile(`(?m)^define\( 'WP_(HOME|SITEURL)'.*\n`).ReplaceAllString(c, "")
		if network {
			c = strings.Replace(c, "if ( ! defined( 'ABSPATH' ) )", fill.Replace(msDefines)+"if ( ! defined( 'ABSPATH' ) )", 1)
		}
		return c
	}
	writeFile(t, filepath.Join(wpDir, "wp-config.php"), config(false))
	writeFile(t, filepath.Join(wpDir, "samtycke-ms.php"), fill.Replace(msSetup))
	writeFile(t, filepath.Join(wpDir, "router.php"), msRouter)
	runPHP := func(step string) []byte {
		cmd := exec.Command(php, "samtycke-ms.php", step)
		cmd.Dir = wpDir
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("samtycke-ms.php %s: %v\n%s%s", step, err, out, stderr.Bytes())
		}
		return out
	}
	runPHP("install")
	writeFile(t, filepath.Join(wpDir, "wp-config.php"), config(true))
	var blogs map[string]int
	if out := runPHP("sites"); json.Unmarshal(out, &blogs) != nil || blogs["butiken"] != 1 || blogs["andra"] < 2 {
		t.Fatalf("sites printed %s", out)
	}

	startProc(t, "php-server", wpDir, []string{"PHP_CLI_SERVER_WORKERS=2"}, php, "-S", host+":80", "-t", wpDir, filepath.Join(wpDir, "router.php"))
	get := func(path string) string {
		t.Helper()
		var body string
		waitUntil(t, 30*time.Second, "WordPress on "+host, func() error {
			res, err := http.Get("http://" + host + path)
			if err != nil {
				return err
			}
			defer res.Body.Close()
			b, err := io.ReadAll(res.Body)
			if err != nil {
				return err
			}
			if res.StatusCode != http.StatusOK {
				return fmt.Errorf("GET %s: %s: %.300s", path, res.Status, b)
			}
			body = string(b)
			return nil
		})
		return body
	}
	// Each site prints the banner of its own Samtycke site.
	banner := regexp.MustCompile(`<script src="([^"]+)" async></script>`)
	for path, want := range map[string]string{"/": "https://consent.example.se/b/butiken.js", "/andra/": "https://samtycke.andra.example/b/andra.js"} {
		page := get(path)
		m := banner.FindStringSubmatch(page)
		if m == nil || m[1] != want {
			t.Errorf("%s: the banner tag is %q, want %s", path, m, want)
		}
		if !strings.Contains(page, "<head") || strings.Index(page, m0(m)) > strings.Index(page, "</head>") {
			t.Errorf("%s: the banner is not in <head>", path)
		}
	}

	// Each site's settings page shows that site's values.
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	admin := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	u, err := url.Parse("http://" + host + "/")
	if err != nil {
		t.Fatal(err)
	}
	jar.SetCookies(u, []*http.Cookie{{Name: "wordpress_test_cookie", Value: "WP Cookie check"}})
	res, err := admin.PostForm("http://"+host+"/wp-login.php", url.Values{"log": {"admin"}, "pwd": {wpPassword}, "testcookie": {"1"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	field := regexp.MustCompile(`id="samtycke_(site_id|server_url|hosts)"[^>]*?(?:value="([^"]*)"|>([^<]*))`)
	for path, want := range map[string]string{
		"/wp-admin/options-general.php?page=samtycke":       "site_id=butiken server_url=https://consent.example.se hosts=butiken.widget.example = marketing",
		"/andra/wp-admin/options-general.php?page=samtycke": "site_id=andra server_url=https://samtycke.andra.example hosts=andra.widget.example = marketing",
	} {
		res, err := admin.Get("http://" + host + path)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, m := range field.FindAllStringSubmatch(string(b), -1) {
			got[m[1]] = strings.TrimSpace(m[2] + m[3])
		}
		if g := fmt.Sprintf("site_id=%s server_url=%s hosts=%s", got["site_id"], got["server_url"], got["hosts"]); res.StatusCode != http.StatusOK || g != want {
			t.Errorf("%s: %s: %s, want %s", path, res.Status, g, want)
		}
		if strings.Contains(string(b), "smt_butiken") || strings.Contains(string(b), "smt_andra") {
			t.Errorf("%s prints a stored token", path)
		}
	}

	// Uninstalling removes the options of every site.
	var left map[string][]string
	if out := runPHP("uninstall"); json.Unmarshal(out, &left) != nil || len(left) != 2 || len(left["1"]) > 0 || len(left["2"]) > 0 {
		t.Errorf("after uninstalling, the options left per site: %s", out)
	}
	if b, err := os.ReadFile(debugLog); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, "/plugins/samtycke/") {
				t.Errorf("debug.log: %s", line)
			}
		}
	} else if !os.IsNotExist(err) {
		t.Fatal(err)
	}
}

func m0(m []string) string {
	if len(m) == 0 {
		return "\x00"
	}
	return m[0]
}
