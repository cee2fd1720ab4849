package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// UnknownCommand turns cobra's "unknown command" error, whose suggestions
// follow on more lines, into a usage error of one line with a did-you-mean
// hint.
func UnknownCommand(err error) error {
	msg, sugg, ok := strings.Cut(err.Error(), "\n\nDid you mean this?\n")
	if !ok {
		return &UsageError{Err: err}
	}
	return WithHint(&UsageError{Err: errors.New(msg)}, "did you mean "+strings.Join(strings.Fields(sugg), " or ")+"?")
}

// PlainBoolFlags makes every boolean flag of c and below show as --dry-run
// in help and in generated docs, as gh, kubectl and the aws CLI do, instead
// of pflag's --dry-run[=true|false]. pflag prints that suffix for values
// that implement IsBoolFlag; the wrapper hides that method and nothing else
// (--flag alone still means true, through NoOptDefVal). Call it once the
// command tree, with cobra's help and completion commands, is built.
func PlainBoolFlags(c *cobra.Command) {
	c.InitDefaultHelpFlag()
	hide := func(fl *pflag.Flag) {
		if _, ok := fl.Value.(interface{ IsBoolFlag() bool }); ok {
			fl.Value = plainBool{fl.Value}
		}
	}
	c.LocalNonPersistentFlags().VisitAll(hide)
	c.PersistentFlags().VisitAll(hide)
	c.Flags().VisitAll(hide)
	for _, sub := range c.Commands() {
		PlainBoolFlags(sub)
	}
}

type plainBool struct{ pflag.Value }

// CompleteValues registers the fixed values of flags of cmd for shell
// completion, instead of file names.
func CompleteValues(cmd *cobra.Command, values map[string][]string) error {
	for name, vals := range values {
		if err := cmd.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(vals, cobra.ShellCompDirectiveNoFileComp)); err != nil {
			return fmt.Errorf("complete --%s of %s: %w", name, cmd.CommandPath(), err)
		}
	}
	return nil
}

// Run executes root with args on ios and returns the exit code and the
// error it printed (nil on success). Errors are printed here, once: one
// line and its hint, then for usage errors the command's usage line.
// Unknown commands are usage errors too (cobra reports them as plain
// errors), and a run interrupted by ctx exits 130.
func Run(ctx context.Context, root *cobra.Command, ios *IOStreams, args []string) (int, error) {
	root.SetArgs(args)
	root.SetIn(ios.In)
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)

	// Unknown commands are usage errors; cobra reports them as plain errors,
	// so look the command up first (after adding cobra's lazily created
	// help and completion commands; its hidden __complete commands are
	// created during Execute and skipped here).
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	if len(args) > 0 && strings.HasPrefix(args[0], "__complete") {
		if err := root.ExecuteContext(ctx); err != nil {
			PrintError(ios.ErrOut, err)
			return ExitError, err
		}
		return ExitOK, nil
	}
	// A command that cannot be found is a usage error too.
	sub, _, err := root.Find(args)
	found := err == nil
	if found {
		if err = root.ExecuteContext(ctx); err == nil {
			return ExitOK, nil
		}
		if ctx.Err() != nil && !errors.Is(err, context.Canceled) {
			err = fmt.Errorf("%w: %w", context.Canceled, err)
		}
	}
	if !found {
		err = UnknownCommand(err)
	}
	if ctx.Err() != nil && ios.IsErrTTY {
		fmt.Fprintln(ios.ErrOut) // off the line the terminal echoed ^C on
	}
	PrintError(ios.ErrOut, err)
	var ue *UsageError
	if !found || errors.As(err, &ue) {
		if sub != nil {
			fmt.Fprintf(ios.ErrOut, "Run '%s --help' for usage.\n", sub.CommandPath())
		}
		return ExitUsage, err
	}
	return ExitCode(err), err
}

// BindFlags applies the configuration to the flags of fs annotated with
// their config key (annotation): a flag given on the command line sets its
// key (set, recorded in sources), and every other bound flag takes its
// key's value (get) — after the given ones, since two flags may share a key
// (a deprecated spelling). A value that does not parse is a usage error
// naming where it came from (Sources.Invalid).
func BindFlags(fs *pflag.FlagSet, annotation string, set func(key string, v any), get func(key string) string, sources *Sources) error {
	fs.VisitAll(func(fl *pflag.Flag) {
		if keys := fl.Annotations[annotation]; len(keys) > 0 && fl.Changed {
			set(keys[0], fl.Value.String())
			sources.Set(keys[0], "--"+fl.Name)
		}
	})
	var bindErr error
	fs.VisitAll(func(fl *pflag.Flag) {
		keys := fl.Annotations[annotation]
		if len(keys) == 0 || bindErr != nil || fl.Changed {
			return
		}
		key, val := keys[0], get(keys[0])
		if err := SetFlag(fl, val); err != nil {
			bindErr = sources.Invalid(key, fmt.Errorf("invalid value %q for %s: %w", val, key, err), func(src string) error {
				return UsageErrorf("invalid value %q for %s (from %s): %v", val, key, src, err)
			})
		}
	})
	return bindErr
}

// SetFlag sets fl to val; a list flag takes val as comma-separated items.
func SetFlag(fl *pflag.Flag, val string) error {
	if sv, ok := fl.Value.(pflag.SliceValue); ok {
		return sv.Replace(strings.Split(val, ","))
	}
	return fl.Value.Set(val)
}

// IgnoreConfigError reports whether cmd runs anyway when the config file
// is broken (err a *ConfigError): help, version and completion (and
// cobra's hidden __complete), so a typo in ./ddbops.yaml does not break
// tab completion in its directory. help and version say so on w;
// completion stays silent, since shells show its stderr.
func IgnoreConfigError(cmd *cobra.Command, err error, w io.Writer) bool {
	if err == nil || !errors.As(err, new(*ConfigError)) {
		return false
	}
	for c := cmd; c != nil; c = c.Parent() {
		switch c.Name() {
		case "help", "version":
			fmt.Fprintf(w, "warning: %s (ignored by %s)\n", OneLine(err.Error()), c.Name())
			return true
		case "completion", cobra.ShellCompRequestCmd, cobra.ShellCompNoDescRequestCmd:
			return true
		}
	}
	return false
}
