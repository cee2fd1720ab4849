package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ddbops/ddbops/internal/cmdutil"
	"github.com/ddbops/ddbops/internal/export"
	"github.com/ddbops/ddbops/internal/pkgzip"
	"github.com/ddbops/ddbops/internal/provision"
	"github.com/ddbops/ddbops/internal/wire"
)

// exportOptions are `ddbops export`'s flags and dependencies.
type exportOptions struct {
	IO       *IOStreams
	Settings Settings
	Getenv   func(string) string
	Version  string

	Format string // export.Format*
	Out    string // file to write, "-" = stdout

	// cloudformation and openapi: the desired state. A flag given on the
	// command line (its *Set field true) beats what setup recorded, which
	// beats the configuration.
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
	Target  targetFlags
	Resolve func(context.Context, targetFlags) (*resolvedTarget, error)
}

// exportResult is the -o json document of an export written to a file.
type exportResult struct {
	Format    string            `json:"format"`
	Path      string            `json:"path"`
	Bytes     int               `json:"bytes"`
	Stack     string            `json:"stack"`
	Auth      string            `json:"auth"`
	URL       string            `json:"url,omitempty"`
	Resources []export.Resource `json:"resources,omitempty"`
	Warnings  []string          `json:"warnings,omitempty"`
}

func newExportCmd(f *Factory, runF func(context.Context, *exportOptions) error) *cobra.Command {
	if runF == nil {
		runF = runExport
	}
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Export the stack as CloudFormation, the API as OpenAPI 3 or a Postman collection",
		Long: `Write the stack or its API in another tool's format. Nothing calls AWS or
needs credentials: every export is computed from the configuration and, once
ddbops setup has run, what it recorded (auth, memory, timeout, architecture,
region, account). No secret is ever written into an export.

  cloudformation  a YAML template of exactly what setup creates
  openapi         an OpenAPI 3.0 document whose request schema is the wire contract
  postman         a Postman v2.1 collection of the tutorial's requests, with tests

--out FILE replaces FILE only if it is a previous export of the same format.
With --out - (the default) the export is the command's output; with -o json a
template is written as JSON, and with --out FILE -o json prints what was
written. See docs/export.md.`,
		// Without this, cobra would answer an unknown format with help
		// and exit 0.
		RunE: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErrorf("export needs a format: %s", strings.Join(export.Formats, ", "))
			}
			return usageErrorf("unknown export format %q: want %s", args[0], strings.Join(export.Formats, ", "))
		},
	}
	cmd.AddCommand(
		exportSubCmd(f, runF, export.FormatCloudFormation,
			"Write a CloudFormation template of what setup creates",
			`Write a CloudFormation template of exactly what ddbops setup creates for the
current configuration and auth mode: the IAM policy (the same statements and
ARNs), role, log group, function, table, REST API, resource, POST method,
Lambda proxy integration, invoke permission, deployment and stage with
throttling, and for apikey auth the API key and usage plan; every resource
that takes tags carries ddbops:stack=<stack>.

The function's code comes from the template parameters CodeS3Bucket and
CodeS3Key: build it with ddbops package and upload it to S3 first.`,
			`  ddbops export cloudformation --out ddbops.yaml
  ddbops export cloudformation --auth apikey --memory 1024 --out ddbops.yaml
  ddbops export cloudformation -o json > ddbops.json`),
		exportSubCmd(f, runF, export.FormatOpenAPI,
			"Write an OpenAPI 3.0 document of the API",
			`Write an OpenAPI 3.0 document of the API: POST /<resource> with a request
schema that is the wire contract (one schema per operation), the success and
error answers, the security scheme of the auth mode and the
x-amazon-apigateway-integration that lets API Gateway import it (the
integration URI needs the account id: recorded by setup, or --account-id).`,
			`  ddbops export openapi --out openapi.json
  ddbops export openapi --auth apikey --account-id 123456789012 --region eu-west-1`),
		exportSubCmd(f, runF, export.FormatPostman,
			"Write a Postman v2.1 collection of the tutorial's requests",
			`Write a Postman v2.1 collection: create, read, update, list, echo, ping, a
read of a missing id (404), a repeated create (409) and delete, each with tests
on status and body, runnable in order on an empty table and again. Variables
baseUrl (the invoke URL), apiKey, accessKey, secretKey, sessionToken and region;
awsv4 auth for iam, the x-api-key header for apikey. The secrets are left
empty: fill them in Postman, or pass them to newman with --env-var.

The target is the stack setup recorded, --local (a running ddbops local, or
the one it would start) or --url, with its auth unless --auth.`,
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
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.IO, opts.Settings, opts.Getenv, opts.Version = f.IO, f.Settings, f.Getenv, f.Version
			fl := cmd.Flags()
			// postman's --auth is the target's (opts.Target.Auth).
			opts.AuthSet = format != export.FormatPostman && fl.Changed("auth")
			opts.MemorySet = fl.Changed("memory")
			opts.ArchSet = fl.Changed("arch")
			opts.Resolve = func(ctx context.Context, tf targetFlags) (*resolvedTarget, error) {
				return resolveTarget(ctx, f, tf)
			}
			return runF(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Out, "out", "-", "file to write, - for stdout (a file is replaced only if it is a previous export)")
	authHelp := "auth mode: iam|apikey|none (default: as setup recorded, else from config)"
	switch format {
	case export.FormatCloudFormation:
		fl.StringVar(&opts.Auth, "auth", "", authHelp)
		fl.IntVar(&opts.Memory, "memory", 0, "Lambda memory in MB (default: as recorded, else from config)")
		fl.StringVar(&opts.Arch, "arch", "", "Lambda architecture: arm64|x86_64 (default: as recorded, else from config)")
		_ = cmd.RegisterFlagCompletionFunc("arch", cobra.FixedCompletions(pkgzip.Arches(), cobra.ShellCompDirectiveNoFileComp))
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
	_ = cmd.RegisterFlagCompletionFunc("auth", cobra.FixedCompletions(wire.AuthModes, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func runExport(ctx context.Context, opts *exportOptions) error {
	if opts.Out == "" {
		return usageErrorf("--out must name a file, or - for stdout")
	}
	if opts.AuthSet && !wire.ValidAuth(opts.Auth) {
		return usageErrorf("invalid --auth %q: want iam, apikey or none", opts.Auth)
	}
	var (
		data []byte
		res  = exportResult{Format: opts.Format, Stack: opts.Settings.Stack}
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
		return usageErrorf("unknown export format %q: want %s", opts.Format, strings.Join(export.Formats, ", "))
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
	path, err := writeExport(opts.Out, opts.Format, data)
	if err != nil {
		return err
	}
	res.Path, res.Bytes = path, len(data)
	if opts.Settings.JSON() {
		return writeJSON(opts.IO.Out, res)
	}
	_, err = fmt.Fprintf(opts.IO.Out, "wrote %s %s (%d bytes, stack %s, auth %s)\n", opts.Format, path, len(data), res.Stack, res.Auth)
	return err
}

// exportSpec is the desired state an export describes: the configuration,
// overridden by what setup recorded for this stack, overridden by the flags
// given on the command line. It also returns the recorded state (nil when
// setup has not run for this stack).
func exportSpec(opts *exportOptions) (provision.Spec, *provision.State, error) {
	s := opts.Settings
	spec := specFromSettings(s)
	st, err := provision.LoadState(s.StateFile)
	switch {
	case errors.Is(err, provision.ErrNoState):
		st = nil
	case err != nil:
		return spec, nil, withHint(err, "re-run ddbops setup to rewrite it, or move it away")
	case st.Stack != "" && st.Stack != spec.Stack:
		st = nil // another stack's
	}
	if st != nil {
		if st.Auth != "" {
			spec.Auth = st.Auth
		}
		if st.Memory > 0 {
			spec.Memory = st.Memory
		}
		if st.Timeout > 0 {
			spec.Timeout = st.Timeout
		}
		if st.Architecture != "" {
			spec.Arch = st.Architecture
		}
		if st.Region != "" && s.Region == "" {
			spec.Region = st.Region
		}
	}
	if opts.AuthSet {
		spec.Auth = opts.Auth
	}
	if opts.MemorySet {
		spec.Memory = int32(opts.Memory)
	}
	if opts.ArchSet {
		if !pkgzip.ValidArch(opts.Arch) {
			return spec, nil, usageErrorf("invalid --arch %q: want %s", opts.Arch, strings.Join(pkgzip.Arches(), " or "))
		}
		spec.Arch = opts.Arch
	}
	if spec.Region == "" && opts.Getenv != nil {
		// As the SDK would find it, without loading any configuration.
		for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
			if r := opts.Getenv(k); r != "" {
				spec.Region = r
				break
			}
		}
	}
	probe := spec
	if probe.Region == "" {
		probe.Region = "us-east-1"
	}
	if err := probe.Validate(); err != nil {
		return spec, nil, usageErrorf("invalid configuration: %v", err)
	}
	return spec, st, nil
}

func exportCloudFormation(opts *exportOptions, res *exportResult) ([]byte, error) {
	spec, _, err := exportSpec(opts)
	if err != nil {
		return nil, err
	}
	t, err := export.CloudFormation(spec)
	if err != nil {
		return nil, usageErrorf("invalid configuration: %v", err)
	}
	res.Auth, res.Resources = spec.Auth, t.Resources()
	if opts.Out == "-" && opts.Settings.JSON() {
		return t.JSON()
	}
	return t.YAML()
}

func exportOpenAPI(opts *exportOptions, res *exportResult) ([]byte, error) {
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
		return nil, usageErrorf("invalid configuration: %v", err)
	}
	res.Auth, res.Warnings, res.URL = spec.Auth, d.Warnings, api.InvokeURL
	return d.JSON()
}

func exportPostman(ctx context.Context, opts *exportOptions, res *exportResult) ([]byte, error) {
	tf := opts.Target
	tf.NoSecrets = true
	rt, err := opts.Resolve(ctx, tf)
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

// writeExport writes data to out and returns the path written. An existing
// file is replaced only when it is a previous export of the same format: an
// export never destroys a user's file.
func writeExport(out, format string, data []byte) (string, error) {
	path, err := filepath.Abs(out)
	if err != nil {
		return "", fmt.Errorf("export %s: %w", format, err)
	}
	hint := "choose another --out, or move the file away"
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return "", fmt.Errorf("export %s: %w", format, err)
	case fi.IsDir():
		return "", withHint(fmt.Errorf("export %s: --out %s is a directory", format, path), "name the file to write")
	case !fi.Mode().IsRegular():
		return "", withHint(fmt.Errorf("export %s: refusing to replace %s: not a regular file", format, path), hint)
	default:
		old, err := readHead(path, 64<<20)
		if err != nil {
			return "", fmt.Errorf("export %s: %w", format, err)
		}
		if !export.Generated(format, old) {
			return "", withHint(fmt.Errorf("export %s: refusing to replace %s: not a previous ddbops %s export", format, path, format), hint)
		}
	}
	if err := cmdutil.WriteFile(path, data, 0o644); err != nil {
		return "", fmt.Errorf("export %s: %w", format, err)
	}
	return path, nil
}

// readHead reads at most max bytes of path (an export is far smaller).
func readHead(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, max))
}
