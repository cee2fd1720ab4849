package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ddbops/ddbops/internal/cmdutil"
	"github.com/ddbops/ddbops/internal/export"
	"github.com/ddbops/ddbops/internal/pkgzip"
	"github.com/ddbops/ddbops/internal/provision"
	"github.com/ddbops/ddbops/internal/target"
	"github.com/ddbops/ddbops/internal/wire"
)

// exportOptions are `ddbops export`'s flags and dependencies.
type exportOptions struct {
	IO       *cmdutil.IOStreams
	Settings Settings
	Env      cmdutil.Env
	Version  string
	// StatePath is the stack's state file.
	StatePath string

	Format string // export.Format*
	Out    string // file to write, "-" = stdout

	// cloudformation and openapi: the desired state (export.Desired: a
	// flag given, its *Set field true, or a configured value beats what
	// setup recorded, which beats the defaults).
	Auth      string
	AuthSet   bool
	Memory    int
	MemorySet bool
	Arch      string
	ArchSet   bool
	// AccountID names the account in the OpenAPI integration URI ("" =
	// the recorded one, else a placeholder).
	AccountID string

	// postman: where the collection points (resolved without secrets).
	Target   target.Flags
	Resolver *target.Resolver
}

func newExportCmd(f *Factory, runF func(context.Context, *exportOptions) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Export the stack as CloudFormation, the API as OpenAPI 3 or a Postman collection",
		Long: `Write the stack or its API in another tool's format, computed from the
stack's desired state (the rule setup uses) without calling AWS; no secret is
ever written. --out FILE replaces FILE only if it is a previous export of the
same format; --out - (the default) prints it. Every format: docs/export.md.`,
		// Without this, cobra would answer an unknown format with help
		// and exit 0.
		RunE: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmdutil.UsageErrorf("export needs a format: %s", strings.Join(export.Formats, ", "))
			}
			return cmdutil.UsageErrorf("unknown export format %q: want %s", args[0], strings.Join(export.Formats, ", "))
		},
	}
	cmd.AddCommand(
		exportSubCmd(f, runF, export.FormatCloudFormation,
			"Write a CloudFormation template of what setup creates",
			`Write a CloudFormation template of exactly what ddbops setup creates (every
resource, tagged ddbops:stack=<stack>); the function's code comes from the
parameters CodeS3Bucket and CodeS3Key (docs/export.md#cloudformation).`,
			`  ddbops export cloudformation --out ddbops.yaml
  ddbops export cloudformation --auth apikey --memory 1024 --out ddbops.yaml
  ddbops export cloudformation -o json > ddbops.json`),
		exportSubCmd(f, runF, export.FormatOpenAPI,
			"Write an OpenAPI 3.0 document of the API",
			`Write an OpenAPI 3.0 document of the API: its request schema is the wire
contract, with the auth mode's security scheme and the integration API Gateway
imports (the account id: recorded by setup, or --account-id; docs/export.md#openapi).`,
			`  ddbops export openapi --out openapi.json
  ddbops export openapi --auth apikey --account-id 123456789012 --region eu-west-1`),
		exportSubCmd(f, runF, export.FormatPostman,
			"Write a Postman v2.1 collection of the tutorial's requests",
			`Write a Postman v2.1 collection of the tutorial's requests, each with tests,
runnable in order again and again; secrets are empty variables to fill in
Postman or with newman --env-var. The target is the recorded stack, --local or
--url (docs/export.md#postman).`,
			`  ddbops export postman --out ddbops.postman.json
  ddbops export postman --local --out local.postman.json
  newman run ddbops.postman.json --env-var apiKey=$KEY`),
	)
	return cmd
}

// exportSubCmd is one format's command.
func exportSubCmd(f *Factory, runF func(context.Context, *exportOptions) error, format, short, long, example string) *cobra.Command {
	opts := &exportOptions{Format: format}
	cmd := &cobra.Command{
		Use:     format,
		Short:   short,
		Long:    long,
		Example: example,
		Args:    cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.IO, opts.Settings, opts.Env, opts.Version, opts.Resolver = f.IO, f.Settings, f.Env, f.Version, f.Resolver()
			opts.StatePath, _ = f.StatePath()
			fl := cmd.Flags()
			// postman's --auth is the target's (opts.Target.Auth).
			opts.AuthSet = format != export.FormatPostman && fl.Changed("auth")
			opts.MemorySet = fl.Changed("memory")
			opts.ArchSet = fl.Changed("arch")
			return runOr(cmd.Context(), opts, runF, runExport)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Out, "out", "-", "file to write, - for stdout (a file is replaced only if it is a previous export)")
	bindConfig(fl, "out", "export-out")
	authHelp := "auth mode: iam|apikey|none (default: as configured, else as setup recorded)"
	switch format {
	case export.FormatCloudFormation:
		fl.StringVar(&opts.Auth, "auth", "", authHelp)
		fl.IntVar(&opts.Memory, "memory", 0, "Lambda memory in MB (default: as configured, else as recorded)")
		fl.StringVar(&opts.Arch, "arch", "", "Lambda architecture: arm64|x86_64 (default: as configured, else as recorded)")
		completeValues(cmd, map[string][]string{"arch": pkgzip.Arches(), "memory": memorySizes})
	case export.FormatOpenAPI:
		fl.StringVar(&opts.Auth, "auth", "", authHelp)
		fl.StringVar(&opts.AccountID, "account-id", "", "AWS account id for the integration URI (default: as recorded)")
	case export.FormatPostman:
		// The targeting flags of call and bench, without --api-key: no
		// key is written into a collection.
		fl.StringVar(&opts.Target.URL, "url", "", "invoke URL the collection targets (default: the one recorded by ddbops setup)")
		fl.BoolVar(&opts.Target.Local, "local", false, "target the local stack of --data-dir (ddbops local)")
		fl.StringVar(&opts.Target.DataDir, "data-dir", "", "local stack data dir, with --local (default from config: .ddbops/local)")
		fl.StringVar(&opts.Target.Auth, "auth", "", "auth of the target: none|apikey|iam (default: as recorded; none for an unknown --url)")
	}
	completeValues(cmd, map[string][]string{"auth": wire.AuthModes})
	return cmd
}

func runExport(ctx context.Context, opts *exportOptions) error {
	if opts.Out == "" {
		return cmdutil.UsageErrorf("--out must name a file, or - for stdout")
	}
	if opts.AuthSet && !wire.ValidAuth(opts.Auth) {
		return cmdutil.UsageErrorf("invalid --auth %q: want iam, apikey or none", opts.Auth)
	}
	var (
		data []byte
		res  = export.Written{Format: opts.Format, Stack: opts.Settings.Stack}
		err  error
	)
	switch opts.Format {
	case export.FormatCloudFormation:
		data, err = exportCloudFormation(opts, &res)
	case export.FormatOpenAPI:
		data, err = exportOpenAPI(opts, &res)
	case export.FormatPostman:
		data, err = exportPostman(ctx, opts, &res)
	default:
		return cmdutil.UsageErrorf("unknown export format %q: want %s", opts.Format, strings.Join(export.Formats, ", "))
	}
	if err != nil {
		return err
	}
	if !opts.Settings.Quiet {
		for _, w := range res.Warnings {
			fmt.Fprintf(opts.IO.ErrOut, "warning: %s\n", w)
		}
	}
	if opts.Out == "-" {
		_, err := opts.IO.Out.Write(data)
		return err
	}
	path, err := export.WriteFile(opts.Out, opts.Format, data)
	if err != nil {
		return err
	}
	res.Path, res.Bytes = path, len(data)
	if opts.Settings.JSON() {
		return cmdutil.WriteJSON(opts.IO.Out, res)
	}
	_, err = fmt.Fprintf(opts.IO.Out, "wrote %s %s (%d bytes, stack %s, auth %s)\n", opts.Format, path, len(data), res.Stack, res.Auth)
	return err
}

// exportSpec is the desired state an export describes (export.Desired)
// and the recorded state it used.
func exportSpec(opts *exportOptions) (provision.Spec, *provision.State, error) {
	st, err := provision.LoadStackState(opts.StatePath)
	if err != nil {
		return provision.Spec{}, nil, err
	}
	o := export.Overrides{Auth: opts.Auth, Memory: int32(opts.Memory), Arch: opts.Arch}
	if !opts.AuthSet {
		o.Auth = ""
	}
	if !opts.MemorySet {
		o.Memory = 0
	}
	if !opts.ArchSet {
		o.Arch = ""
	}
	return export.Desired(opts.Settings.spec(), opts.Settings.Explicit, st, o, opts.Env.AWSRegion())
}

func exportCloudFormation(opts *exportOptions, res *export.Written) ([]byte, error) {
	spec, _, err := exportSpec(opts)
	if err != nil {
		return nil, err
	}
	t, err := export.CloudFormation(spec)
	if err != nil {
		return nil, cmdutil.UsageErrorf("invalid configuration: %v", err)
	}
	res.Auth, res.Resources = spec.Auth, t.Resources()
	if opts.Out == "-" && opts.Settings.JSON() {
		return t.JSON()
	}
	return t.YAML()
}

func exportOpenAPI(opts *exportOptions, res *export.Written) ([]byte, error) {
	spec, st, err := exportSpec(opts)
	if err != nil {
		return nil, err
	}
	api := export.API{Spec: spec, AccountID: opts.AccountID, Version: opts.Version}
	if st != nil {
		if api.AccountID == "" {
			api.AccountID = st.AccountID
		}
		api.InvokeURL = st.InvokeURL
	}
	d, err := export.OpenAPI(api)
	if err != nil {
		return nil, cmdutil.UsageErrorf("invalid configuration: %v", err)
	}
	res.Auth, res.Warnings, res.URL = spec.Auth, d.Warnings, api.InvokeURL
	return d.JSON()
}

func exportPostman(ctx context.Context, opts *exportOptions, res *export.Written) ([]byte, error) {
	tf := opts.Target
	tf.NoSecrets = true
	rt, err := opts.Resolver.Resolve(ctx, tf)
	if err != nil {
		return nil, err
	}
	defer rt.Close()
	region := rt.Target.Region
	if region == "" {
		region = opts.Settings.Region
	}
	s := opts.Settings
	d, err := export.Postman(export.Collection{
		Name:      fmt.Sprintf("%s: %s (%s)", s.Stack, s.API, rt.Target.Auth),
		InvokeURL: rt.Target.URL,
		Auth:      rt.Target.Auth,
		Region:    region,
		Table:     rt.Target.TableName,
	})
	if err != nil {
		return nil, err
	}
	res.Auth, res.URL = rt.Target.Auth, rt.Target.URL
	return d.JSON()
}
