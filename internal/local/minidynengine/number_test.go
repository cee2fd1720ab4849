package minidynengine

import (
	"strings"
	"testing"
)

func TestCanonicalNumber(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		// DynamoDB's normalization rules, as scylladb's
		// test/alternator/test_number.py (_NORMALIZATION_CASES) checks
		// them against DynamoDB.
		{"1", "1"}, {"123", "123"}, {"-5", "-5"}, {"0", "0"}, {"10", "10"}, {"100", "100"}, {"1000", "1000"},
		{"007", "7"}, {"001.23", "1.23"}, {"00", "0"},
		{"+3", "3"}, {"+0", "0"}, {"+1.5", "1.5"},
		{"1.0", "1"}, {"1.00", "1"}, {"1.10", "1.1"}, {"100.000", "100"}, {"0.0", "0"}, {"0.10", "0.1"},
		{"1e3", "1000"}, {"1E3", "1000"}, {"1e+3", "1000"}, {"1E+3", "1000"}, {"5e1", "50"}, {"-3e2", "-300"},
		{"1.5e2", "150"}, {"1.23e4", "12300"},
		{"1e-3", "0.001"}, {"5e-1", "0.5"}, {"123e-2", "1.23"}, {"1.23e-1", "0.123"},
		{"1.0e3", "1000"}, {"1.00e2", "100"}, {"1.0e-1", "0.1"},
		{"-0", "0"}, {"-0.0", "0"},
		{"0e5", "0"}, {"0.0e3", "0"}, {"0e-5", "0"},
		{".5", "0.5"}, {".123", "0.123"}, {"-.5", "-0.5"},
		{"1e20", "100000000000000000000"}, {"9.9e10", "99000000000"}, {"1e125", "1" + strings.Repeat("0", 125)},
		{"1e-20", "0.00000000000000000001"},
		{"3.14159", "3.14159"}, {"-273.15", "-273.15"}, {"0.001", "0.001"},
		// The parity suite's spellings and more edges.
		{"2.5E-3", "0.0025"}, {"1E+2", "100"}, {"1.50", "1.5"}, {"12345678901234567890", "12345678901234567890"},
		{"1.", "1"}, {"-1.", "-1"}, {"0e1000", "0"}, {"-0e-99999999999999999999", "0"}, {"0.000", "0"},
		{"1e-130", "0." + strings.Repeat("0", 129) + "1"}, {"-1e-130", "-0." + strings.Repeat("0", 129) + "1"},
		{"9.9999999999999999999999999999999999999e125", "99999999999999999999999999999999999999" + strings.Repeat("0", 88)},
		{"31415926535897932384626433832795028841e30", "31415926535897932384626433832795028841" + strings.Repeat("0", 30)},
		{"3.1415926535897932384626433832795028841", "3.1415926535897932384626433832795028841"},
		{"12345678901234567890123456789012345678000", "12345678901234567890123456789012345678000"},
		{"000.000120", "0.00012"}, {"-10.010", "-10.01"}, {"1000000e-6", "1"},
	}
	for _, tt := range tests {
		got, err := canonicalNumber(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("canonicalNumber(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
		// The canonical spelling is a fixed point, kept without allocating.
		again, err := canonicalNumber(got)
		if err != nil || again != got {
			t.Errorf("canonicalNumber(%q) = %q, %v; not a fixed point", got, again, err)
		}
	}
}

// TestCanonicalNumberNoAllocation: numbers already in canonical spelling
// (what the handler sends for ordinary JSON numbers) cost no allocation.
// Not parallel: AllocsPerRun.
func TestCanonicalNumberNoAllocation(t *testing.T) {
	for _, n := range []string{"0", "7", "-42", "3.14159", "-0.5", "12345678901234567890", "0.00012"} {
		if allocs := testing.AllocsPerRun(10, func() { _, _ = canonicalNumber(n) }); allocs != 0 {
			t.Errorf("canonicalNumber(%q) allocates %v times", n, allocs)
		}
	}
}

func TestCanonicalNumberRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", msgNumberSyntax}, {"NaN", msgNumberSyntax}, {"Infinity", msgNumberSyntax}, {"-Infinity", msgNumberSyntax},
		{"dog", msgNumberSyntax}, {" 1", msgNumberSyntax}, {"1 ", msgNumberSyntax}, {"1e", msgNumberSyntax},
		{"1e+", msgNumberSyntax}, {".", msgNumberSyntax}, {"-", msgNumberSyntax}, {"--1", msgNumberSyntax},
		{"1.2.3", msgNumberSyntax}, {"e5", msgNumberSyntax}, {"0x10", msgNumberSyntax}, {"1_000", msgNumberSyntax},
		{"1e126", msgNumberOverflow}, {"-1e126", msgNumberOverflow}, {"11e125", msgNumberOverflow},
		{"1e99999999999999999999", msgNumberOverflow},
		{"1e-131", msgNumberUnderflow}, {"0.9e-130", msgNumberUnderflow}, {"-1e-131", msgNumberUnderflow},
		{"1e-99999999999999999999", msgNumberUnderflow},
		{"3.14159265358979323846264338327950288419", msgNumberPrecision},
		{"314159265358979323846.264338327950288419", msgNumberPrecision},
		{"314159265358979323846264338327950288419e30", msgNumberPrecision},
		{"123456789012345678901234567890123456789", msgNumberPrecision},
	}
	for _, tt := range tests {
		got, err := canonicalNumber(tt.in)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("canonicalNumber(%q) = %q, %v; want error %q", tt.in, got, err, tt.want)
		}
	}
}

func TestAddNumbers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b    string
		negate  bool
		want    string
		wantErr string
	}{
		{a: "12345678901234567890", b: "1", want: "12345678901234567891"},
		{a: "0.1", b: "0.2", want: "0.3"},
		{a: "1", b: "10000000000000000000000", want: "10000000000000000000001"},
		{a: "10000000000000000000000", b: "1", negate: true, want: "9999999999999999999999"},
		{a: "-0.5", b: "0.5", want: "0"},
		{a: "0.5", b: "0.5", negate: true, want: "0"},
		{a: "1.5", b: "2.25", negate: true, want: "-0.75"},
		{a: "0", b: "-7", want: "-7"},
		{a: "1e3", b: "0", want: "1000"},
		{a: "99999999999999999999999999999999999999", b: "1", want: "1" + strings.Repeat("0", 38)},
		{a: "1e-130", b: "1e-130", want: "0." + strings.Repeat("0", 129) + "2"},
		{a: "1e-130", b: "1e-130", negate: true, want: "0"},
		{a: "12345678901234567890", b: "0.000001", want: "12345678901234567890.000001"},
		{a: "1e125", b: "-1e125", want: "0"},
		{a: "1e-5", b: "1.50", negate: true, want: "-1.49999"},
		// DynamoDB refuses what it cannot store, with an overflow message
		// also for more than 38 digits (scylladb's
		// test_update_expression_plus_imprecise).
		{a: "1e50", b: "1", wantErr: msgNumberOverflow},
		{a: "1e50", b: "1", negate: true, wantErr: msgNumberOverflow},
		{a: "9e125", b: "9e125", wantErr: msgNumberOverflow},
		{a: "9e125", b: "-9e125", negate: true, wantErr: msgNumberOverflow},
		{a: "1e125", b: "1", wantErr: msgNumberOverflow},
		{a: "2e-130", b: "1.5e-130", negate: true, wantErr: msgNumberUnderflow},
		{a: "x", b: "1", wantErr: msgNumberSyntax},
	}
	for _, tt := range tests {
		got, err := addNumbers(tt.a, tt.b, tt.negate)
		op := "+"
		if tt.negate {
			op = "-"
		}
		switch {
		case tt.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.wantErr)):
			t.Errorf("%s %s %s = %q, %v; want error %q", tt.a, op, tt.b, got, err, tt.wantErr)
		case tt.wantErr == "" && (err != nil || got != tt.want):
			t.Errorf("%s %s %s = %q, %v; want %q", tt.a, op, tt.b, got, err, tt.want)
		}
	}
}
