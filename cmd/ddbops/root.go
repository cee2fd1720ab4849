package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/logging"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/ddbops/ddbops/configs"
)

// configKeyAnnotation names the config key a flag is bound to. Only
// annotated flags take values from the environment and config files, so a
// command-specific flag such as `call --name` never picks up a config key.
const configKeyAnnotation = "ddbops/config-key"

// Factory is what every command receives: streams, the resolved settings
// and lazily created AWS configuration.
type Factory struct {
	IO       *IOStreams
	Settings Settings
	Version  string

	// Getenv is os.Getenv, replaceable in tests.
	Getenv func(string) string

	// awsConfig, when set (tests), replaces loading the SDK configuration.
	awsConfig func(ctx context.Context) (aws.Config, error)

	// lastErr is the error Execute reported, for the -o json fallback.
	lastErr error
}

// AWSConfig loads the AWS SDK configuration exactly as the AWS CLI would:
// shared config and credentials files, AWS_PROFILE, AWS_REGION, SSO,
// AWS_ENDPOINT_URL(_<SERVICE>), with --profile, --region and --endpoint-url
// taking precedence.
func (f *Factory) AWSConfig(ctx context.Context) (aws.Config, error) {
	if f.awsConfig != nil {
		return f.awsConfig(ctx)
	}
	var opts []func(*awsconfig.LoadOptions) error
	if p := f.Settings.Profile; p != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(p))
	}
	if r := f.Settings.Region; r != "" {
		opts = append(opts, awsconfig.WithRegion(r))
	}
	if u := f.Settings.EndpointURL; u != "" {
		opts = append(opts, awsconfig.WithBaseEndpoint(u))
	}
	// The SDK's own warnings (e.g. "falling back to IMDSv1" when no
	// credentials are configured) would precede our one-line error; show
	// them only with -v.
	if f.Settings.Verbose {
		opts = append(opts, awsconfig.WithLogger(logging.NewStandardLogger(f.IO.ErrOut)))
	} else {
		opts = append(opts, awsconfig.WithLogger(logging.Nop{}))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, withHint(fmt.Errorf("load AWS configuration: %w", err),
			"check --profile / AWS_PROFILE and your ~/.aws/config")
	}
	if cfg.Region == "" {
		return aws.Config{}, withHint(errors.New("load AWS configuration: no region set"),
			"pass --region, set AWS_REGION, or add region to your AWS profile")
	}
	return cfg, nil
}

// Execute builds the root command, runs it with args and returns the exit
// code. Errors are printed here, once, as one line.
func Execute(ctx context.Context, ios *IOStreams, args []string) int {
	// Count what reaches stdout, so that a failing command run with -o json
	// that printed nothing still leaves exactly one JSON document there.
	out := &countingWriter{w: ios.Out}
	cios := *ios
	cios.Out = out
	ios = &cios

	f := &Factory{IO: ios, Version: buildVersion(), Getenv: os.Getenv}
	code := execute(ctx, f, args)
	if code != exitOK && out.n == 0 && wantsJSON(f, args) {
		writeErrorJSON(ios.Out, f.lastErr, code)
	}
	return code
}

func execute(ctx context.Context, f *Factory, args []string) int {
	ios := f.IO
	root := newRootCmd(f)
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
			printError(ios.ErrOut, err)
			return exitError
		}
		return exitOK
	}
	if sub, _, err := root.Find(args); err != nil {
		f.lastErr = err
		printError(ios.ErrOut, err)
		if sub != nil {
			fmt.Fprintf(ios.ErrOut, "Run '%s --help' for usage.\n", sub.CommandPath())
		}
		return exitUsage
	}

	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	if ctx.Err() != nil && !errors.Is(err, context.Canceled) {
		err = fmt.Errorf("%w: %w", context.Canceled, err)
	}
	f.lastErr = err
	var ue *usageError
	if errors.As(err, &ue) {
		printError(ios.ErrOut, err)
		if c, _, ferr := root.Find(args); ferr == nil {
			fmt.Fprintf(ios.ErrOut, "Run '%s --help' for usage.\n", c.CommandPath())
		}
		return exitUsage
	}
	printError(ios.ErrOut, err)
	return exitCode(err)
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// wantsJSON reports whether -o json was in force: from the resolved
// settings, or, when the command failed before settings were resolved
// (a flag error), from the arguments and DDBOPS_OUTPUT.
func wantsJSON(f *Factory, args []string) bool {
	if f.Settings.Output != "" {
		return f.Settings.JSON()
	}
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
	return f.Getenv("DDBOPS_OUTPUT") == "json"
}

// writeErrorJSON is the document of a command that failed before printing
// its own: {"error": {"message", "hint", "exitCode"}}.
func writeErrorJSON(w io.Writer, err error, code int) {
	type errDoc struct {
		Message  string `json:"message"`
		Hint     string `json:"hint,omitempty"`
		ExitCode int    `json:"exitCode"`
	}
	doc := errDoc{ExitCode: code}
	if err != nil {
		doc.Message = oneLine(err.Error())
		var he *hintError
		if errors.As(err, &he) {
			doc.Hint = he.hint
		}
	}
	_ = writeJSON(w, map[string]errDoc{"error": doc})
}

func newRootCmd(f *Factory) *cobra.Command {
	var configFile string
	root := &cobra.Command{
		Use:   "ddbops",
		Short: "Stand up, drive, measure and tear down an API Gateway → Lambda → DynamoDB microservice",
		Long: `ddbops turns the "RESTful microservice with API Gateway, Lambda and DynamoDB"
console tutorial into commands: setup, call, bench, status, teardown — on AWS,
on an emulator (--endpoint-url), or on this machine with no AWS account
(ddbops local, call --local).`,
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return loadSettings(cmd, f, configFile)
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err: err} })

	pf := root.PersistentFlags()
	pf.StringVar(&configFile, "config", "", "config file (default ./ddbops.yaml, else $XDG_CONFIG_HOME/ddbops/config.yaml)")
	pf.String("stack", "", "stack name: the value of the ddbops:stack tag (default from config: ddbops)")
	pf.String("profile", "", "AWS profile (as AWS_PROFILE)")
	pf.String("region", "", "AWS region (as AWS_REGION)")
	pf.String("endpoint-url", "", "send every AWS call to this endpoint (moto, LocalStack); as AWS_ENDPOINT_URL")
	pf.StringP("output", "o", "", "output format: text|json (default text)")
	pf.Bool("no-color", false, "disable colour (also NO_COLOR)")
	pf.BoolP("verbose", "v", false, "more diagnostics on stderr")
	pf.BoolP("quiet", "q", false, "only data and errors; no progress lines")
	for _, name := range []string{"stack", "profile", "region", "endpoint-url", "output"} {
		bindConfig(pf, name, name)
	}

	root.AddCommand(
		newVersionCmd(f),
		newPackageCmd(f),
		newCallCmd(f),
		newLocalCmd(f),
		newSetupCmd(f),
		newDeployCmd(f),
		newStatusCmd(f),
		newTeardownCmd(f),
		newLogsCmd(f),
		newBenchCmd(f),
		newExportCmd(f, nil),
	)
	for _, c := range root.Commands() {
		c.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err: err} })
	}
	return root
}

// bindConfig marks flag name of fs as taking its default from config key.
func bindConfig(fs *pflag.FlagSet, name, key string) {
	if err := fs.SetAnnotation(name, configKeyAnnotation, []string{key}); err != nil {
		panic(err) // programming error: the flag does not exist
	}
}

// loadSettings applies precedence flag > env > file > embedded defaults,
// writes the winning value back into every bound flag, and fills
// f.Settings. It is the only place viper is used.
func loadSettings(cmd *cobra.Command, f *Factory, configFile string) error {
	v := viper.New()
	v.SetConfigType("yaml")
	if err := v.ReadConfig(bytes.NewReader(configs.Defaults())); err != nil {
		return fmt.Errorf("read embedded defaults: %w", err)
	}

	if configFile == "" {
		configFile = f.Getenv("DDBOPS_CONFIG")
	}
	path, err := findConfigFile(configFile, f.Getenv)
	if err != nil {
		return err
	}
	if path != "" {
		// The embedded defaults name every key there is.
		known := make(map[string]bool)
		for _, k := range v.AllKeys() {
			known[k] = true
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return withHint(fmt.Errorf("read config %s: %w", path, err), "check --config")
		}
		if err := v.MergeConfig(bytes.NewReader(b)); err != nil {
			return withHint(fmt.Errorf("parse config %s: %w", path, err), "the file must be YAML with the keys of configs/ddbops.yaml")
		}
		for _, k := range v.AllKeys() {
			if !known[k] {
				return usageErrorf("config %s: unknown key %q", path, k)
			}
		}
	}
	f.Settings.ConfigFile = path

	v.SetEnvPrefix("DDBOPS")
	v.SetEnvKeyReplacer(strings.NewReplacer("-", "_"))
	v.AutomaticEnv()

	var bindErr error
	cmd.Flags().VisitAll(func(fl *pflag.Flag) {
		keys := fl.Annotations[configKeyAnnotation]
		if len(keys) == 0 || bindErr != nil {
			return
		}
		key := keys[0]
		if fl.Changed {
			v.Set(key, fl.Value.String())
			return
		}
		if !v.IsSet(key) {
			return
		}
		val := v.GetString(key)
		if sv, ok := fl.Value.(pflag.SliceValue); ok {
			if err := sv.Replace(strings.Split(val, ",")); err != nil {
				bindErr = usageErrorf("invalid value %q for %s (from environment or config): %v", val, key, err)
			}
			return
		}
		if err := fl.Value.Set(val); err != nil {
			bindErr = usageErrorf("invalid value %q for %s (from environment or config): %v", val, key, err)
		}
	})
	if bindErr != nil {
		return bindErr
	}
	if err := v.Unmarshal(&f.Settings); err != nil {
		return usageErrorf("invalid configuration: %v", err)
	}
	fs := cmd.Flags()
	f.Settings.NoColor, _ = fs.GetBool("no-color")
	f.Settings.Verbose, _ = fs.GetBool("verbose")
	f.Settings.Quiet, _ = fs.GetBool("quiet")
	if f.Getenv("NO_COLOR") != "" {
		f.Settings.NoColor = true
	}
	switch f.Settings.Output {
	case "text", "json":
	default:
		return usageErrorf("invalid --output %q: want text or json", f.Settings.Output)
	}
	return nil
}

// findConfigFile resolves --config, else ./ddbops.yaml, else
// $XDG_CONFIG_HOME/ddbops/config.yaml (~/.config when unset). An explicit
// file must exist; the implicit ones are optional.
func findConfigFile(explicit string, getenv func(string) string) (string, error) {
	if explicit != "" {
		if _, err := os.Stat(explicit); err != nil {
			return "", usageErrorf("config file %s: %v", explicit, errors.Unwrap(err))
		}
		return explicit, nil
	}
	if _, err := os.Stat("ddbops.yaml"); err == nil {
		return "ddbops.yaml", nil
	}
	dir := getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", nil
		}
		dir = filepath.Join(home, ".config")
	}
	p := filepath.Join(dir, "ddbops", "config.yaml")
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	return "", nil
}
