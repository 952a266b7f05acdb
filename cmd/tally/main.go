// Command tally is a self-hosted, privacy-first view and like counter; `tally help` lists its
// commands. This package only parses flags and wires the internal packages together.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/tallyhq/tally/internal/envflag"
	"github.com/tallyhq/tally/internal/node"
)

// env bundles what a command may touch, so tests run commands in-process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) (string, bool)
}

type command struct {
	name     string
	synopsis string
	run      func(ctx context.Context, e env, c command, args []string) error
}

var commands = []command{
	{"serve", "Run the HTTP server and the cron jobs (flush every 15 minutes, snapshot at 00:05 UTC).", runServe},
	{"flush", "Copy every changed item's counts from the write model into the read model, once.", runFlush},
	{"snapshot", "Write one day's totals of the items that changed that day, and of any earlier day no snapshot wrote yet (default: yesterday, UTC). Safe to re-run; use it to backfill.", runSnapshot},
	{"top", "Print the most viewed items from the read model (as of the last flush).", runTop},
	{"passwd", "Set a new admin password, read from standard input (empty: generate one and print it).", runPasswd},
	{"import", "Set starting views and likes from Markdown frontmatter or a CSV file (tally import --help).", runImport},
	{"backup", "Copy both stores, the salt and the password hash into a new folder: tally backup DIR. Works while the server runs (through its admin API).", runBackup},
	{"restore", "Put a backup made by tally backup back into the data directory (the server must be stopped): tally restore DIR.", runRestore},
	{"healthcheck", "Exit 0 when the server on --addr answers /healthz (for container health checks).", runHealthcheck},
	{"version", "Print the version of tally and the commit it was built from.", runVersion},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.LookupEnv}
	if err := run(ctx, e, os.Args[1:]); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "tally:", err)
		}
		os.Exit(exitCode(err))
	}
}

func exitCode(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 1
}

func run(ctx context.Context, e env, args []string) error {
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version") {
		args = []string{"version"}
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(e.stdout)
		if len(args) == 0 {
			return errors.New("no command given")
		}
		return nil
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(ctx, e, c, args[1:])
		}
	}
	usage(e.stderr)
	if strings.HasPrefix(args[0], "-") {
		return fmt.Errorf("%q before the command: flags go after it, as in tally top --data ./data", args[0])
	}
	return fmt.Errorf("unknown command %q", args[0])
}

// runVersion prints the module version and the VCS commit the binary was built from, as Go
// records them (go build in a git checkout, go install …@version).
func runVersion(_ context.Context, e env, c command, args []string) error {
	fs := envflag.NewFlagSet(c.name, c.synopsis, e.stderr)
	if err := envflag.Parse(fs, args, e.getenv); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, version())
	return nil
}

// version describes the running binary: "tally v1.2.3 (commit abc123def456, 2026-12-03T14:00:00Z)",
// "tally (devel) (commit abc123def456, modified)" for a build from a changed work tree.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "tally (unknown version)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, at, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "modified"
			}
		}
	}
	var about []string
	if rev != "" {
		about = append(about, "commit "+rev[:min(12, len(rev))])
	}
	for _, s := range []string{at, modified} {
		if s != "" {
			about = append(about, s)
		}
	}
	out := "tally " + v
	if len(about) > 0 {
		out += " (" + strings.Join(about, ", ") + ")"
	}
	return out + ", " + bi.GoVersion
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "tally: a self-hosted, privacy-first view and like counter.\n\nUsage: tally <command> [flags]\n\nCommands:")
	width := 0
	for _, c := range commands {
		width = max(width, len(c.name))
	}
	for _, c := range commands {
		fmt.Fprintf(w, "  %-*s  %s\n", width, c.name, c.synopsis)
	}
	fmt.Fprintln(w, "\nRun tally <command> --help for its flags. Every flag can also be set as TALLY_<FLAG>, e.g. TALLY_DATA=/var/lib/tally.")
}

func newLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func runServe(ctx context.Context, e env, c command, args []string) error {
	var f serveFlags
	fs := envflag.NewFlagSet(c.name, c.synopsis, e.stderr)
	f.register(fs)
	if err := envflag.Parse(fs, args, e.getenv); err != nil {
		return err
	}
	cfg, err := f.config()
	if err != nil {
		return err
	}
	m := &node.Main{Config: cfg, Log: newLogger(e.stderr), Stdout: e.stdout}
	if err := m.Open(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	m.Log.Info("shutting down: finishing requests and flushing")
	if err := m.Close(); err != nil {
		return err
	}
	m.Log.Info("stopped")
	return nil
}
