package loadtest

import (
	"encoding/json"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Invocation is one Lambda REPORT line: what the platform measured and
// billed for one invocation.
type Invocation struct {
	RequestID       string  `json:"request_id"`
	DurationMS      float64 `json:"duration_ms"`
	BilledMS        float64 `json:"billed_duration_ms"`
	MemorySizeMB    int     `json:"memory_size_mb"`
	MaxMemoryUsedMB int     `json:"max_memory_used_mb"`
	// InitMS is the Init Duration, present only on a cold start.
	InitMS float64 `json:"init_duration_ms,omitempty"`
	// Status is "" for a normal end, else what Lambda reported
	// (timeout, error, ...).
	Status string `json:"status,omitempty"`
	// TimestampMS is the CloudWatch event time (ms since the epoch).
	TimestampMS int64 `json:"timestamp_ms"`
}

// Cold reports whether the invocation started a new execution environment.
func (i Invocation) Cold() bool { return i.InitMS > 0 }

// reportField matches one "Name: value unit" field of a text REPORT line.
// Matches are leftmost and do not overlap, so "Billed Duration" is never
// also read as "Duration".
var reportField = regexp.MustCompile(`(RequestId|Billed Restore Duration|Restore Duration|Billed Duration|Init Duration|Duration|Max Memory Used|Memory Size|Status): *([^\s]+)`)

// ParseReportLine parses a Lambda REPORT line, in the text log format
//
//	REPORT RequestId: 8f5…	Duration: 2.43 ms	Billed Duration: 3 ms	Memory Size: 128 MB	Max Memory Used: 38 MB	Init Duration: 87.12 ms
//
// (optionally followed by an XRAY TraceId line) or in the JSON log format
// ({"type":"platform.report","record":{…}}). ok is false for any other
// line.
func ParseReportLine(msg string) (inv Invocation, ok bool) {
	s := strings.TrimSpace(msg)
	if strings.HasPrefix(s, "{") {
		return parseJSONReport(s)
	}
	if !strings.HasPrefix(s, "REPORT ") {
		return Invocation{}, false
	}
	// The XRAY trace (and anything else) follows on the next line.
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	var haveDuration, haveBilled bool
	for _, m := range reportField.FindAllStringSubmatch(s, -1) {
		name, val := m[1], m[2]
		switch name {
		case "RequestId":
			inv.RequestID = val
		case "Duration":
			inv.DurationMS, haveDuration = parseNum(val)
		case "Billed Duration":
			inv.BilledMS, haveBilled = parseNum(val)
		case "Init Duration":
			inv.InitMS, _ = parseNum(val)
		case "Memory Size":
			f, _ := parseNum(val)
			inv.MemorySizeMB = int(f)
		case "Max Memory Used":
			f, _ := parseNum(val)
			inv.MaxMemoryUsedMB = int(f)
		case "Status":
			inv.Status = val
		}
	}
	if inv.RequestID == "" || !haveDuration || !haveBilled {
		return Invocation{}, false
	}
	return inv, true
}

func parseNum(s string) (float64, bool) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// parseJSONReport reads the platform.report record of the JSON log format.
func parseJSONReport(s string) (Invocation, bool) {
	var ev struct {
		Type   string `json:"type"`
		Record struct {
			RequestID string `json:"requestId"`
			Status    string `json:"status"`
			Metrics   struct {
				DurationMs       *float64 `json:"durationMs"`
				BilledDurationMs *float64 `json:"billedDurationMs"`
				MemorySizeMB     float64  `json:"memorySizeMB"`
				MaxMemoryUsedMB  float64  `json:"maxMemoryUsedMB"`
				InitDurationMs   float64  `json:"initDurationMs"`
			} `json:"metrics"`
		} `json:"record"`
	}
	if err := json.Unmarshal([]byte(s), &ev); err != nil || ev.Type != "platform.report" {
		return Invocation{}, false
	}
	r := ev.Record
	if r.RequestID == "" || r.Metrics.DurationMs == nil || r.Metrics.BilledDurationMs == nil ||
		*r.Metrics.DurationMs < 0 || *r.Metrics.BilledDurationMs < 0 {
		return Invocation{}, false
	}
	inv := Invocation{
		RequestID:       r.RequestID,
		DurationMS:      *r.Metrics.DurationMs,
		BilledMS:        *r.Metrics.BilledDurationMs,
		MemorySizeMB:    int(r.Metrics.MemorySizeMB),
		MaxMemoryUsedMB: int(r.Metrics.MaxMemoryUsedMB),
		InitMS:          r.Metrics.InitDurationMs,
	}
	if r.Status != "" && r.Status != "success" {
		inv.Status = r.Status
	}
	return inv, true
}
