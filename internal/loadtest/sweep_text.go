package loadtest

import (
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
)

// WriteText prints the comparison table, the recommendation and the cost
// model's provenance.
func (r *SweepResult) WriteText(w io.Writer) {
	fmt.Fprintf(w, "Memory sweep of %s (%s): %s at %d req/s for %gs per size\n\n", r.Function, r.Architecture, r.Op, r.RequestedRate, r.DurationS)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "memory\trequests\terrors\tp50 ms\tp90 ms\tp99 ms\tbilled mean\tbilled p99\tcold starts\tinit ms\tmax used\t$/1M req\t")
	for _, sr := range r.Sizes {
		errs := sr.Requests - int(sr.Success*float64(sr.Requests)+0.5)
		billedMean, billedP99, cold, init, used, cost := "-", "-", "-", "-", "-", "-"
		if l := sr.Lambda; l != nil && l.Invocations > 0 {
			billedMean, billedP99 = FormatMS(l.BilledMeanMS), FormatMS(l.BilledP99MS)
			used = strconv.Itoa(l.MaxMemoryUsedMB) + " MB"
		}
		if l := sr.Lambda; l != nil {
			cold = strconv.Itoa(l.ColdStarts)
			if l.ColdStarts > 0 {
				init = FormatMS(l.InitMeanMS)
			}
		}
		if sr.Cost != nil {
			cost = fmt.Sprintf("%.4f", sr.Cost.Total)
		}
		mark := ""
		if r.Recommendation != nil && r.Recommendation.MemoryMB == sr.MemoryMB {
			mark = " *"
		}
		fmt.Fprintf(tw, "%d MB%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n",
			sr.MemoryMB, mark, sr.Requests, errs, FormatMS(sr.LatencyMS.P50), FormatMS(sr.LatencyMS.P90), FormatMS(sr.LatencyMS.P99),
			billedMean, billedP99, cold, init, used, cost)
	}
	tw.Flush()
	fmt.Fprintln(w)
	for _, sr := range r.Sizes {
		if sr.Lambda != nil && sr.Lambda.Invocations < sr.Lambda.Expected {
			fmt.Fprintf(w, "note: %d MB: %d of %d REPORT lines found in %s\n", sr.MemoryMB, sr.Lambda.Invocations, sr.Lambda.Expected, r.LogGroup)
		}
		if len(sr.Warmup) > 0 {
			fmt.Fprintf(w, "%d MB warm-up: first request %s ms (cold start as the client saw it)\n", sr.MemoryMB, FormatMS(sr.Warmup[0].LatencyMS))
		}
	}
	if rec := r.Recommendation; rec != nil {
		fmt.Fprintf(w, "\nRecommendation: %s.\n", rec.Explanation)
	} else {
		fmt.Fprintln(w, "\nRecommendation: none — no size answered every request successfully.")
	}
	if p := r.Prices; p != nil {
		fmt.Fprintf(w, "Cost per million requests = Lambda GB-s (%s, mean billed duration × memory) + Lambda requests + API Gateway REST requests + DynamoDB on-demand units of %q; prices %s %s as of %s (%s).\n",
			r.Architecture, r.Op, p.Region, p.Currency, p.AsOf, p.Source)
	}
	if r.Restored {
		fmt.Fprintf(w, "%s restored to %d MB.\n", r.Function, r.OriginalMemoryMB)
	}
}
