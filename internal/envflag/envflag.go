// Package envflag parses a subcommand's flags the way tally documents them: every flag has an
// environment variable, TALLY_ + its name upper-cased with - → _ (--trusted-proxies ↔
// TALLY_TRUSTED_PROXIES), and a flag given on the command line wins over its variable. Usage
// lists each flag with its variable.
package envflag

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Name is the environment variable of a flag: TALLY_ + the name upper-cased, - → _.
func Name(flagName string) string {
	return "TALLY_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// NewFlagSet returns a FlagSet for a subcommand whose usage lists each flag's variable.
func NewFlagSet(name, synopsis string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: tally %s [flags]\n\n%s\n\nFlags (each also read from its environment variable; a flag given on the command line wins):\n", name, synopsis)
		fs.VisitAll(func(f *flag.Flag) {
			typ, usage := flag.UnquoteUsage(f)
			fmt.Fprintf(out, "  --%s %s\t[%s]\n    \t%s", f.Name, typ, Name(f.Name), usage)
			if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0s" {
				fmt.Fprintf(out, " (default %q)", f.DefValue)
			}
			fmt.Fprintln(out)
		})
	}
	return fs
}

// Parse parses args, then fills every flag not given on the command line from its
// environment variable, if set.
func Parse(fs *flag.FlagSet, args []string, getenv func(string) (string, bool)) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (see tally %s --help)", fs.Arg(0), fs.Name())
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] {
			return
		}
		if v, ok := getenv(Name(f.Name)); ok {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", Name(f.Name), v, err))
			}
		}
	})
	return errors.Join(errs...)
}

// ParseWithArg parses flags on either side of one positional argument (the DIR or FILE).
func ParseWithArg(fs *flag.FlagSet, args []string, getenv func(string) (string, bool)) (string, error) {
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	if fs.NArg() == 0 {
		return "", fmt.Errorf("tally %s needs a path", fs.Name())
	}
	arg, rest := fs.Arg(0), fs.Args()[1:]
	if err := Parse(fs, rest, getenv); err != nil {
		return "", err
	}
	return arg, nil
}
