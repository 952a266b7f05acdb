package node

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"time"

	"github.com/tallyhq/tally/internal/jsonhttp"
)

// httpServer is a listening HTTP server.
type httpServer struct {
	http *http.Server
	ln   net.Listener
	errc chan error
}

// listenOn takes the address ("127.0.0.1:0" picks a free port) before anything else is done, so
// that a busy port or a bad address fails start-up first.
func listenOn(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w (want a free HOST:PORT, e.g. 127.0.0.1:8080)", addr, err)
	}
	return ln, nil
}

// serve starts serving h on ln.
func serve(ln net.Listener, h http.Handler, log *slog.Logger) *httpServer {
	s := &httpServer{ln: ln, errc: make(chan error, 1), http: &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          newErrorLog(log),
	}}
	go func() { s.errc <- s.http.Serve(ln) }()
	return s
}

// URL is the base URL the server answers on.
func (s *httpServer) URL() string { return "http://" + s.ln.Addr().String() }

// Shutdown stops accepting connections and waits for requests in flight until ctx ends.
func (s *httpServer) Shutdown(ctx context.Context) error {
	var errs []error
	if err := s.http.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("shut down HTTP server: %w", err))
	}
	if err := <-s.errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		errs = append(errs, fmt.Errorf("serve: %w", err))
	}
	return errors.Join(errs...)
}

// clientAddr matches the peer addresses net/http puts in its error messages ("http: panic
// serving 203.0.113.7:51234"), which must not reach the log.
var clientAddr = regexp.MustCompile(`\[?[0-9a-fA-F:.]*[0-9a-fA-F]\]?:\d+`)

// redactingWriter turns net/http's error log lines into slog records without client addresses.
type redactingWriter struct{ log *slog.Logger }

func newErrorLog(l *slog.Logger) *log.Logger { return log.New(redactingWriter{l}, "", 0) }

func (w redactingWriter) Write(p []byte) (int, error) {
	msg := clientAddr.ReplaceAllString(string(p), "[client]")
	w.log.Warn("http server", "msg", msg)
	return len(p), nil
}

// health answers GET /healthz: {"status":"ok"} and each check "ok", or 503 with
// "status":"unavailable" and the checks that failed within two seconds "down", so an operator
// sees which store is unreachable.
func health(log *slog.Logger, degraded func() string, checks map[string]func(context.Context) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		answer := map[string]string{"status": "ok"}
		status := http.StatusOK
		if reason := degraded(); reason != "" {
			// Still serving and counting, but something the owner must know about is wrong.
			answer["status"], answer["reason"] = "degraded", reason
		}
		for name, check := range checks {
			answer[name] = "ok"
			if err := check(ctx); err != nil {
				log.Warn("health check: a store does not answer", "store", name, "err", err)
				answer[name], answer["status"], status = "down", "unavailable", http.StatusServiceUnavailable
			}
		}
		jsonhttp.Write(w, status, answer)
	})
}
