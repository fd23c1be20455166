package manage

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/samtycke/samtycke/server/internal/apierr"
	"github.com/samtycke/samtycke/server/internal/auth"
)

// Login checks a password under the login limits and starts a session,
// or, for an account with a second factor, returns *NeedSecondFactor.
func (m *Manager) Login(ctx context.Context, email, password, ip string) (*auth.Session, error) {
	return m.LoginFrom(ctx, email, password, ip, "")
}

// LoginFrom is Login that also notes the browser (the session list shows it).
func (m *Manager) LoginFrom(ctx context.Context, email, password, ip, userAgent string) (*auth.Session, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		auth.CheckNoPassword(password)
		return nil, ErrBadLogin
	}
	if wait, err := m.limit.Wait(ctx, email, ip); err != nil {
		return nil, err
	} else if wait > 0 {
		if err := m.Audit(ctx, Principal{Email: email}, "", "login.limited", map[string]any{"ip": ip, "wait_seconds": int(wait.Seconds())}); err != nil {
			return nil, err
		}
		return nil, tooManyAttempts(wait)
	}
	u, err := m.st.User(ctx, email)
	if err != nil && !IsNotFound(err) {
		return nil, err
	}
	good := false
	if u == nil {
		auth.CheckNoPassword(password)
	} else if good, err = auth.CheckPassword(u.PasswordHash, password); err != nil {
		return nil, err
	}
	if !good {
		if err := m.limit.Failed(ctx, email, ip); err != nil {
			return nil, err
		}
		if err := m.Audit(ctx, Principal{Email: email}, "", "login.failed", map[string]any{"ip": ip}); err != nil {
			return nil, err
		}
		return nil, ErrBadLogin
	}
	if has, err := m.HasSecondFactor(ctx, email); err != nil {
		return nil, err
	} else if has {
		id, err := m.sessions.StartChallenge(ctx, email)
		if err != nil {
			return nil, err
		}
		return nil, &NeedSecondFactor{Challenge: id}
	}
	if err := m.limit.Succeeded(ctx, email, ip); err != nil {
		return nil, err
	}
	sess, err := m.sessions.Start(ctx, auth.Session{Email: email, IP: ip, UserAgent: userAgent})
	if err != nil {
		return nil, err
	}
	return sess, m.Audit(ctx, Principal{Email: email}, "", "login", map[string]any{"ip": ip})
}

// tooManyAttempts says how long to wait, in words and as Retry-After.
func tooManyAttempts(wait time.Duration) error {
	secs := int(wait.Round(time.Second).Seconds())
	if secs < 1 {
		secs = 1
	}
	when := fmt.Sprintf("%d seconds", secs)
	if secs >= 120 {
		when = fmt.Sprintf("%d minutes", (secs+59)/60)
	}
	e := apierr.New(http.StatusTooManyRequests, ErrTooManyLogins.Code, "", "too many failed sign-ins: try again in %s", when)
	e.RetryAfter = time.Duration(secs) * time.Second
	return e
}

// AddUser creates an account.
func (m *Manager) AddUser(ctx context.Context, by Principal, email, password string) error {
	email, err := NormalizeEmail(email)
	if err != nil {
		return err
	}
	if _, err := m.st.User(ctx, email); err == nil {
		return apierr.New(http.StatusConflict, "user_exists", "email", "an account for %s exists", email)
	} else if !IsNotFound(err) {
		return err
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return apierr.New(http.StatusBadRequest, "weak_password", "password", "%s", err.Error())
	}
	if err := m.st.PutUser(ctx, User{Email: email, PasswordHash: hash, CreatedAt: m.now().UTC()}); err != nil {
		return err
	}
	return m.Audit(ctx, by, "", "user.add", map[string]any{"email": email})
}

// SetPassword changes a password and ends every session of the account.
func (m *Manager) SetPassword(ctx context.Context, by Principal, email, password string) error {
	email, err := NormalizeEmail(email)
	if err != nil {
		return err
	}
	u, err := m.st.User(ctx, email)
	if err != nil {
		return err
	}
	if u.PasswordHash, err = auth.HashPassword(password); err != nil {
		return apierr.New(http.StatusBadRequest, "weak_password", "password", "%s", err.Error())
	}
	if err := m.st.PutUser(ctx, *u); err != nil {
		return err
	}
	if err := m.logoutEverywhere(ctx, email); err != nil {
		return err
	}
	return m.Audit(ctx, by, "", "user.password", map[string]any{"email": email})
}

// RemoveUser deletes an account, its memberships and its sessions.
func (m *Manager) RemoveUser(ctx context.Context, by Principal, email string) error {
	email, err := NormalizeEmail(email)
	if err != nil {
		return err
	}
	u, err := m.st.User(ctx, email)
	if err != nil {
		return err
	}
	ms, err := m.st.Memberships(ctx, email)
	if err != nil {
		return err
	}
	for _, mb := range ms {
		mb.Deleted = true
		if err := m.st.PutMember(ctx, mb); err != nil {
			return err
		}
		if err := m.revokeTokensOf(ctx, by, mb.Site, email); err != nil {
			return err
		}
	}
	// A new account under the same address starts without this factor.
	if f, err := m.st.SecondFactor(ctx, email); err == nil {
		f.Removed = true
		if err := m.st.PutSecondFactor(ctx, *f); err != nil {
			return err
		}
	} else if !IsNotFound(err) {
		return err
	}
	u.Deleted = true
	if err := m.st.PutUser(ctx, *u); err != nil {
		return err
	}
	if err := m.logoutEverywhere(ctx, email); err != nil {
		return err
	}
	return m.Audit(ctx, by, "", "user.remove", map[string]any{"email": email})
}

// Users lists the accounts.
func (m *Manager) Users(ctx context.Context) ([]User, error) { return m.st.Users(ctx) }

// LogoutEverywhere ends every session of the principal's account.
func (m *Manager) LogoutEverywhere(ctx context.Context, p Principal) error {
	if err := m.logoutEverywhere(ctx, p.Email); err != nil {
		return err
	}
	return m.Audit(ctx, p, "", "logout.everywhere", nil)
}

func (m *Manager) logoutEverywhere(ctx context.Context, email string) error {
	if m.sessions == nil {
		// The CLI has no session store of its own; the server's sessions
		// still end at their idle timeout.
		return nil
	}
	return m.sessions.LogoutEverywhere(ctx, email)
}

// Bootstrap makes sure the configured owner account exists: on first start
// it is created with password; later starts leave it (and its password)
// alone. It returns whether the account was created.
func (m *Manager) Bootstrap(ctx context.Context, email, password string) (bool, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return false, err
	}
	if _, err := m.st.User(ctx, email); err == nil {
		return false, nil
	} else if !IsNotFound(err) {
		return false, err
	}
	err = m.AddUser(ctx, Principal{Email: "bootstrap"}, email, password)
	var ae *apierr.Error
	if errors.As(err, &ae) && ae.Code == "user_exists" {
		return false, nil
	}
	return err == nil, err
}

// EnsureOwner makes email an owner of site unless it has a role there (the
// bootstrap owner and the demo site).
func (m *Manager) EnsureOwner(ctx context.Context, site, email string) error {
	email, err := NormalizeEmail(email)
	if err != nil {
		return err
	}
	if _, err := m.RoleOn(ctx, Principal{Email: email}, site); err == nil || !IsNotFound(err) {
		return err
	}
	return m.st.PutMember(ctx, Member{Site: site, Email: email, Role: Owner, AddedBy: "bootstrap", AddedAt: m.now().UTC()})
}

// ChangePassword is a person changing their own password: it takes the
// current one, ends every session of the account (the caller starts a new
// one for the browser that asked) and is audited.
func (m *Manager) ChangePassword(ctx context.Context, p Principal, current, next string) error {
	if p.Token != nil {
		return apierr.New(http.StatusForbidden, "forbidden", "", "a password belongs to a person")
	}
	u, err := m.st.User(ctx, p.Email)
	if err != nil {
		return err
	}
	if ok, err := auth.CheckPassword(u.PasswordHash, current); err != nil {
		return err
	} else if !ok {
		return apierr.New(http.StatusUnauthorized, "bad_password", "current", "the current password is not right")
	}
	if current == next {
		return apierr.New(http.StatusBadRequest, "same_password", "password", "the new password is the old one")
	}
	if u.PasswordHash, err = auth.HashPassword(next); err != nil {
		return apierr.New(http.StatusBadRequest, "weak_password", "password", "%s", err.Error())
	}
	if err := m.st.PutUser(ctx, *u); err != nil {
		return err
	}
	if err := m.logoutEverywhere(ctx, p.Email); err != nil {
		return err
	}
	return m.Audit(ctx, p, "", "user.password", map[string]any{"email": p.Email, "by": "self"})
}
