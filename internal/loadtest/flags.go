package loadtest

import (
	"slices"
	"strings"
	"time"

	"github.com/ddbops/ddbops/internal/cmdutil"
)

// Flags are `ddbops bench`'s settings of the load and the sweep, as the
// command line gives them.
type Flags struct {
	Op             string
	Rate           int
	Duration       time.Duration
	Workers        int
	Keys           int
	Warmup         int
	RequestTimeout time.Duration
	Memory         []int   // sweep sizes, MB
	Margin         float64 // percent
	LogWait        time.Duration
	Local          bool // the target is the local stack
}

// Validate reports bad values as usage errors (exit 2) naming their flag:
// nothing was sent.
func (o Flags) Validate() error {
	switch {
	case !slices.Contains(Ops, o.Op):
		return cmdutil.UsageErrorf("invalid --op %q: want one of %s", o.Op, strings.Join(Ops, ", "))
	case o.Rate <= 0 || o.Rate > 1_000_000:
		return cmdutil.UsageErrorf("invalid --rate %d: want 1 to 1000000 requests per second", o.Rate)
	case o.Duration <= 0:
		return cmdutil.UsageErrorf("invalid --duration %s: must be positive", cmdutil.FormatDuration(o.Duration))
	case int64(o.Duration/(time.Second/time.Duration(o.Rate))) == 0:
		return cmdutil.UsageErrorf("--rate %d for --duration %s: not a single request is due", o.Rate, cmdutil.FormatDuration(o.Duration))
	case int64(o.Duration/(time.Second/time.Duration(o.Rate))) > MaxHits:
		return cmdutil.UsageErrorf("--rate %d for --duration %s: more than %d requests in one run; lower --rate or --duration", o.Rate, cmdutil.FormatDuration(o.Duration), MaxHits)
	case o.Workers < 1:
		return cmdutil.UsageErrorf("invalid --workers %d: must be at least 1", o.Workers)
	case o.Keys < 1:
		return cmdutil.UsageErrorf("invalid --keys %d: must be at least 1", o.Keys)
	case o.Warmup < 0:
		return cmdutil.UsageErrorf("invalid --warmup %d: must be 0 or more", o.Warmup)
	case o.RequestTimeout <= 0:
		return cmdutil.UsageErrorf("invalid --request-timeout %s: must be positive", cmdutil.FormatDuration(o.RequestTimeout))
	case o.Margin < 0:
		return cmdutil.UsageErrorf("invalid --margin %g: must be 0 or more percent", o.Margin)
	case o.LogWait < 0:
		return cmdutil.UsageErrorf("invalid --log-wait %s: must be 0 or more", cmdutil.FormatDuration(o.LogWait))
	}
	seen := map[int]bool{}
	for _, m := range o.Memory {
		if m < 128 || m > 10240 {
			return cmdutil.UsageErrorf("invalid --memory %d: Lambda allows 128 to 10240 MB", m)
		}
		if seen[m] {
			return cmdutil.UsageErrorf("invalid --memory: %d MB is listed twice", m)
		}
		seen[m] = true
	}
	if len(o.Memory) > 0 && o.Local {
		return cmdutil.UsageErrorf("--memory sweeps the Lambda function on AWS; it cannot be used with --local")
	}
	return nil
}
