package main

import (
	"strings"
	"time"

	"github.com/ddbops/ddbops/internal/cmdutil"
	"github.com/ddbops/ddbops/internal/provision"
)

// Settings is every configurable value commands read after precedence
// (flag > DDBOPS_* env > config file > embedded configs/ddbops.yaml) has
// been applied. The root command fills it; commands read these plain values
// and never viper. Keys only a flag reads (bench-rate, request-timeout, ...)
// reach their flag directly and have no field here.
type Settings struct {
	Stack    string `mapstructure:"stack"`
	Table    string `mapstructure:"table"`
	Function string `mapstructure:"function"`
	Role     string `mapstructure:"role"`
	Policy   string `mapstructure:"policy"`
	API      string `mapstructure:"api"`
	Resource string `mapstructure:"resource"`
	Stage    string `mapstructure:"stage"`

	Profile     string `mapstructure:"profile"`
	Region      string `mapstructure:"region"`
	EndpointURL string `mapstructure:"endpoint-url"`

	Memory                int           `mapstructure:"memory"`
	Timeout               int           `mapstructure:"timeout"`
	Arch                  string        `mapstructure:"arch"`
	Auth                  string        `mapstructure:"auth"`
	ThrottleRate          float64       `mapstructure:"throttle-rate"`
	ThrottleBurst         int           `mapstructure:"throttle-burst"`
	LogRetention          int           `mapstructure:"log-retention"`
	IAMPropagationTimeout time.Duration `mapstructure:"iam-propagation-timeout"`
	StateDir              string        `mapstructure:"state-dir"`
	CORS                  string        `mapstructure:"cors"`

	Output  string `mapstructure:"output"`
	Verbose bool   `mapstructure:"-"`
	Quiet   bool   `mapstructure:"-"`

	Addr             string `mapstructure:"addr"`
	DataDir          string `mapstructure:"data-dir"`
	LocalAuth        string `mapstructure:"local-auth"`
	LocalRegion      string `mapstructure:"local-region"`
	DynamoDBEndpoint string `mapstructure:"dynamodb-endpoint"`

	origin *cmdutil.Sources // where explicit values came from
}

// Explicit reports whether the user set config key (a flag, the
// environment or the config file), as opposed to its embedded default.
func (s *Settings) Explicit(key string) bool { return s.Source(key) != "" }

// Source names where key's value came from, "" for the embedded default.
func (s *Settings) Source(key string) string { return s.origin.Of(key) }

// invalidSetting is the usage error of a setting Validate refused (err
// names the key first: "memory 99: must be ...").
func (s *Settings) invalidSetting(err error) error {
	key, _, _ := strings.Cut(err.Error(), " ")
	if !s.Explicit(key) {
		return cmdutil.UsageErrorf("invalid configuration: %v", err)
	}
	return s.origin.Invalid(key, err, func(src string) error { return cmdutil.UsageErrorf("invalid configuration: %v (from %s)", err, src) })
}

// JSON reports whether -o json was asked for.
func (s *Settings) JSON() bool { return s.Output == "json" }

// spec is the desired state the settings describe.
func (s *Settings) spec() provision.Spec {
	return provision.Spec{
		Stack: s.Stack, Region: s.Region, EndpointURL: s.EndpointURL,
		Table: s.Table, Function: s.Function, Role: s.Role, Policy: s.Policy,
		API: s.API, Resource: s.Resource, Stage: s.Stage,
		Memory: int32(s.Memory), Timeout: int32(s.Timeout), Arch: s.Arch, Auth: s.Auth,
		ThrottleRate: s.ThrottleRate, ThrottleBurst: int32(s.ThrottleBurst), LogRetention: int32(s.LogRetention),
		IAMPropagationTimeout: s.IAMPropagationTimeout,
		CORSOrigins:           provision.SplitCORSOrigins(s.CORS),
	}
}
