package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/ddbops/ddbops/configs"
	"github.com/ddbops/ddbops/internal/cmdutil"
	"github.com/ddbops/ddbops/internal/provision"
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
	// TuneRuntime lets a long-running command (ddbops local) set the Go
	// runtime's process-wide knobs; only the real binary sets it, so a test
	// running a command in-process never changes its test binary's.
	TuneRuntime bool

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
	path, _ := f.StatePath() // an invalid stack name: no state, "no target"
	r := target.New(target.Settings{
		StateFile: path, Stack: s.Stack, Table: s.Table, Auth: s.Auth, Function: s.Function,
		DataDir: s.DataDir, Addr: s.Addr, LocalAuth: s.LocalAuth, LocalRegion: s.LocalRegion,
		Stage: s.Stage, Resource: s.Resource, DynamoDBEndpoint: s.DynamoDBEndpoint,
	}, f.awsOptions(), f.Env, f.IO.ErrOut)
	r.LoadAWS = f.loader()
	return r
}

// StatePath is the stack's state file (provision.StateFile), migrating the
// single file of older versions on first use and saying so.
func (f *Factory) StatePath() (string, error) {
	path, migrated, err := provision.StateFile(f.Settings.StateDir, f.Settings.Stack)
	if migrated && !f.Settings.Quiet {
		fmt.Fprintf(f.IO.ErrOut, "ddbops: moved %s to %s: state is kept per stack now\n", filepath.Join(f.Settings.StateDir, "state.json"), path)
	}
	return path, err
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
	f := &Factory{IO: &cios, Version: buildVersion(), Env: cmdutil.SystemEnv(), TuneRuntime: true}
	code := execute(ctx, f, newRootCmd(f), args)
	if code != cmdutil.ExitOK && out.N == 0 && wantsJSON(f, args) {
		cmdutil.WriteErrorJSON(f.IO.Out, f.lastErr, code)
	}
	return code
}

func execute(ctx context.Context, f *Factory, root *cobra.Command, args []string) int {
	code, err := cmdutil.Run(ctx, root, f.IO, args)
	f.lastErr = err
	return code
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
		Long: `ddbops turns the AWS console tutorial "` + tutorialTitle + `"
into commands: setup, call, bench, status, teardown — on AWS, on an emulator
(--endpoint-url), or on this machine with no AWS account (ddbops local,
call --local).`,
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			err := loadSettings(cmd, f, configFile, false)
			if cmdutil.IgnoreConfigError(cmd, err, f.IO.ErrOut) {
				return loadSettings(cmd, f, "", true)
			}
			return err
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
	completeValues(root, map[string][]string{"output": {"text", "json"}})
	_ = root.RegisterFlagCompletionFunc("stack", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		// Completion runs without the settings: the state dir of the
		// environment, else the default.
		dir, ok := f.Env.Setting("state-dir")
		if !ok {
			dir, _ = configs.Default("state-dir")
		}
		return provision.Stacks(dir), cobra.ShellCompDirectiveNoFileComp
	})
	_ = root.MarkPersistentFlagFilename("config", "yaml", "yml")

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
	// cobra's completion command takes its output stream when created.
	if f.IO != nil {
		root.SetOut(f.IO.Out)
		root.SetErr(f.IO.ErrOut)
	}
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	cmdutil.PlainBoolFlags(root)
	return root
}

// tutorialTitle is the AWS tutorial ddbops automates, as README.md names it.
const tutorialTitle = "RESTful microservices with AWS Lambda, API Gateway and DynamoDB"

// memorySizes complete --memory: Lambda's common sizes in MB.
var memorySizes = []string{"128", "256", "512", "1024", "1536", "2048", "3008", "4096", "10240"}

// setUsageErrors makes flag errors of c and the commands below it usage
// errors (exit 2): cobra looks a command's function up through its
// parents, so commands a test adds later are covered too.
func setUsageErrors(c *cobra.Command) {
	c.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &cmdutil.UsageError{Err: err} })
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
	if err := cmdutil.SetFlag(fl, def); err != nil {
		panic(fmt.Sprintf("configs/ddbops.yaml %s: %v", key, err))
	}
	fl.DefValue = fl.Value.String()
}

// renamedKeys are config keys of older versions, with what replaced them.
var renamedKeys = map[string]string{
	"state-file": "state-file was replaced by state-dir: each stack keeps its state in <state-dir>/stacks/<stack>/state.json (docs/configuration.md)",
}

// loadSettings applies precedence flag > env > file > embedded defaults,
// writes the winning value back into every bound flag, records where each
// explicit value came from (f.Sources), and fills f.Settings. It is the
// only place viper is used. skipFile ignores the config file.
func loadSettings(cmd *cobra.Command, f *Factory, configFile string, skipFile bool) error {
	v := viper.New()
	v.SetConfigType("yaml")
	if err := v.ReadConfig(bytes.NewReader(configs.Defaults())); err != nil {
		return fmt.Errorf("read embedded defaults: %w", err)
	}
	var cf *cmdutil.ConfigFile
	if !skipFile {
		var err error
		if cf, err = cmdutil.ReadConfigFile(configFile, f.Env, configs.Keys(), renamedKeys); err != nil {
			return err
		}
		if cf != nil {
			if err := v.MergeConfigMap(cf.Values); err != nil {
				return &cmdutil.ConfigError{Path: cf.Path, Err: err}
			}
		}
	}
	o := cmdutil.NewSources(cf)
	for _, k := range configs.Keys() {
		if val, ok := f.Env.Setting(k); ok {
			v.Set(k, val)
			o.Set(k, "$"+cmdutil.EnvPrefix+strings.ToUpper(strings.ReplaceAll(k, "-", "_")))
		}
	}

	if err := cmdutil.BindFlags(cmd.Flags(), configKeyAnnotation, v.Set, v.GetString, o); err != nil {
		return err
	}
	if err := v.Unmarshal(&f.Settings); err != nil {
		return cmdutil.UsageErrorf("invalid configuration: %v", err)
	}
	f.Settings.origin = o
	fs := cmd.Flags()
	noColor, _ := fs.GetBool("no-color")
	f.IO.NoColor = noColor || f.Env.NoColor()
	f.Settings.Verbose, _ = fs.GetBool("verbose")
	f.Settings.Quiet, _ = fs.GetBool("quiet")
	switch f.Settings.Output {
	case "text", "json":
	default:
		out := f.Settings.Output
		return o.Invalid("output", fmt.Errorf("invalid output %q: want text or json", out), func(string) error {
			return cmdutil.UsageErrorf("invalid --output %q: want text or json", out)
		})
	}
	return nil
}

// completeValues registers the fixed values of flags of cmd for shell
// completion (instead of file names).
func completeValues(cmd *cobra.Command, values map[string][]string) {
	if err := cmdutil.CompleteValues(cmd, values); err != nil {
		panic(err) // no such flag: a programming error
	}
}
