package manage

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/samtycke/samtycke/server/internal/apierr"
	"github.com/samtycke/samtycke/server/internal/auth"
)

// RecoveryCodeCount is how many recovery codes a new second factor gets.
const RecoveryCodeCount = 10

var (
	errBadCode = apierr.New(http.StatusUnauthorized, "bad_code", "code",
		"that code is not right: type the six digits your app shows now, or one of your recovery codes")
	errChallengeGone = apierr.New(http.StatusUnauthorized, "login_expired", "",
		"the sign-in took too long or had too many wrong codes: sign in again")
	// ErrTwoFactorRequired is a member without a second factor on a site
	// whose owners require one.
	ErrTwoFactorRequired = apierr.New(http.StatusForbidden, "two_factor_required", "",
		"This site's owners require two-factor authentication. Set it up under your account (your address at the top right), or sign in again with it, then come back.")
)

// NeedSecondFactor is Login's answer for a right password on an account
// with a second factor: the login waits under Challenge for a code.
type NeedSecondFactor struct{ Challenge string }

func (e *NeedSecondFactor) Error() string { return "a second factor is needed" }

// HasSecondFactor reports whether email has a second factor.
func (m *Manager) HasSecondFactor(ctx context.Context, email string) (bool, error) {
	_, err := m.st.SecondFactor(ctx, email)
	if IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// WithSecondFactor reports which of emails have a second factor (the
// members list shows it).
func (m *Manager) WithSecondFactor(ctx context.Context, emails []string) (map[string]bool, error) {
	if len(emails) == 0 {
		return map[string]bool{}, nil
	}
	return m.st.WithSecondFactor(ctx, emails)
}

// NewTOTP makes a secret for the principal to set up; nothing is stored
// until EnableTOTP confirms it with a code.
func (m *Manager) NewTOTP(p Principal) (*auth.TOTPSetup, error) {
	issuer := "Samtycke"
	if m.base != "" {
		if host := hostOf(m.base); host != "" {
			issuer += " (" + host + ")"
		}
	}
	return auth.NewTOTP(issuer, p.Email)
}

// EnableTOTP stores secret as the principal's second factor once code
// proves the app has it, and returns the recovery codes, shown this once.
func (m *Manager) EnableTOTP(ctx context.Context, p Principal, secret, code string) ([]string, error) {
	if p.Token != nil {
		return nil, apierr.New(http.StatusForbidden, "forbidden", "", "a second factor belongs to a person")
	}
	if has, err := m.HasSecondFactor(ctx, p.Email); err != nil {
		return nil, err
	} else if has {
		return nil, apierr.New(http.StatusConflict, "two_factor_exists", "", "two-factor authentication is on already: remove it first to set up another app")
	}
	if len(secret) < 16 || len(secret) > 64 {
		return nil, apierr.New(http.StatusBadRequest, "invalid_secret", "secret", "the set-up form was altered: start again")
	}
	step, ok := auth.CheckTOTP(secret, code, m.now())
	if !ok {
		return nil, errBadCode
	}
	if err := m.useStep(ctx, p.Email, step); err != nil {
		return nil, err
	}
	codes := auth.NewRecoveryCodes(RecoveryCodeCount)
	hashes := make([]string, len(codes))
	for i, c := range codes {
		hashes[i] = auth.HashSecret(c)
	}
	f := SecondFactor{Email: p.Email, ID: auth.RandomToken(9), Secret: secret, RecoveryCodes: hashes, CreatedAt: m.now().UTC()}
	if err := m.st.PutSecondFactor(ctx, f); err != nil {
		return nil, err
	}
	return codes, m.Audit(ctx, p, "", "two_factor.enable", nil)
}

// DisableTOTP removes the principal's second factor; it takes the password
// and a current code (or a recovery code).
func (m *Manager) DisableTOTP(ctx context.Context, p Principal, password, code string) error {
	u, err := m.st.User(ctx, p.Email)
	if err != nil {
		return err
	}
	if ok, err := auth.CheckPassword(u.PasswordHash, password); err != nil {
		return err
	} else if !ok {
		return apierr.New(http.StatusUnauthorized, "bad_password", "password", "the password is not right")
	}
	f, err := m.st.SecondFactor(ctx, p.Email)
	if IsNotFound(err) {
		return apierr.New(http.StatusNotFound, "not_found", "", "two-factor authentication is off already")
	}
	if err != nil {
		return err
	}
	if _, err := m.checkFactor(ctx, f, code); err != nil {
		return err
	}
	f.Removed = true
	if err := m.st.PutSecondFactor(ctx, *f); err != nil {
		return err
	}
	return m.Audit(ctx, p, "", "two_factor.disable", nil)
}

// checkFactor accepts a current TOTP code (each step once) or an unused
// recovery code (once), and says which.
func (m *Manager) checkFactor(ctx context.Context, f *SecondFactor, code string) (string, error) {
	if step, ok := auth.CheckTOTP(f.Secret, code, m.now()); ok {
		return "totp", m.useStep(ctx, f.Email, step)
	}
	rc := auth.NormalizeRecoveryCode(code)
	if rc == "" {
		return "", errBadCode
	}
	h := auth.HashSecret(rc)
	if !slices.Contains(f.RecoveryCodes, h) {
		return "", errBadCode
	}
	used, err := m.st.RecoveryCodesUsed(ctx, f.Email, f.ID)
	if err != nil {
		return "", err
	}
	if slices.Contains(used, h) {
		return "", errBadCode
	}
	if m.claims != nil {
		if held, err := m.claims.SetNX(ctx, "recovery-used:"+h, []byte("1"), 24*time.Hour); err != nil {
			return "", err
		} else if held != nil {
			return "", errBadCode
		}
	}
	if err := m.st.UseRecoveryCode(ctx, f.Email, f.ID, h, m.now()); err != nil {
		return "", err
	}
	return "recovery", nil
}

// useStep takes a TOTP step for email once: a code seen by someone looking
// over a shoulder does not sign in a second time.
func (m *Manager) useStep(ctx context.Context, email string, step int64) error {
	if m.claims == nil {
		return nil
	}
	held, err := m.claims.SetNX(ctx, "totp-used:"+email+":"+strconv.FormatInt(step, 10), []byte("1"), 3*time.Minute)
	if err != nil {
		return err
	}
	if held != nil {
		return apierr.New(http.StatusUnauthorized, "code_used", "code", "that code was used already: wait for the next one")
	}
	return nil
}

// LoginSecondFactor finishes a login that waits for its second factor.
// Wrong codes count against the login limits like wrong passwords.
func (m *Manager) LoginSecondFactor(ctx context.Context, challenge, code, ip, userAgent string) (*auth.Session, error) {
	email, err := m.sessions.Challenge(ctx, challenge)
	if err != nil {
		return nil, errChallengeGone
	}
	if wait, err := m.limit.Wait(ctx, email, ip); err != nil {
		return nil, err
	} else if wait > 0 {
		return nil, tooManyAttempts(wait)
	}
	f, err := m.st.SecondFactor(ctx, email)
	if IsNotFound(err) {
		// Removed while this login waited: its password was checked with
		// the factor in mind, so it starts again.
		_ = m.sessions.EndChallenge(ctx, challenge)
		return nil, errChallengeGone
	}
	if err != nil {
		return nil, err
	}
	how, err := m.checkFactor(ctx, f, code)
	if err != nil {
		if err := m.sessions.FailChallenge(ctx, challenge); err != nil {
			return nil, err
		}
		if err := m.limit.Failed(ctx, email, ip); err != nil {
			return nil, err
		}
		if err := m.Audit(ctx, Principal{Email: email}, "", "login.failed", map[string]any{"ip": ip, "second_factor": true}); err != nil {
			return nil, err
		}
		return nil, err
	}
	if err := m.sessions.EndChallenge(ctx, challenge); err != nil {
		return nil, err
	}
	if err := m.limit.Succeeded(ctx, email, ip); err != nil {
		return nil, err
	}
	sess, err := m.sessions.Start(ctx, auth.Session{Email: email, SecondFactor: how, IP: ip, UserAgent: userAgent})
	if err != nil {
		return nil, err
	}
	return sess, m.Audit(ctx, Principal{Email: email}, "", "login", map[string]any{"ip": ip, "second_factor": how})
}

// SitePolicy is what site's owners require.
func (m *Manager) SitePolicy(ctx context.Context, site string) (*SitePolicy, error) {
	return m.st.SitePolicy(ctx, site)
}

// RequireTwoFactor sets whether site's members must sign in with a second
// factor. An owner turns it on only from a session that has one, so as not
// to lock themselves out.
func (m *Manager) RequireTwoFactor(ctx context.Context, p Principal, sessionFactor, site string, on bool) error {
	if on && p.Token == nil && sessionFactor == "" {
		return apierr.New(http.StatusConflict, "two_factor_yourself", "require_two_factor",
			"set up two-factor authentication for yourself (Account) and sign in with it before you require it of others")
	}
	pol := SitePolicy{Site: site, RequireTwoFactor: on, SetBy: p.Name(), SetAt: m.now().UTC()}
	if err := m.st.PutSitePolicy(ctx, pol); err != nil {
		return err
	}
	return m.Audit(ctx, p, site, "site.require_two_factor", map[string]any{"on": on})
}

func hostOf(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return ""
	}
	return u.Host
}
