// Package jsonhttp writes JSON responses the same way on every tally endpoint, and holds the one
// vocabulary of errors that handlers return: each Kind has one HTTP status, and Fail writes it
// with a short JSON reason. Handlers return errors; they do not write error statuses themselves.
package jsonhttp

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Write sends v as JSON with status.
func Write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// Kind is what went wrong, as far as the client needs to know.
type Kind uint8

// The kinds of error. Any error that is not an *Error is Unavailable: a store could not be
// read or written, and the client may try again. Visitors never see a 500 over analytics.
const (
	Unavailable     Kind = iota // 503
	Invalid                     // 400: malformed input
	TooLarge                    // 413: a body over its limit
	Forbidden                   // 403: a site or origin that is not ours, a missing CSRF token
	Unauthorized                // 401: no or wrong credentials
	TooManyRequests             // 429: throttled; Retry-After says how long
	NotFound                    // 404
)

var statuses = [...]int{
	Unavailable:     http.StatusServiceUnavailable,
	Invalid:         http.StatusBadRequest,
	TooLarge:        http.StatusRequestEntityTooLarge,
	Forbidden:       http.StatusForbidden,
	Unauthorized:    http.StatusUnauthorized,
	TooManyRequests: http.StatusTooManyRequests,
	NotFound:        http.StatusNotFound,
}

// Error is an error with a kind and a message meant for the client.
type Error struct {
	Kind       Kind
	Msg        string
	RetryAfter time.Duration // for TooManyRequests and Unavailable; 0: none sent
	Err        error         // the cause, for the log; never sent to the client
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of kind k whose message is formatted from format and args.
func Errorf(k Kind, format string, args ...any) error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, args...)}
}

// Throttled returns a TooManyRequests error that tells the client to wait.
func Throttled(msg string, wait time.Duration) error {
	return &Error{Kind: TooManyRequests, Msg: msg, RetryAfter: wait}
}

// Status returns the HTTP status for err.
func Status(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return statuses[e.Kind]
	}
	return http.StatusServiceUnavailable
}

// Message returns what the client is told about err: an *Error's own message, and for any
// other error a plain sentence, since internal details (paths, hosts, SQL) are for the log.
func Message(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Msg
	}
	return "temporarily unavailable; see the server log"
}

// Fail answers err with its status, a Retry-After where it has one, and {"error": reason}. It
// returns the status, for metrics.
func Fail(w http.ResponseWriter, err error) int {
	var e *Error
	if errors.As(err, &e) && e.RetryAfter > 0 {
		w.Header().Set("Retry-After", RetryAfter(e.RetryAfter))
	}
	status := Status(err)
	Write(w, status, map[string]string{"error": Message(err)})
	return status
}

// RetryAfter formats a wait as whole seconds, rounded up, for the Retry-After header.
func RetryAfter(wait time.Duration) string {
	return strconv.Itoa(int((wait + time.Second - 1) / time.Second))
}
