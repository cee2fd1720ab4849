package loadtest

import "testing"

func TestParseReportLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		line string
		want Invocation
		ok   bool
	}{
		{
			name: "warm invocation",
			line: "REPORT RequestId: 3604209a-e9a3-11e6-939a-754dd98c7be3\tDuration: 2.43 ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\tMax Memory Used: 38 MB\t\n",
			want: Invocation{RequestID: "3604209a-e9a3-11e6-939a-754dd98c7be3", DurationMS: 2.43, BilledMS: 3, MemorySizeMB: 128, MaxMemoryUsedMB: 38},
			ok:   true,
		},
		{
			name: "cold start with Init Duration (provided.al2023 bills init)",
			line: "REPORT RequestId: 8b133862-5331-4ded-ac5d-1ad5da5aee81\tDuration: 1.89 ms\tBilled Duration: 91 ms\tMemory Size: 128 MB\tMax Memory Used: 20 MB\tInit Duration: 88.64 ms\t\n",
			want: Invocation{RequestID: "8b133862-5331-4ded-ac5d-1ad5da5aee81", DurationMS: 1.89, BilledMS: 91, MemorySizeMB: 128, MaxMemoryUsedMB: 20, InitMS: 88.64},
			ok:   true,
		},
		{
			name: "cold start with X-Ray trace line",
			line: "REPORT RequestId: 8b133862-5331-4ded-ac5d-1ad5da5aee81\tDuration: 43.72 ms\tBilled Duration: 44 ms\tMemory Size: 1024 MB\tMax Memory Used: 37 MB\tInit Duration: 206.51 ms\t\nXRAY TraceId: 1-5e34a614-10bdd3b8ee4e33bfc1d8fc30\tSegmentId: 6d5d3b4a7a8a9a6c\tSampled: true\t\n",
			want: Invocation{RequestID: "8b133862-5331-4ded-ac5d-1ad5da5aee81", DurationMS: 43.72, BilledMS: 44, MemorySizeMB: 1024, MaxMemoryUsedMB: 37, InitMS: 206.51},
			ok:   true,
		},
		{
			name: "warm with X-Ray trace line",
			line: "REPORT RequestId: c7a1e3e0-4f7b-4f5e-9d8e-0c1b2a3d4e5f\tDuration: 5.01 ms\tBilled Duration: 6 ms\tMemory Size: 512 MB\tMax Memory Used: 41 MB\t\nXRAY TraceId: 1-6561e2a4-3a0c2b1d4e5f60718293a4b5\tSegmentId: 1a2b3c4d5e6f7081\tSampled: false\t\n",
			want: Invocation{RequestID: "c7a1e3e0-4f7b-4f5e-9d8e-0c1b2a3d4e5f", DurationMS: 5.01, BilledMS: 6, MemorySizeMB: 512, MaxMemoryUsedMB: 41},
			ok:   true,
		},
		{
			name: "timeout",
			line: "REPORT RequestId: 7e2b1c6a-0d8f-4c55-8a7e-1f2e3d4c5b6a\tDuration: 10000.00 ms\tBilled Duration: 10000 ms\tMemory Size: 128 MB\tMax Memory Used: 45 MB\tStatus: timeout\n",
			want: Invocation{RequestID: "7e2b1c6a-0d8f-4c55-8a7e-1f2e3d4c5b6a", DurationMS: 10000, BilledMS: 10000, MemorySizeMB: 128, MaxMemoryUsedMB: 45, Status: "timeout"},
			ok:   true,
		},
		{
			name: "SnapStart restore is not an init",
			line: "REPORT RequestId: 1f2e3d4c-5b6a-4789-8a7b-6c5d4e3f2a1b\tDuration: 2.50 ms\tBilled Duration: 3 ms\tMemory Size: 512 MB\tMax Memory Used: 90 MB\tRestore Duration: 370.21 ms\tBilled Restore Duration: 153 ms\t\n",
			want: Invocation{RequestID: "1f2e3d4c-5b6a-4789-8a7b-6c5d4e3f2a1b", DurationMS: 2.5, BilledMS: 3, MemorySizeMB: 512, MaxMemoryUsedMB: 90},
			ok:   true,
		},
		{
			name: "spaces instead of tabs (Runtime Interface Emulator)",
			line: "REPORT RequestId: 0c4b2a7e-9a1f-4f3b-8d2c-5e6f7a8b9c0d  Duration: 1.23 ms  Billed Duration: 2 ms  Memory Size: 3008 MB  Max Memory Used: 3008 MB",
			want: Invocation{RequestID: "0c4b2a7e-9a1f-4f3b-8d2c-5e6f7a8b9c0d", DurationMS: 1.23, BilledMS: 2, MemorySizeMB: 3008, MaxMemoryUsedMB: 3008},
			ok:   true,
		},
		{
			name: "JSON log format",
			line: `{"time":"2024-11-15T12:00:00.000Z","type":"platform.report","record":{"requestId":"6d68ca91-49c9-448d-89b8-7ca3e6dc66aa","metrics":{"durationMs":2.98,"billedDurationMs":3,"memorySizeMB":128,"maxMemoryUsedMB":67,"initDurationMs":120.72},"status":"success"}}`,
			want: Invocation{RequestID: "6d68ca91-49c9-448d-89b8-7ca3e6dc66aa", DurationMS: 2.98, BilledMS: 3, MemorySizeMB: 128, MaxMemoryUsedMB: 67, InitMS: 120.72},
			ok:   true,
		},
		{
			name: "JSON log format, timeout",
			line: `{"time":"2024-11-15T12:00:00.000Z","type":"platform.report","record":{"requestId":"r1","metrics":{"durationMs":3000,"billedDurationMs":3000,"memorySizeMB":128,"maxMemoryUsedMB":60},"status":"timeout"}}`,
			want: Invocation{RequestID: "r1", DurationMS: 3000, BilledMS: 3000, MemorySizeMB: 128, MaxMemoryUsedMB: 60, Status: "timeout"},
			ok:   true,
		},
		{name: "START line", line: "START RequestId: 3604209a-e9a3-11e6-939a-754dd98c7be3 Version: $LATEST\n"},
		{name: "END line", line: "END RequestId: 3604209a-e9a3-11e6-939a-754dd98c7be3\n"},
		{name: "INIT_START line", line: "INIT_START Runtime Version: provided:al2023.v75\tRuntime Version ARN: arn:aws:lambda:us-east-1::runtime:abc\n"},
		{name: "application line mentioning REPORT", line: "2024/11/15 12:00:00 building REPORT for user Duration: 5 ms Billed Duration: 6 ms"},
		{name: "REPORT without durations", line: "REPORT RequestId: abc\tMemory Size: 128 MB\n"},
		{name: "other JSON platform record", line: `{"time":"2024-11-15T12:00:00.000Z","type":"platform.start","record":{"requestId":"r1","version":"$LATEST"}}`},
		{name: "empty", line: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := ParseReportLine(tc.line)
			if ok != tc.ok || got != tc.want {
				t.Errorf("ParseReportLine() = %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
			if ok && got.Cold() != (tc.want.InitMS > 0) {
				t.Errorf("Cold() = %v", got.Cold())
			}
		})
	}
}

func FuzzParseReportLine(f *testing.F) {
	f.Add("REPORT RequestId: a\tDuration: 2.43 ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\tMax Memory Used: 38 MB\tInit Duration: 87.12 ms")
	f.Add(`{"type":"platform.report","record":{"requestId":"r","metrics":{"durationMs":1,"billedDurationMs":1}}}`)
	f.Fuzz(func(t *testing.T, line string) {
		inv, ok := ParseReportLine(line)
		if ok && (inv.RequestID == "" || inv.DurationMS < 0 || inv.BilledMS < 0) {
			t.Errorf("accepted an invalid line: %+v", inv)
		}
	})
}
