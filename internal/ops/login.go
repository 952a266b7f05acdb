package ops

import (
	"crypto/subtle"
	"errors"
	"net/http"

	"github.com/tallyhq/tally/internal/admin"
	"github.com/tallyhq/tally/internal/jsonhttp"
)

const loginCSRF = "tally_login_csrf"

type loginData struct {
	CSRF  string
	Next  string
	Error string
}

// loginForm shows the password form. Its CSRF token is a random value in a cookie and in the
// form (double submit): a page on another site can set neither.
func (h *Handler) loginForm(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.cfg.Auth.Session(r); ok {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	h.renderLogin(w, r, http.StatusOK, "")
}

func (h *Handler) renderLogin(w http.ResponseWriter, r *http.Request, status int, msg string) {
	token := admin.NewToken()
	http.SetCookie(w, &http.Cookie{Name: loginCSRF, Value: token, Path: "/ops/login",
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: h.cfg.Auth.Secure(r), MaxAge: 3600})
	next := r.URL.Query().Get("next")
	if next == "" {
		next = r.PostFormValue("next")
	}
	h.pages.render(w, status, "login.html", loginData{CSRF: token, Next: safeNext(next), Error: msg})
}

// login checks the password and opens a session; wrong passwords count towards the throttle.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	c, err := r.Cookie(loginCSRF)
	if err != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) != 1 {
		h.renderLogin(w, r, http.StatusForbidden, "The form expired. Please try again.")
		return
	}
	ok, err := h.cfg.Auth.Check(r, r.PostFormValue("password"))
	if err == nil && ok {
		err = h.cfg.Auth.StartSession(r.Context(), w, r)
	}
	switch status := jsonhttp.Status(err); {
	case err == nil && !ok:
		h.renderLogin(w, r, http.StatusUnauthorized, "Wrong password.")
	case status == http.StatusTooManyRequests:
		var e *jsonhttp.Error
		errors.As(err, &e)
		w.Header().Set("Retry-After", jsonhttp.RetryAfter(e.RetryAfter))
		h.renderLogin(w, r, status, "Too many attempts. Try again in "+e.RetryAfter.Round(1e9).String()+".")
	case err != nil:
		h.logFailure(r, err)
		h.renderLogin(w, r, status, "Could not log in. See the server log.")
	default:
		http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
	}
}

// logout ends the session (POST with its CSRF token, so no page can log the owner out).
func (h *Handler) logout(w http.ResponseWriter, r *http.Request, token string) error {
	if !admin.ValidCSRF(r, token) {
		return errCSRF
	}
	h.cfg.Auth.EndSession(r.Context(), w, r, token)
	http.Redirect(w, r, "/ops/login", http.StatusSeeOther)
	return nil
}

var errCSRF = jsonhttp.Errorf(jsonhttp.Forbidden, "missing or wrong CSRF token")
