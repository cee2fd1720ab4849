package loadtest

import (
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/ddbops/ddbops/internal/cmdutil"
)

// NewSweep returns a sweep of function over sizes that changes it and
// reads its REPORT lines (from logGroup; "" as Sweep.LogGroup says)
// through the Lambda and CloudWatch Logs clients of cfg.
func NewSweep(cfg aws.Config, function, logGroup string, sizes []int) *Sweep {
	return &Sweep{
		Lambda: lambda.NewFromConfig(cfg), Logs: cloudwatchlogs.NewFromConfig(cfg),
		Function: function, LogGroup: logGroup, Sizes: sizes,
	}
}

// Unreachable is an error when warm-up requests were sent and none got
// any HTTP answer: the run would measure nothing but connection errors.
func Unreachable(probes []Probe) error {
	for _, p := range probes {
		if p.Code != 0 {
			return nil
		}
	}
	if len(probes) == 0 {
		return nil
	}
	return fmt.Errorf("no answer to %d warm-up requests: %s", len(probes), probes[0].Error)
}

// WriteReport writes the HTML report of in to path atomically: a failed
// write never leaves half a report under the final name.
func WriteReport(path string, in ReportInput) error {
	err := cmdutil.WriteFileAtomic(path, 0o644, func(w io.Writer) error { return WriteHTML(w, in) })
	if err != nil {
		return cmdutil.WithHint(fmt.Errorf("write report %s: %w", path, errors.Unwrap(err)),
			"check that the directory exists and is writable")
	}
	return nil
}
