package envflag

import (
	"errors"
	"flag"
	"strings"
	"testing"
	"time"
)

// TestErrorsAreOneLine: a bad flag or variable is one line naming it, the bad value and a good
// example; nothing of the usage is printed unless --help is asked for.
func TestErrorsAreOneLine(t *testing.T) {
	tests := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--shutdown-timeout", "soon"}, nil, `--shutdown-timeout "soon": want a duration with its unit (s, m, h), e.g. --shutdown-timeout 10s`},
		{[]string{"--shutdown-timeout", "10"}, nil, `--shutdown-timeout "10": want a duration`},
		{[]string{"--like-cap", "many"}, nil, `--like-cap "many": want a whole number, e.g. --like-cap 16`},
		{nil, map[string]string{"TALLY_LIKE_CAP": "abc"}, `TALLY_LIKE_CAP="abc": want a whole number, e.g. TALLY_LIKE_CAP=16`},
		{[]string{"--nosuch"}, nil, "unknown flag --nosuch (tally serve --help lists the flags)"},
		{[]string{"--like-cap"}, nil, "--like-cap needs a value"},
		{[]string{"extra"}, nil, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		var out strings.Builder
		fs := NewFlagSet("serve", "Run it.", &out)
		fs.Duration("shutdown-timeout", 10*time.Second, "")
		fs.Int("like-cap", 16, "")
		err := Parse(fs, tt.args, func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok })
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v %v: %v, want one line with %q", tt.args, tt.env, err, tt.want)
		}
		if out.Len() > 0 {
			t.Errorf("%v: printed %q besides the error", tt.args, out.String())
		}
	}
	var out strings.Builder
	fs := NewFlagSet("serve", "Run it.", &out)
	fs.Int("like-cap", 16, "likes")
	if err := Parse(fs, []string{"--help"}, func(string) (string, bool) { return "", false }); !errors.Is(err, flag.ErrHelp) ||
		!strings.Contains(out.String(), "--like-cap int\t[TALLY_LIKE_CAP]") {
		t.Errorf("--help: %v\n%s", err, out.String())
	}
}

// TestUsageDefaults: a string's default is quoted, a number's or a duration's is written as one
// types it, and a flag without a default says none.
func TestUsageDefaults(t *testing.T) {
	var out strings.Builder
	fs := NewFlagSet("serve", "Serve.", &out)
	fs.String("addr", "127.0.0.1:8080", "address")
	fs.Int("session-cap", 10, "cap")
	fs.Duration("shutdown-timeout", 10*time.Second, "timeout")
	fs.String("sites", "", "sites")
	fs.Usage()
	var backup strings.Builder
	NewFlagSet("backup", "Back up.", &backup, "DIR").Usage()
	if !strings.HasPrefix(backup.String(), "Usage: tally backup DIR [flags]") {
		t.Errorf("backup's usage: %q, want its DIR argument", backup.String())
	}
	for _, want := range []string{`address (default "127.0.0.1:8080")`, "cap (default 10)\n", "timeout (default 10s)\n", "sites\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, out.String())
		}
	}
}
