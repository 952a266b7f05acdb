// Package admin is who the owner is: the admin password (a bcrypt hash in the data directory),
// dashboard sessions, the throttle on password guesses, and the middleware that lets only the
// owner through to /ops and /metrics. Sessions live in a store of their own, behind Sessions,
// so the read model holds nothing that cannot be rebuilt from the write model.
package admin

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tallyhq/tally/internal/clientip"
	"github.com/tallyhq/tally/internal/jsonhttp"
)

// User is the HTTP Basic user name for the admin API.
const User = "admin"

const (
	sessionCookie = "tally_session"
	sessionTTL    = 14 * 24 * time.Hour
)

// Sessions keeps owner sessions by the hash of their token, with the fingerprint of the
// password they were opened under and their expiry; expired ones are never valid.
type Sessions interface {
	CreateSession(ctx context.Context, tokenHash, pw string, expires time.Time) error
	SessionValid(ctx context.Context, tokenHash, pw string) (bool, error)
	DeleteSession(ctx context.Context, tokenHash string) error
}

// Config is what Auth needs.
type Config struct {
	Passwords Passwords
	Sessions  Sessions
	IPs       *clientip.Resolver
	Now       func() time.Time
	Log       *slog.Logger
}

// Auth checks the owner's credentials.
type Auth struct {
	cfg      Config
	throttle *throttle
	slots    chan struct{}
	noted    atomic.Bool // the owner's first login was noted
	// remembered is the last verified password, as a keyed hash of it and of the stored hash
	// it matched, with when it stops counting: a script's next calls skip bcrypt, and a new
	// password (set on any node: the stored hash changes) leaves it unmatched.
	remembered atomic.Pointer[verified]
	key        [32]byte // the key of those hashes, random per process
}

// rememberFor is how long a verified password skips bcrypt.
const rememberFor = 5 * time.Minute

type verified struct {
	mac   [32]byte
	until time.Time
}

// New returns an Auth.
func New(cfg Config) *Auth {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	a := &Auth{cfg: cfg, throttle: newThrottle(cfg.Now), slots: make(chan struct{}, bcryptParallel)}
	rand.Read(a.key[:])
	return a
}

// mac is the keyed hash that remembers password as verified against the stored hash.
func (a *Auth) mac(hash []byte, password string) [32]byte {
	m := hmac.New(sha256.New, a.key[:])
	m.Write(hash)
	m.Write([]byte{0})
	m.Write([]byte(password))
	var out [32]byte
	m.Sum(out[:0])
	return out
}

// recall reports whether password was verified against hash within rememberFor.
func (a *Auth) recall(hash []byte, password string) bool {
	v := a.remembered.Load()
	if v == nil || !a.cfg.Now().Before(v.until) {
		return false
	}
	mac := a.mac(hash, password)
	return hmac.Equal(mac[:], v.mac[:])
}

// Check reports whether password is the admin password, counting the attempt against the
// request's client first. A throttled client gets a TooManyRequests error with how long to wait.
func (a *Auth) Check(r *http.Request, password string) (bool, error) {
	// A password verified a moment ago costs a read of the stored hash, not a bcrypt: scripts
	// call the API many times a minute.
	hash, err := a.cfg.Passwords.PasswordHash(r.Context())
	if err != nil && !errors.Is(err, ErrNoPassword) {
		return false, err
	}
	if hash != nil && a.recall(hash, password) {
		return true, nil
	}
	at, wait := a.throttle.admit(a.cfg.IPs.IP(r))
	if wait > 0 {
		return false, jsonhttp.Throttled("too many password attempts; try again later", wait)
	}
	right := false
	defer func() { a.throttle.end(at, right) }()
	// First the client's own turn, then one of the few bcrypt slots.
	for _, sem := range []chan struct{}{at.turn, a.slots} {
		select {
		case sem <- struct{}{}:
			defer func() { <-sem }()
		case <-r.Context().Done():
			return false, r.Context().Err()
		}
	}
	right, err = CheckPassword(r.Context(), a.cfg.Passwords, password)
	if err != nil && !errors.Is(err, ErrNoPassword) {
		return false, err
	}
	if right && hash != nil {
		a.remembered.Store(&verified{mac: a.mac(hash, password), until: a.cfg.Now().Add(rememberFor)})
	}
	if right && !a.noted.Swap(true) {
		if err := a.cfg.Passwords.NoteLogin(r.Context()); err != nil {
			a.noted.Store(false)
			a.cfg.Log.Warn("cannot note the owner's first login", "err", err)
		}
	}
	return right, nil
}

// Session returns the request's session token if it names a live session.
func (a *Auth) Session(r *http.Request) (string, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return "", false
	}
	pw, err := fingerprint(r.Context(), a.cfg.Passwords)
	if err != nil {
		return "", false
	}
	ok, err := a.cfg.Sessions.SessionValid(r.Context(), hashToken(c.Value), pw)
	if err != nil {
		a.cfg.Log.Error("check owner session", "err", err)
		return "", false
	}
	return c.Value, ok
}

// StartSession opens a session and sets its cookie.
func (a *Auth) StartSession(ctx context.Context, w http.ResponseWriter, r *http.Request) error {
	pw, err := fingerprint(ctx, a.cfg.Passwords)
	if err != nil {
		return err
	}
	token := NewToken()
	expires := a.cfg.Now().Add(sessionTTL)
	if err := a.cfg.Sessions.CreateSession(ctx, hashToken(token), pw, expires); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: token, Path: "/ops", Expires: expires,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: a.Secure(r),
	})
	return nil
}

// EndSession ends the session of token and clears its cookie.
func (a *Auth) EndSession(ctx context.Context, w http.ResponseWriter, r *http.Request, token string) {
	if err := a.cfg.Sessions.DeleteSession(ctx, hashToken(token)); err != nil {
		a.cfg.Log.Error("end owner session", "err", err)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/ops", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: a.Secure(r)})
}

// Secure reports whether the owner reached us over TLS, directly or through a trusted proxy.
func (a *Auth) Secure(r *http.Request) bool {
	return r.TLS != nil || (a.cfg.IPs.Trusted(r) && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https"))
}

// RequirePage lets owners with a session through and sends everyone else to the login form.
func (a *Auth) RequirePage(next func(w http.ResponseWriter, r *http.Request, token string)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := a.Session(r)
		if !ok {
			http.Redirect(w, r, "/ops/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		next(w, r, token)
	})
}

// RequireAPI lets through a session or HTTP Basic admin:<password>; others get 401, or 429
// after too many wrong passwords. A state-changing request on a session must carry its CSRF
// token; Basic credentials are sent by scripts, and browsers' cross-site requests are refused
// before this by http.CrossOriginProtection.
func (a *Auth) RequireAPI(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.authorize(r); err != nil {
			if jsonhttp.Status(err) == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Basic realm="tally", charset="UTF-8"`)
			}
			if jsonhttp.Status(err) == http.StatusServiceUnavailable {
				a.cfg.Log.Error("check admin credentials", "err", err)
			}
			jsonhttp.Fail(w, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (a *Auth) authorize(r *http.Request) error {
	if token, ok := a.Session(r); ok {
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !ValidCSRF(r, token) {
			return jsonhttp.Errorf(jsonhttp.Forbidden, "missing or wrong CSRF token")
		}
		return nil
	}
	user, pass, ok := r.BasicAuth()
	if !ok {
		return jsonhttp.Errorf(jsonhttp.Unauthorized, "admin password required")
	}
	right, err := a.Check(r, pass)
	switch {
	case err != nil:
		return err
	case !right || subtle.ConstantTimeCompare([]byte(user), []byte(User)) != 1:
		return jsonhttp.Errorf(jsonhttp.Unauthorized, "wrong user or password")
	}
	return nil
}

// NewToken returns 32 random bytes, base64url-encoded.
func NewToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashToken is what the session store keeps: a copy of it cannot be used to log in.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// CSRFToken is bound to the session: a page of another site cannot know it.
func CSRFToken(sessionToken string) string {
	m := hmac.New(sha256.New, []byte(sessionToken))
	m.Write([]byte("tally csrf"))
	return hex.EncodeToString(m.Sum(nil))
}

// ValidCSRF reports whether the request carries the session's CSRF token, in the
// X-CSRF-Token header or the csrf form field.
func ValidCSRF(r *http.Request, sessionToken string) bool {
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = r.PostFormValue("csrf")
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(CSRFToken(sessionToken))) == 1
}
