package bundle

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Cells a spreadsheet would evaluate, as the exporter writes them, open in
// LibreOffice Calc as their text, and å ä ö come through. A control row
// written without the neutralising quote shows that this Calc evaluates
// formulas at all, so that the test cannot pass by Calc evaluating nothing.
func TestCSVInLibreOffice(t *testing.T) {
	lo, err := exec.LookPath("libreoffice")
	if err != nil {
		if os.Getenv("SAMTYCKE_TEST_SERVICES") == "required" {
			t.Fatalf("libreoffice is required (SAMTYCKE_TEST_SERVICES=required) but unavailable: %v", err)
		}
		t.Skipf("libreoffice unavailable (make test installs Debian's libreoffice-calc): %v", err)
	}
	hostile := []string{"\x00=1+1", "\ufeff=1+1", "\u200b+1+1", "\x01@SUM(1;1)", "\t=1+1", "\r=1+1", "-2+3", "=1+1",
		"+1+1", "@SUM(1;1)", `=HYPERLINK("http://example.com/";"x")`, "'=1+1", "\u2060=1+1", "\u0085=1+1", "\x7f=1+1",
		" =1+1", "\u00a0-1+1", "\x00\x00@SUM(1;1)", "=1+1,\r\n=2+2"}
	header := []string{"case", "cell"}
	data := writeCSV(csvPreambleOf(header), []string{"text", "å ä ö Å Ä Ö"})
	for i, c := range hostile {
		data = writeCSV(data, []string{strconv.Itoa(i), c})
	}
	// Not as the exporter writes them: what Calc does without the quote.
	data = append(data, "control,=1+1\r\ncontrol NUL,\x00=1+1\r\n"...)

	dir := t.TempDir()
	in := filepath.Join(dir, "records.csv")
	if err := os.WriteFile(in, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	// The charset is named: headless Calc 7.4 takes it from its options or
	// the locale, not from the BOM (measured). What the BOM must then do is
	// not show up as text in the first cell.
	const filter = "Text - txt - csv (StarCalc):44,34,76,1"
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	profile := (&url.URL{Scheme: "file", Path: filepath.Join(dir, "lo-profile")}).String()
	cmd := exec.CommandContext(ctx, lo, "-env:UserInstallation="+profile, "--headless", "--norestore",
		"--infilter="+filter, "--convert-to", "csv:"+filter, "--outdir", out, in)
	cmd.Env = append(os.Environ(), "HOME="+dir) // a profile of its own: no clash with another LibreOffice
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("libreoffice --convert-to csv: %v\n%s", err, b)
	}
	back := waitForFile(t, filepath.Join(out, "records.csv"), 30*time.Second)
	rows, err := csv.NewReader(bytes.NewReader(back)).ReadAll()
	if err != nil {
		t.Fatalf("%v in %q", err, back)
	}
	if want := 2 + len(hostile) + 2; len(rows) != want {
		t.Fatalf("%d rows read back, want %d: %q", len(rows), want, back)
	}
	if rows[0][0] != "case" || rows[1][1] != "å ä ö Å Ä Ö" {
		t.Errorf("header and text read back as %q and %q, want \"case\" and \"å ä ö Å Ä Ö\"", rows[0][0], rows[1][1])
	}
	for i, c := range hostile {
		// Calc keeps the quote as text, drops a NUL, and reads a CR in a
		// cell as LF. A formula would show its value (2, 1, x, …).
		want := strings.NewReplacer("\x00", "", "\r\n", "\n", "\r", "\n").Replace("'" + c)
		if got := rows[2+i]; got[0] != strconv.Itoa(i) || got[1] != want {
			t.Errorf("%q reads back as %q, want the text %q", c, got[1], want)
		}
	}
	ctrl := rows[len(rows)-2:]
	if ctrl[0][1] != "2" {
		t.Errorf("Calc did not evaluate =1+1 without the quote (%q): this test proves nothing", ctrl[0][1])
	}
	t.Logf("without the quote, Calc shows =1+1 as %q and NUL =1+1 as %q", ctrl[0][1], ctrl[1][1])
}

// waitForFile returns the file once it is there and not empty.
func waitForFile(t *testing.T, path string, wait time.Duration) []byte {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		b, err := os.ReadFile(path)
		if err == nil && len(b) > 0 {
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s after %s: %v", path, wait, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
