package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/tallyhq/tally/internal/envflag"
)

// runHealthcheck asks the server on --addr for /healthz and succeeds when it answers 200: the
// check a container runs (the distroless image has no curl).
func runHealthcheck(ctx context.Context, e env, c command, args []string) error {
	fs := envflag.NewFlagSet(c.name, c.synopsis, e.stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "the address tally serve listens on (TALLY_ADDR, as for serve)")
	if err := envflag.Parse(fs, args, e.getenv); err != nil {
		return err
	}
	host, port, err := net.SplitHostPort(*addr)
	if err != nil {
		return fmt.Errorf("--addr %q: want HOST:PORT, e.g. 127.0.0.1:8080", *addr)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1" // listening on every address: ask on loopback
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+net.JoinHostPort(host, port)+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: /healthz answered %s", resp.Status)
	}
	fmt.Fprintln(e.stdout, "ok")
	return nil
}
