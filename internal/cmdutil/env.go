package cmdutil

import (
	"os"
	"strings"
)

// Environment variables ddbops reads. Every one is read through Env, so
// that tests can hand a command its own environment.
const (
	// EnvPrefix prefixes the variable of every config key: DDBOPS_<KEY>,
	// upper case, "-" becomes "_" (DDBOPS_THROTTLE_RATE for throttle-rate).
	EnvPrefix = "DDBOPS_"
	// EnvAPIKey is the API key for apikey auth (call, bench, local), never
	// printed; a printed curl command reads it too.
	EnvAPIKey = "DDBOPS_API_KEY"
	// EnvConfig names the config file when --config is not given.
	EnvConfig = "DDBOPS_CONFIG"
	// EnvOutput is -o's config key variable, read on its own when a command
	// fails before settings are resolved.
	EnvOutput = "DDBOPS_OUTPUT"

	envNoColor      = "NO_COLOR"
	envXDGConfig    = "XDG_CONFIG_HOME"
	envGOGC         = "GOGC"
	envGOMAXPROCS   = "GOMAXPROCS"
	envSessionToken = "AWS_SESSION_TOKEN"
)

// Env is the process environment as ddbops sees it.
type Env struct {
	// Getenv is os.Getenv, or a test's map; nil reads nothing.
	Getenv func(string) string
}

// SystemEnv is the process's real environment.
func SystemEnv() Env { return Env{Getenv: os.Getenv} }

func (e Env) get(name string) string {
	if e.Getenv == nil {
		return ""
	}
	return e.Getenv(name)
}

// Setting returns DDBOPS_<KEY> for config key and whether it is set to a
// non-empty value (an empty variable counts as unset).
func (e Env) Setting(key string) (string, bool) {
	v := e.get(EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, "-", "_")))
	return v, v != ""
}

// APIKey is $DDBOPS_API_KEY.
func (e Env) APIKey() string { return e.get(EnvAPIKey) }

// ConfigFile is $DDBOPS_CONFIG.
func (e Env) ConfigFile() string { return e.get(EnvConfig) }

// Output is $DDBOPS_OUTPUT.
func (e Env) Output() string { return e.get(EnvOutput) }

// NoColor reports whether $NO_COLOR is set (https://no-color.org).
func (e Env) NoColor() bool { return e.get(envNoColor) != "" }

// XDGConfigHome is $XDG_CONFIG_HOME.
func (e Env) XDGConfigHome() string { return e.get(envXDGConfig) }

// GOGC is $GOGC: when set, the user tunes the collector, not ddbops.
func (e Env) GOGC() string { return e.get(envGOGC) }

// GOMAXPROCS is $GOMAXPROCS: when set, the user chooses the thread count.
func (e Env) GOMAXPROCS() string { return e.get(envGOMAXPROCS) }

// HasSessionToken reports whether $AWS_SESSION_TOKEN is set: a printed
// curl command signing with the environment's credentials then needs it.
func (e Env) HasSessionToken() bool { return e.get(envSessionToken) != "" }

// AWSRegion is the region the AWS SDK would take from the environment
// (AWS_REGION, else AWS_DEFAULT_REGION), for commands that describe a stack
// without loading an AWS configuration.
func (e Env) AWSRegion() string {
	if r := e.get("AWS_REGION"); r != "" {
		return r
	}
	return e.get("AWS_DEFAULT_REGION")
}
