package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ddbops/ddbops/internal/pkgzip"
	"github.com/ddbops/ddbops/internal/provision"
)

// provDeps are what the provisioning commands (setup, deploy, status,
// teardown, logs) need besides their flags. Tests replace AWSConfig (an
// emulator) and Build (a tiny zip instead of compiling the handler).
type provDeps struct {
	IO        *IOStreams
	Settings  Settings
	AWSConfig func(context.Context) (aws.Config, error)
	Build     func(context.Context, pkgzip.Options) ([]byte, error)
	// Tune, when set, adjusts the provisioner's options (tests shorten
	// waiter delays).
	Tune func(*provision.Options)
}

func newProvDeps(f *Factory) provDeps {
	return provDeps{IO: f.IO, AWSConfig: f.AWSConfig, Build: pkgzip.Build}
}

// stackSession is one command's provisioner and its instruments.
type stackSession struct {
	spec     provision.Spec
	prov     *provision.Provisioner
	rec      *provision.Recorder
	progress *progress
}

// specFromSettings is the desired state the configuration describes.
func specFromSettings(s Settings) provision.Spec {
	return provision.Spec{
		Stack: s.Stack, Region: s.Region, EndpointURL: s.EndpointURL,
		Table: s.Table, Function: s.Function, Role: s.Role, Policy: s.Policy,
		API: s.API, Resource: s.Resource, Stage: s.Stage,
		Memory: int32(s.Memory), Timeout: int32(s.Timeout), Arch: s.Arch, Auth: s.Auth,
		ThrottleRate: s.ThrottleRate, ThrottleBurst: int32(s.ThrottleBurst), LogRetention: int32(s.LogRetention),
		IAMPropagationTimeout: s.IAMPropagationTimeout,
	}
}

// openStack validates the spec (bad settings are usage errors), loads the
// AWS configuration and builds the provisioner with a call recorder and a
// progress reporter on stderr.
func openStack(ctx context.Context, d provDeps, spec provision.Spec, code provision.CodeFunc) (*stackSession, error) {
	// The region comes from the SDK chain when not set explicitly; check
	// everything else first so bad input never waits for AWS.
	probe := spec
	if probe.Region == "" {
		probe.Region = "us-east-1"
	}
	if err := probe.Validate(); err != nil {
		return nil, usageErrorf("invalid configuration: %v", err)
	}
	cfg, err := d.AWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	spec.Region = cfg.Region
	if spec.EndpointURL == "" {
		spec.EndpointURL = aws.ToString(cfg.BaseEndpoint)
	}
	rec := &provision.Recorder{}
	pr := newProgress(d.IO, d.Settings)
	opts := provision.Options{
		Spec: spec, Clients: provision.NewClients(cfg, rec), Code: code,
		StatePath: d.Settings.StateFile, Reporter: pr,
	}
	if d.Tune != nil {
		d.Tune(&opts)
	}
	p, err := provision.New(opts)
	if err != nil {
		return nil, usageErrorf("invalid configuration: %v", err)
	}
	return &stackSession{spec: spec, prov: p, rec: rec, progress: pr}, nil
}

// handlerCode returns the code source: the --handler-zip file, or the
// handler built by `ddbops package` (lazily: only when code is needed).
func handlerCode(d provDeps, zipFile string, pr func() *progress) (provision.CodeFunc, error) {
	if zipFile != "" {
		b, err := readHandlerZip(zipFile)
		if err != nil {
			return nil, err
		}
		return func(context.Context, string) ([]byte, error) { return b, nil }, nil
	}
	return func(ctx context.Context, arch string) ([]byte, error) {
		p := pr()
		p.StepStarted("handler", "bootstrap.zip ("+arch+")")
		start := time.Now()
		z, err := d.Build(ctx, pkgzip.Options{Arch: arch})
		c := provision.Change{Kind: "handler", Name: "bootstrap.zip (" + arch + ")", Action: "built", Elapsed: time.Since(start)}
		if err != nil {
			c.Action, c.Err = provision.Failed, err
		} else {
			c.Note = "CodeSha256 " + provision.CodeSha256(z)
		}
		p.StepDone(c)
		if err != nil {
			return nil, withHint(err, "pass --handler-zip FILE (from ddbops package), or run from a ddbops checkout with Go installed")
		}
		return z, nil
	}, nil
}

// readHandlerZip reads a deployment package and checks it is a zip with
// an executable entry named bootstrap, the provided.al2023 entry point.
func readHandlerZip(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usageErrorf("--handler-zip %s: %v", path, errors.Unwrap(err))
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, usageErrorf("--handler-zip %s: not a zip file", path)
	}
	for _, f := range zr.File {
		if f.Name == pkgzip.EntryName {
			return b, nil
		}
	}
	return nil, usageErrorf("--handler-zip %s: no %s entry (the provided.al2023 runtime runs ./%s)", path, pkgzip.EntryName, pkgzip.EntryName)
}

// provErr attaches the provision error's hint, if any, for printError.
func provErr(err error) error {
	if err == nil {
		return nil
	}
	var pe *provision.Error
	if errors.As(err, &pe) && pe.Hint != "" {
		var he *hintError
		if !errors.As(err, &he) {
			return withHint(err, pe.Hint)
		}
	}
	return err
}

// confirm asks a yes/no question on the terminal; anything but y/yes is no.
func confirm(ios *IOStreams, question string) (bool, error) {
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

// callCounts is the number of AWS requests a command made.
type callCounts struct {
	Total    int `json:"total"`
	Mutating int `json:"mutating"`
}

func countsOf(rec *provision.Recorder) callCounts {
	t, m := rec.Counts()
	return callCounts{Total: t, Mutating: m}
}

// changeJSON is one resource line of a -o json document.
type changeJSON struct {
	Resource  string           `json:"resource"`
	Name      string           `json:"name"`
	Action    string           `json:"action"`
	Diffs     []provision.Diff `json:"diffs,omitempty"`
	Note      string           `json:"note,omitempty"`
	Error     string           `json:"error,omitempty"`
	ElapsedMS int64            `json:"elapsedMs"`
}

func changesJSON(cs []provision.Change) []changeJSON {
	out := make([]changeJSON, 0, len(cs))
	for _, c := range cs {
		j := changeJSON{Resource: c.Kind, Name: c.Name, Action: string(c.Action), Diffs: c.Diffs, Note: c.Note, ElapsedMS: c.Elapsed.Milliseconds()}
		if c.Err != nil {
			j.Error = c.Err.Error()
		}
		out = append(out, j)
	}
	return out
}

// resultJSON is the -o json document of setup, deploy and teardown.
type resultJSON struct {
	Command   string       `json:"command"`
	Stack     string       `json:"stack"`
	Region    string       `json:"region"`
	DryRun    bool         `json:"dryRun"`
	Changes   []changeJSON `json:"changes"`
	InvokeURL string       `json:"invokeUrl,omitempty"`
	Auth      string       `json:"auth,omitempty"`
	APIKeyID  string       `json:"apiKeyId,omitempty"`
	BackupARN string       `json:"backupArn,omitempty"`
	APICalls  callCounts   `json:"apiCalls"`
	ElapsedMS int64        `json:"elapsedMs"`
	Error     string       `json:"error,omitempty"`
}

// failedResultJSON is the document of a command that stopped before it had
// a result, possibly before it had a session (bad flags, no credentials).
func failedResultJSON(cmd string, st Settings, s *stackSession, elapsed time.Duration, err error) resultJSON {
	if s != nil {
		return newResultJSON(cmd, s, nil, elapsed, err)
	}
	return resultJSON{Command: cmd, Stack: st.Stack, Region: st.Region, Changes: []changeJSON{}, ElapsedMS: elapsed.Milliseconds(), Error: errString(err)}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// jsonOut is the stdout of a provisioning command run with -o json, which
// must carry exactly one document whatever path the command leaves by
// (DESIGN §3): the command writes its document through write, and a
// deferred orFail writes the error document when it returned an error
// without having written one.
type jsonOut struct {
	w       io.Writer
	on      bool
	written bool
}

func newJSONOut(ios *IOStreams, s Settings) *jsonOut { return &jsonOut{w: ios.Out, on: s.JSON()} }

// write prints v as the command's document.
func (j *jsonOut) write(v any) error {
	j.written = true
	return writeJSON(j.w, v)
}

// orFail writes doc() when the command failed with -o json and printed no
// document yet; it returns err (joined with a failure to write).
func (j *jsonOut) orFail(err error, doc func() any) error {
	if err == nil || !j.on || j.written {
		return err
	}
	if jerr := j.write(doc()); jerr != nil {
		return errors.Join(err, jerr)
	}
	return err
}

func newResultJSON(cmd string, s *stackSession, res *provision.Result, elapsed time.Duration, err error) resultJSON {
	j := resultJSON{Command: cmd, Stack: s.spec.Stack, Region: s.spec.Region, APICalls: countsOf(s.rec), ElapsedMS: elapsed.Milliseconds(), Changes: []changeJSON{}}
	if res != nil {
		j.DryRun, j.Changes, j.InvokeURL, j.Auth, j.APIKeyID = res.DryRun, changesJSON(res.Changes), res.InvokeURL, res.Auth, res.APIKeyID
	}
	j.Error = errString(err)
	return j
}

// planCounts summarises a plan or result as "2 to create, 1 to update".
func planCounts(cs []provision.Change, dry bool) string {
	order := []provision.Action{provision.Create, provision.Update, provision.Delete, provision.Unchanged, provision.Blocked, provision.Keep, provision.Absent}
	n := map[provision.Action]int{}
	for _, c := range cs {
		a := c.Action
		if !dry {
			switch a {
			case provision.Created:
				a = provision.Create
			case provision.Updated:
				a = provision.Update
			case provision.Deleted:
				a = provision.Delete
			}
		}
		n[a]++
	}
	var parts []string
	for _, a := range order {
		if n[a] == 0 {
			continue
		}
		word := map[provision.Action]string{
			provision.Create: "to create", provision.Update: "to update", provision.Delete: "to delete", provision.Unchanged: "unchanged",
			provision.Blocked: "blocked", provision.Keep: "not owned (kept)", provision.Absent: "not found",
		}[a]
		if !dry {
			word = map[provision.Action]string{
				provision.Create: "created", provision.Update: "updated", provision.Delete: "deleted", provision.Unchanged: "unchanged",
				provision.Blocked: "blocked", provision.Keep: "not owned (kept)", provision.Absent: "not found",
			}[a]
		}
		parts = append(parts, fmt.Sprintf("%d %s", n[a], word))
	}
	if n[provision.Failed] > 0 {
		parts = append(parts, fmt.Sprintf("%d failed", n[provision.Failed]))
	}
	return strings.Join(parts, ", ")
}
