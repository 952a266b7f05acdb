package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/tallyhq/tally/internal/admin"
	"github.com/tallyhq/tally/internal/envflag"
	"github.com/tallyhq/tally/internal/store"
	"golang.org/x/term"
)

func runPasswd(ctx context.Context, e env, c command, args []string) error {
	fs := envflag.NewFlagSet(c.name, c.synopsis, e.stderr)
	data := fs.String("data", "./data", "data directory")
	writeStore := fs.String("write-store", "", writeStoreUsage+"; with Redis the password is every node's")
	if err := envflag.Parse(fs, args, e.getenv); err != nil {
		return err
	}
	if err := sameStores(*data, *writeStore, "", true, false); err != nil {
		return fmt.Errorf("%w: the admin password is every node's, kept in the write model", err)
	}
	var ps admin.Passwords = admin.File(*data)
	if store.IsRedis(*writeStore) {
		w, err := store.OpenWriteModel(ctx, *data, store.Options{WriteStore: *writeStore})
		if err != nil {
			return err
		}
		defer w.Close()
		ps = store.Passwords(w, *data)
	} else if _, err := os.Stat(*data); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	pw, err := readPassword(e, fmt.Sprintf("New admin password (at least %d characters; empty to generate one): ", admin.MinPasswordLength))
	if err != nil {
		return err
	}
	if pw != "" && isTerminal(e.stdin) {
		again, err := readPassword(e, "The same again: ")
		if err != nil {
			return err
		}
		if again != pw {
			return errors.New("the two passwords differ; nothing changed")
		}
	}
	generated := pw == ""
	if generated {
		pw = admin.GeneratePassword()
	}
	if err := admin.SetPassword(ctx, ps, pw); err != nil {
		return err
	}
	if generated {
		fmt.Fprintf(e.stdout, "new admin password: %s\n", pw)
	} else {
		fmt.Fprintln(e.stdout, "admin password changed")
	}
	return nil
}

// readPassword asks for a password: without echo on a terminal, else one line of the input
// (for scripts: echo "$PW" | tally passwd).
func readPassword(e env, prompt string) (string, error) {
	fmt.Fprint(e.stderr, prompt)
	defer fmt.Fprintln(e.stderr)
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		b, err := term.ReadPassword(int(f.Fd()))
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		return string(b), nil
	}
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && line == "" && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
