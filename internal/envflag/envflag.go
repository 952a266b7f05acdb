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

// NewFlagSet returns a FlagSet for a subcommand whose usage lists each flag's variable; args
// name its positional arguments, if any ("DIR"), for the usage line.
func NewFlagSet(name, synopsis string, out io.Writer, args ...string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	line := strings.Join(append([]string{"tally", name}, args...), " ")
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: %s [flags]\n\n%s\n\nFlags (each also read from its environment variable; a flag given on the command line wins):\n", line, synopsis)
		fs.VisitAll(func(f *flag.Flag) {
			typ, usage := flag.UnquoteUsage(f)
			fmt.Fprintf(out, "  --%s %s\t[%s]\n    \t%s", f.Name, typ, Name(f.Name), usage)
			switch {
			case f.DefValue == "" || f.DefValue == "false" || f.DefValue == "0s":
			case typ == "string":
				fmt.Fprintf(out, " (default %q)", f.DefValue)
			default: // numbers and durations as one types them
				fmt.Fprintf(out, " (default %s)", f.DefValue)
			}
			fmt.Fprintln(out)
		})
	}
	return fs
}

// Parse parses args, then fills every flag not given on the command line from its
// environment variable, if set. A bad value is one line naming the flag or variable, the value
// and an example of a good one; --help prints the usage.
func Parse(fs *flag.FlagSet, args []string, getenv func(string) (string, bool)) error {
	if err := parse(fs, args); err != nil {
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
				errs = append(errs, fmt.Errorf("%s=%q: %s, e.g. %s=%s", Name(f.Name), v, want(f), Name(f.Name), example(f)))
			}
		}
	})
	return errors.Join(errs...)
}

// ParseWithArg parses flags on either side of one positional argument (the DIR or FILE).
func ParseWithArg(fs *flag.FlagSet, args []string, getenv func(string) (string, bool)) (string, error) {
	if err := parse(fs, args); err != nil {
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

// parse is fs.Parse with errors of one line instead of the flag package's error and usage.
func parse(fs *flag.FlagSet, args []string) error {
	// The flag package prints the error and the whole usage on any mistake; we say one line.
	usage, out := fs.Usage, fs.Output()
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.Usage = usage
	fs.SetOutput(out)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.Usage()
		return err
	case err == nil:
		return nil
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		return fmt.Errorf("unknown flag --%s (tally %s --help lists the flags)", strings.TrimLeft(name, "-"), fs.Name())
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return fmt.Errorf("--%s needs a value (tally %s --help)", name, fs.Name())
	}
	// invalid value "soon" for flag -shutdown-timeout: parse error
	var value, name string
	if _, e := fmt.Sscanf(msg, "invalid value %q for flag -%s", &value, &name); e == nil {
		name = strings.TrimSuffix(name, ":")
		if f := fs.Lookup(name); f != nil {
			return fmt.Errorf("--%s %q: %s, e.g. --%s %s", name, value, want(f), name, example(f))
		}
	}
	return err
}

// want says what kind of value a flag takes.
func want(f *flag.Flag) string {
	switch typ, _ := flag.UnquoteUsage(f); typ {
	case "duration":
		return "want a duration with its unit (s, m, h)"
	case "int":
		return "want a whole number"
	case "float":
		return "want a number"
	case "":
		return "want true or false"
	default:
		return "not a valid " + typ
	}
}

// example is a good value of a flag: its default, or one of its kind.
func example(f *flag.Flag) string {
	if f.DefValue != "" && f.DefValue != "0" && f.DefValue != "0s" {
		return f.DefValue
	}
	switch typ, _ := flag.UnquoteUsage(f); typ {
	case "duration":
		return "10s"
	case "int", "float":
		return "1"
	}
	return "true"
}
