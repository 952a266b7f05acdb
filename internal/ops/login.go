package ops

import (
	"crypto/subtle"
	"errors"
	"net/http"
)

type loginData struct {
	CSRF  string
	Next  string
	Error string
}

// loginForm shows the password form. Its CSRF token is a random value in a cookie and in the
// form (double submit): a page on another site can set neither.
func (h *Handler) loginForm(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.session(r); ok {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	h.renderLogin(w, r, http.StatusOK, "")
}

func (h *Handler) renderLogin(w http.ResponseWriter, r *http.Request, status int, msg string) {
	token := newToken()
	http.SetCookie(w, &http.Cookie{Name: loginCSRF, Value: token, Path: "/ops/login",
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: h.secure(r), MaxAge: 3600})
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
	ok, err := h.checkPassword(r, r.PostFormValue("password"))
	var throttled errThrottled
	switch {
	case errors.As(err, &throttled):
		w.Header().Set("Retry-After", retryAfter(throttled.wait))
		h.renderLogin(w, r, http.StatusTooManyRequests, "Too many wrong passwords. Try again in "+throttled.wait.Round(1e9).String()+".")
		return
	case err != nil:
		h.cfg.Log.Error("check admin password", "err", err)
		h.renderLogin(w, r, http.StatusServiceUnavailable, "The password could not be checked. See the server log.")
		return
	case !ok:
		h.renderLogin(w, r, http.StatusUnauthorized, "Wrong password.")
		return
	}
	if err := h.startSession(r.Context(), w, r); err != nil {
		h.cfg.Log.Error("open owner session", "err", err)
		h.renderLogin(w, r, http.StatusServiceUnavailable, "Could not log in. See the server log.")
		return
	}
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

// logout ends the session (POST with its CSRF token, so no page can log the owner out).
func (h *Handler) logout(w http.ResponseWriter, r *http.Request, token string) {
	if !validCSRF(r, token) {
		http.Error(w, "missing or wrong CSRF token", http.StatusForbidden)
		return
	}
	if err := h.cfg.DB.DeleteSession(r.Context(), hashToken(token)); err != nil {
		h.cfg.Log.Error("end owner session", "err", err)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/ops", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: h.secure(r)})
	http.Redirect(w, r, "/ops/login", http.StatusSeeOther)
}
