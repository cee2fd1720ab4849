package cmdutil

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"

	"github.com/spf13/cobra"
)

// NoArgs is cobra.NoArgs reported as a usage error (exit 2).
func NoArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return UsageErrorf("%s takes no arguments, got %q", cmd.CommandPath(), args[0])
	}
	return nil
}

// ReadArg returns s, or the contents of file s[1:] when s starts with '@'
// ("@-" reads in, standard input).
func ReadArg(in io.Reader, s string) ([]byte, error) {
	if !strings.HasPrefix(s, "@") {
		return []byte(s), nil
	}
	path := s[1:]
	if path == "-" {
		b, err := io.ReadAll(in)
		if err != nil {
			return nil, fmt.Errorf("read standard input: %w", err)
		}
		return b, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, errors.Unwrap(err))
	}
	return b, nil
}

// Confirm asks a yes/no question on ErrOut and reads the answer from In;
// anything but y/yes is no.
func Confirm(ios *IOStreams, question string) (bool, error) {
	fmt.Fprintf(ios.ErrOut, "%s [y/N] ", question)
	line, err := bufio.NewReader(ios.In).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, fmt.Errorf("read answer: %w", err)
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}

// JSONRequested reports whether args ask for -o json, for a command that
// failed before its flags were parsed; $DDBOPS_OUTPUT counts too.
func JSONRequested(args []string, env Env) bool {
	for i, a := range args {
		switch {
		case a == "--":
			return false
		case a == "-ojson", a == "--output=json", a == "-o=json":
			return true
		case (a == "-o" || a == "--output") && i+1 < len(args):
			if args[i+1] == "json" {
				return true
			}
		}
	}
	return env.Output() == "json"
}

// StartCPUProfile writes a CPU profile to path until stop is called (for
// the benchmarks under bench/).
func StartCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); _ = f.Close() }, nil
}
