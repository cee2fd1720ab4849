package cmdutil

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// FormatDuration renders d as people write it, and as configs/ddbops.yaml
// does: 10m, 90s, 1h30m, 500ms — not Go's 10m0s or 1m30s.
func FormatDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "0s"
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0 && d < time.Hour:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d%time.Second == 0 && d < 2*time.Minute:
		return fmt.Sprintf("%ds", d/time.Second)
	case d < time.Second:
		return d.String()
	}
	s := d.String() // e.g. 1h30m0s, 2m30s
	if t, ok := strings.CutSuffix(s, "m0s"); ok {
		s = t + "m"
	}
	if t, ok := strings.CutSuffix(s, "h0m"); ok {
		s = t + "h"
	}
	return s
}

// durationValue is a time.Duration flag whose default and value print with
// FormatDuration.
type durationValue time.Duration

func (d *durationValue) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration (e.g. 30s, 10m, 1h)", s)
	}
	*d = durationValue(v)
	return nil
}

func (d *durationValue) Type() string   { return "duration" }
func (d *durationValue) String() string { return FormatDuration(time.Duration(*d)) }

// DurationVar defines a duration flag, as pflag's DurationVar does, whose
// help and messages show human durations.
func DurationVar(fs *pflag.FlagSet, p *time.Duration, name string, value time.Duration, usage string) {
	*p = value
	fs.Var((*durationValue)(p), name, usage)
}
