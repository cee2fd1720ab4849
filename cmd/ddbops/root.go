package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/ddbops/ddbops/configs"
	"github.com/ddbops/ddbops/internal/cmdutil"
	"github.com/ddbops/ddbops/internal/target"
)

// configKeyAnnotation names the config key a flag is bound to. Only
// annotated flags take values from the environment and config files, so a
// command-specific flag such as `call --name` never picks up a config key.
const configKeyAnnotation = "ddbops/config-key"

// Factory is what every command receives: streams, the resolved settings,
// the environment and the AWS configuration loader.
type Factory struct {
	IO       *cmdutil.IOStreams
	Settings Settings
	Version  string
	Env      cmdutil.Env
	// LoadAWS loads AWS configurations (nil = target.LoadAWS).
	LoadAWS target.AWSLoader

	// lastErr is the error Execute reported, for the -o json fallback.
	lastErr error
}

func (f *Factory) awsOptions() target.AWSOptions {
	s := f.Settings
	return target.AWSOptions{Profile: s.Profile, Region: s.Region, EndpointURL: s.EndpointURL, Verbose: s.Verbose, Log: f.IO.ErrOut}
}

func (f *Factory) loader() target.AWSLoader {
	if f.LoadAWS != nil {
		return f.LoadAWS
	}
	return target.LoadAWS
}

// AWSConfig loads the AWS SDK configuration as the AWS CLI would, with
// --profile, --region and --endpoint-url taking precedence.
func (f *Factory) AWSConfig(ctx context.Context) (aws.Config, error) {
	return f.loader()(ctx, f.awsOptions())
}

// Resolver is the target resolution of call and bench over the settings.
func (f *Factory) Resolver() *target.Resolver {
	s := f.Settings
	r := target.New(target.Settings{
		StateFile: s.StateFile, Stack: s.Stack, Table: s.Table, Auth: s.Auth, Function: s.Function,
		DataDir: s.DataDir, Addr: s.Addr, LocalAuth: s.LocalAuth, LocalRegion: s.LocalRegion,
		Stage: s.Stage, Resource: s.Resource, DynamoDBEndpoint: s.DynamoDBEndpoint,
	}, f.awsOptions(), f.Env, f.IO.ErrOut)
	r.LoadAWS = f.loader()
	return r
}

// runOr runs runF when a test gave one, else the command's real run.
func runOr[O any](ctx context.Context, opts *O, runF, run func(context.Context, *O) error) error {
	if runF != nil {
		return runF(ctx, opts)
	}
	return run(ctx, opts)
}

// Execute builds the root command, runs it with args and returns the exit
// code. Errors are printed here, once, as one line.
func Execute(ctx context.Context, ios *cmdutil.IOStreams, args []string) int {
	// Count what reaches stdout, so that a failing command run with -o json
	// that printed nothing still leaves exactly one JSON document there.
	out := &cmdutil.CountingWriter{W: ios.Out}
	cios := *ios
	cios.Out = out
	f := &Factory{IO: &cios, Version: buildVersion(), Env: cmdutil.SystemEnv()}
	code := execute(ctx, f, newRootCmd(f), args)
	if code != cmdutil.ExitOK && out.N == 0 && wantsJSON(f, args) {
		cmdutil.WriteErrorJSON(f.IO.Out, f.lastErr, code)
	}
	return code
}

func execute(ctx context.Context, f *Factory, root *cobra.Command, args []string) int {
	ios := f.IO
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
			cmdutil.PrintError(ios.ErrOut, err)
			return cmdutil.ExitError
		}
		return cmdutil.ExitOK
	}
	// A command that cannot be found is a usage error too.
	sub, _, err := root.Find(args)
	found := err == nil
	if found {
		if err = root.ExecuteContext(ctx); err == nil {
			return cmdutil.ExitOK
		}
		if ctx.Err() != nil && !errors.Is(err, context.Canceled) {
			err = fmt.Errorf("%w: %w", context.Canceled, err)
		}
	}
	f.lastErr = err
	cmdutil.PrintError(ios.ErrOut, err)
	var ue *cmdutil.UsageError
	if !found || errors.As(err, &ue) {
		if sub != nil {
			fmt.Fprintf(ios.ErrOut, "Run '%s --help' for usage.\n", sub.CommandPath())
		}
		return cmdutil.ExitUsage
	}
	return cmdutil.ExitCode(err)
}

// wantsJSON reports whether -o json was in force: from the resolved
// settings, or, when the command failed before settings were resolved
// (a flag error), from the arguments and $DDBOPS_OUTPUT.
func wantsJSON(f *Factory, args []string) bool {
	if f.Settings.Output != "" {
		return f.Settings.JSON()
	}
	return cmdutil.JSONRequested(args, f.Env)
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
	pf := root.PersistentFlags()
	pf.StringVar(&configFile, "config", "", "config file (default ./ddbops.yaml, else $XDG_CONFIG_HOME/ddbops/config.yaml)")
	pf.String("stack", "", "stack name: the value of the ddbops:stack tag")
	pf.String("profile", "", "AWS profile (as AWS_PROFILE)")
	pf.String("region", "", "AWS region (as AWS_REGION)")
	pf.String("endpoint-url", "", "send every AWS call to this endpoint (moto, LocalStack); as AWS_ENDPOINT_URL")
	pf.StringP("output", "o", "", "output format: text|json")
	pf.Bool("no-color", false, "disable colour (also NO_COLOR)")
	pf.BoolP("verbose", "v", false, "more diagnostics on stderr")
	pf.BoolP("quiet", "q", false, "only data and errors; no progress lines")
	for _, name := range []string{"stack", "profile", "region", "endpoint-url", "output"} {
		bindConfig(pf, name, name)
	}

	root.AddCommand(
		newVersionCmd(f, nil),
		newPackageCmd(f, nil),
		newCallCmd(f, nil),
		newLocalCmd(f, nil),
		newSetupCmd(f, nil),
		newDeployCmd(f, nil),
		newStatusCmd(f, nil),
		newTeardownCmd(f, nil),
		newLogsCmd(f, nil),
		newBenchCmd(f, nil),
		newExportCmd(f, nil),
	)
	setUsageErrors(root)
	return root
}

// setUsageErrors makes flag errors of c and the commands below it usage
// errors (exit 2); commands a test adds later are covered by the root's.
func setUsageErrors(c *cobra.Command) {
	c.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &cmdutil.UsageError{Err: err} })
	for _, sub := range c.Commands() {
		setUsageErrors(sub)
	}
}

// bindConfig binds flag name of fs to config key: its default becomes the
// key's value in configs/ddbops.yaml, and the environment and config files
// override it (loadSettings).
func bindConfig(fs *pflag.FlagSet, name, key string) {
	fl := fs.Lookup(name)
	def, ok := configs.Default(key)
	if fl == nil || !ok {
		panic(fmt.Sprintf("bindConfig(%s, %s): no such flag or config key", name, key)) // programming error
	}
	fl.Annotations = map[string][]string{configKeyAnnotation: {key}}
	if err := setFlag(fl, def); err != nil {
		panic(fmt.Sprintf("configs/ddbops.yaml %s: %v", key, err))
	}
	fl.DefValue = fl.Value.String()
}

func setFlag(fl *pflag.Flag, val string) error {
	if sv, ok := fl.Value.(pflag.SliceValue); ok {
		return sv.Replace(strings.Split(val, ","))
	}
	return fl.Value.Set(val)
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
		configFile = f.Env.ConfigFile()
	}
	path, err := findConfigFile(configFile, f.Env)
	if err != nil {
		return err
	}
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return cmdutil.WithHint(fmt.Errorf("read config %s: %w", path, err), "check --config")
		}
		if err := v.MergeConfig(bytes.NewReader(b)); err != nil {
			return cmdutil.WithHint(fmt.Errorf("parse config %s: %w", path, err), "the file must be YAML with the keys of configs/ddbops.yaml")
		}
		// The embedded defaults name every key there is.
		for _, k := range v.AllKeys() {
			if _, ok := configs.Default(k); !ok {
				return cmdutil.UsageErrorf("config %s: unknown key %q", path, k)
			}
		}
	}
	for _, k := range configs.Keys() {
		if val, ok := f.Env.Setting(k); ok {
			v.Set(k, val)
		}
	}

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
		val := v.GetString(key)
		if err := setFlag(fl, val); err != nil {
			bindErr = cmdutil.UsageErrorf("invalid value %q for %s (from environment or config): %v", val, key, err)
		}
	})
	if bindErr != nil {
		return bindErr
	}
	if err := v.Unmarshal(&f.Settings); err != nil {
		return cmdutil.UsageErrorf("invalid configuration: %v", err)
	}
	fs := cmd.Flags()
	noColor, _ := fs.GetBool("no-color")
	f.IO.NoColor = noColor || f.Env.NoColor()
	f.Settings.Verbose, _ = fs.GetBool("verbose")
	f.Settings.Quiet, _ = fs.GetBool("quiet")
	switch f.Settings.Output {
	case "text", "json":
	default:
		return cmdutil.UsageErrorf("invalid --output %q: want text or json", f.Settings.Output)
	}
	return nil
}

// findConfigFile resolves --config, else ./ddbops.yaml, else
// $XDG_CONFIG_HOME/ddbops/config.yaml (~/.config when unset). An explicit
// file must exist; the implicit ones are optional.
func findConfigFile(explicit string, env cmdutil.Env) (string, error) {
	if explicit != "" {
		if _, err := os.Stat(explicit); err != nil {
			return "", cmdutil.UsageErrorf("config file %s: %v", explicit, errors.Unwrap(err))
		}
		return explicit, nil
	}
	if _, err := os.Stat("ddbops.yaml"); err == nil {
		return "ddbops.yaml", nil
	}
	dir := env.XDGConfigHome()
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
