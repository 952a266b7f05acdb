package ops

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tallyhq/tally/internal/jsonhttp"
)

const (
	sessionCookie = "tally_session"
	loginCSRF     = "tally_login_csrf"
	sessionTTL    = 14 * 24 * time.Hour
)

// errThrottled means the client failed too often and must wait.
type errThrottled struct{ wait time.Duration }

func (e errThrottled) Error() string { return fmt.Sprintf("too many attempts; retry in %s", e.wait) }

// checkPassword checks a password for the request's client under the throttle. At most
// bcryptParallel checks run at once; the others wait their turn rather than being refused.
func (h *Handler) checkPassword(r *http.Request, password string) (bool, error) {
	ip := h.cfg.IPs.IP(r)
	if wait := h.throttle.blocked(ip); wait > 0 {
		return false, errThrottled{wait}
	}
	select {
	case h.bcryptSlots <- struct{}{}:
		defer func() { <-h.bcryptSlots }()
	case <-r.Context().Done():
		return false, r.Context().Err()
	}
	ok, err := CheckPassword(h.cfg.DataDir, password)
	if err != nil && !errors.Is(err, ErrNoPassword) {
		return false, err
	}
	if ok {
		h.throttle.succeed(ip)
	} else {
		h.throttle.fail(ip)
	}
	return ok, nil
}

// newToken returns 32 random bytes, base64url-encoded.
func newToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// csrfToken is bound to the session: a page of another site cannot know it.
func csrfToken(sessionToken string) string {
	m := hmac.New(sha256.New, []byte(sessionToken))
	m.Write([]byte("tally csrf"))
	return hex.EncodeToString(m.Sum(nil))
}

// session returns the request's session token if it is valid.
func (h *Handler) session(r *http.Request) (string, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return "", false
	}
	pw, err := PasswordFingerprint(h.cfg.DataDir)
	if err != nil {
		return "", false
	}
	ok, err := h.cfg.DB.SessionValid(r.Context(), hashToken(c.Value), pw)
	if err != nil {
		h.cfg.Log.Error("check owner session", "err", err)
		return "", false
	}
	return c.Value, ok
}

// startSession opens a session and sets its cookie.
func (h *Handler) startSession(ctx context.Context, w http.ResponseWriter, r *http.Request) error {
	pw, err := PasswordFingerprint(h.cfg.DataDir)
	if err != nil {
		return err
	}
	token := newToken()
	expires := h.cfg.Now().Add(sessionTTL)
	if err := h.cfg.DB.CreateSession(ctx, hashToken(token), pw, expires); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: token, Path: "/ops", Expires: expires,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: h.secure(r),
	})
	return nil
}

// secure reports whether the owner reached us over TLS, directly or through a trusted proxy.
func (h *Handler) secure(r *http.Request) bool {
	return r.TLS != nil || (h.cfg.IPs.Trusted(r) && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https"))
}

// requirePage lets owners with a session through and sends everyone else to the login form.
func (h *Handler) requirePage(next func(http.ResponseWriter, *http.Request, string)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := h.session(r)
		if !ok {
			http.Redirect(w, r, "/ops/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		next(w, r, token)
	})
}

// requireAPI lets through a session or HTTP Basic admin:<password>; others get 401, or 429
// after too many wrong passwords. A state-changing request on a session must carry its CSRF
// token; Basic credentials are sent by scripts, and browsers' cross-site requests are refused
// before this by http.CrossOriginProtection.
func (h *Handler) requireAPI(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token, ok := h.session(r); ok {
			if r.Method != http.MethodGet && r.Method != http.MethodHead && !validCSRF(r, token) {
				jsonhttp.Error(w, http.StatusForbidden, "missing or wrong CSRF token")
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		user, pass, ok := r.BasicAuth()
		if ok {
			good, err := h.checkPassword(r, pass)
			var throttled errThrottled
			switch {
			case errors.As(err, &throttled):
				tooMany(w, throttled.wait)
				return
			case err != nil:
				h.cfg.Log.Error("check admin password", "err", err)
				jsonhttp.Error(w, http.StatusServiceUnavailable, "cannot check the password")
				return
			case good && subtle.ConstantTimeCompare([]byte(user), []byte(AdminUser)) == 1:
				next.ServeHTTP(w, r)
				return
			}
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="tally", charset="UTF-8"`)
		jsonhttp.Error(w, http.StatusUnauthorized, "admin password required")
	})
}

func validCSRF(r *http.Request, sessionToken string) bool {
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = r.PostFormValue("csrf")
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(csrfToken(sessionToken))) == 1
}

func tooMany(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", retryAfter(wait))
	jsonhttp.Error(w, http.StatusTooManyRequests, "too many wrong passwords; try again later")
}

// retryAfter formats a wait as whole seconds, rounded up.
func retryAfter(wait time.Duration) string {
	return strconv.Itoa(int((wait + time.Second - 1) / time.Second))
}
