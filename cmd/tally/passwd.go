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
	"github.com/tallyhq/tally/internal/datadir"
	"github.com/tallyhq/tally/internal/envflag"
)

func runPasswd(ctx context.Context, e env, c command, args []string) error {
	fs := envflag.NewFlagSet(c.name, c.synopsis, e.stderr)
	data := fs.String("data", "./data", "data directory")
	writeStore := fs.String("write-store", "", writeStoreUsage+"; with Redis the password is every node's")
	if err := envflag.Parse(fs, args, e.getenv); err != nil {
		return err
	}
	var ps admin.Passwords = admin.File(*data)
	if datadir.IsRedis(*writeStore) {
		w, err := datadir.OpenWriteModel(ctx, *data, datadir.Options{WriteStore: *writeStore})
		if err != nil {
			return err
		}
		defer w.Close()
		ps = datadir.Passwords(w, *data)
	} else if _, err := os.Stat(*data); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	fmt.Fprintf(e.stderr, "New admin password (at least %d characters; empty to generate one): ", admin.MinPasswordLength)
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && line == "" && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read password: %w", err)
	}
	fmt.Fprintln(e.stderr)
	pw := strings.TrimRight(line, "\r\n")
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
