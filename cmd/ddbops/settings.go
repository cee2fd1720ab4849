package main

import "time"

// Settings is every configurable value after precedence (flag > DDBOPS_*
// env > config file > embedded configs/ddbops.yaml) has been applied. The
// root command fills it; commands read these plain values and never viper.
type Settings struct {
	// Where the config file came from ("" = embedded defaults only).
	ConfigFile string `mapstructure:"-"`

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
	StateFile             string        `mapstructure:"state-file"`

	Output  string `mapstructure:"output"`
	NoColor bool   `mapstructure:"-"`
	Verbose bool   `mapstructure:"-"`
	Quiet   bool   `mapstructure:"-"`

	Addr             string `mapstructure:"addr"`
	DataDir          string `mapstructure:"data-dir"`
	LocalAuth        string `mapstructure:"local-auth"`
	DynamoDBEndpoint string `mapstructure:"dynamodb-endpoint"`

	BenchRate     int           `mapstructure:"bench-rate"`
	BenchDuration time.Duration `mapstructure:"bench-duration"`
	BenchWorkers  int           `mapstructure:"bench-workers"`
	BenchKeys     int           `mapstructure:"bench-keys"`
}

// JSON reports whether -o json was asked for.
func (s *Settings) JSON() bool { return s.Output == "json" }
