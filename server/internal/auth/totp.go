package auth

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"image/png"
	"net/url"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTP is a time-based one-time password (RFC 6238) as authenticator apps
// know it: SHA-1, six digits, 30-second steps.
var totpOpts = totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// TOTPSetup is a new secret to show once: as a QR code and as text.
type TOTPSetup struct {
	Secret string // base32
	URL    string // otpauth://totp/…
	QR     string // data:image/png;base64,… of URL
}

// NewTOTP makes a secret for account (an email) under issuer.
func NewTOTP(issuer, account string) (*TOTPSetup, error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: account, SecretSize: 20,
		Period: totpOpts.Period, Digits: totpOpts.Digits, Algorithm: totpOpts.Algorithm})
	if err != nil {
		return nil, fmt.Errorf("totp: %w", err)
	}
	return setupOf(key)
}

// CheckTOTP reports whether code is secret's code at now, one step early
// or late (a phone's clock drifts), and for which step: a step's code is
// to be taken once (the caller records the step).
func CheckTOTP(secret, code string, now time.Time) (step int64, ok bool) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != 6 {
		return 0, false
	}
	for _, skew := range []int64{0, -1, 1} {
		at := now.Add(time.Duration(skew*int64(totpOpts.Period)) * time.Second)
		want, err := totp.GenerateCodeCustom(secret, at, totpOpts)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return at.Unix() / int64(totpOpts.Period), true
		}
	}
	return 0, false
}

// TOTPCode is secret's code at t (for tests and the CLI).
func TOTPCode(secret string, t time.Time) (string, error) {
	return totp.GenerateCodeCustom(secret, t, totpOpts)
}

var recoveryEnc = base32.NewEncoding("abcdefghijkmnpqrstuvwxyz23456789").WithPadding(base32.NoPadding)

// NewRecoveryCodes returns n codes of 50 random bits, written xxxxx-xxxxx
// without the letters people confuse (l, o, 0, 1).
func NewRecoveryCodes(n int) []string {
	out := make([]string, n)
	for i := range out {
		b := make([]byte, 7)
		if _, err := rand.Read(b); err != nil {
			panic(err) // crypto/rand does not fail on supported systems
		}
		s := recoveryEnc.EncodeToString(b)[:10]
		out[i] = s[:5] + "-" + s[5:]
	}
	return out
}

// NormalizeRecoveryCode is a typed recovery code as it was issued:
// lowercase, with the dash, without spaces.
func NormalizeRecoveryCode(code string) string {
	c := strings.ToLower(strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(code)))
	if len(c) != 10 {
		return ""
	}
	return c[:5] + "-" + c[5:]
}

// TOTPSetupFor is like (its issuer and account) with secret: the
// set-up shown again after a mistyped first code, for the secret the app
// has scanned already.
func TOTPSetupFor(like *TOTPSetup, secret string) (*TOTPSetup, error) {
	if _, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret); err != nil {
		return nil, fmt.Errorf("totp: %w", err)
	}
	u, err := url.Parse(like.URL)
	if err != nil {
		return nil, fmt.Errorf("totp: %w", err)
	}
	q := u.Query()
	q.Set("secret", secret)
	u.RawQuery = q.Encode()
	key, err := otp.NewKeyFromURL(u.String())
	if err != nil {
		return nil, fmt.Errorf("totp: %w", err)
	}
	return setupOf(key)
}

func setupOf(key *otp.Key) (*TOTPSetup, error) {
	img, err := key.Image(240, 240)
	if err != nil {
		return nil, fmt.Errorf("totp: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("totp: %w", err)
	}
	return &TOTPSetup{Secret: key.Secret(), URL: key.URL(), QR: "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())}, nil
}
