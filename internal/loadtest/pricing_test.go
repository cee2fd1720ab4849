package loadtest

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ddbops/ddbops/internal/wire"
)

func TestEmbeddedPrices(t *testing.T) {
	t.Parallel()
	p, err := LoadPrices("")
	if err != nil {
		t.Fatal(err)
	}
	if p.AsOf == "" || p.Region == "" || len(p.Sources) == 0 {
		t.Errorf("price table is not dated or sourced: %+v", p)
	}
	for _, arch := range []string{"arm64", "x86_64"} {
		if p.Lambda.GBSecond[arch] <= 0 {
			t.Errorf("no GB-s price for %s", arch)
		}
	}
	if p.Lambda.GBSecond["arm64"] >= p.Lambda.GBSecond["x86_64"] {
		t.Errorf("arm64 GB-s (%v) should be cheaper than x86_64 (%v)", p.Lambda.GBSecond["arm64"], p.Lambda.GBSecond["x86_64"])
	}
}

func TestPerMillion(t *testing.T) {
	t.Parallel()
	p := &Prices{Source: "test"}
	p.Lambda.GBSecond = map[string]float64{"arm64": 0.0000133334, "x86_64": 0.0000166667}
	p.Lambda.RequestsPerMillion = 0.20
	p.APIGateway.RESTRequestsPerMillion = 3.50
	p.DynamoDB.WriteRequestUnitsPerMillion = 0.625
	p.DynamoDB.ReadRequestUnitsPerMillion = 0.125
	for _, tc := range []struct {
		arch     string
		memory   int
		billedMS float64
		op       string
		want     Cost
	}{
		{
			// 128 MB × 3 ms = 0.000375 GB-s a request, 375 GB-s a million.
			arch: "arm64", memory: 128, billedMS: 3, op: wire.OpRead,
			want: Cost{LambdaCompute: 375 * 0.0000133334, LambdaRequests: 0.20, APIGateway: 3.50, DynamoDB: 0.0625},
		},
		{
			// 1 GB × 10 ms = 0.01 GB-s a request, 10 000 GB-s a million.
			arch: "x86_64", memory: 1024, billedMS: 10, op: wire.OpCreate,
			want: Cost{LambdaCompute: 10000 * 0.0000166667, LambdaRequests: 0.20, APIGateway: 3.50, DynamoDB: 0.625},
		},
		{
			arch: "arm64", memory: 512, billedMS: 1, op: wire.OpPing,
			want: Cost{LambdaCompute: 500 * 0.0000133334, LambdaRequests: 0.20, APIGateway: 3.50},
		},
		{
			arch: "arm64", memory: 256, billedMS: 2, op: wire.OpUpdate,
			want: Cost{LambdaCompute: 500 * 0.0000133334, LambdaRequests: 0.20, APIGateway: 3.50, DynamoDB: 0.625},
		},
	} {
		got, err := p.PerMillion(tc.arch, tc.memory, tc.billedMS, tc.op)
		if err != nil {
			t.Fatal(err)
		}
		tc.want.Total = tc.want.LambdaCompute + tc.want.LambdaRequests + tc.want.APIGateway + tc.want.DynamoDB
		for name, pair := range map[string][2]float64{
			"compute":  {got.LambdaCompute, tc.want.LambdaCompute},
			"requests": {got.LambdaRequests, tc.want.LambdaRequests},
			"apigw":    {got.APIGateway, tc.want.APIGateway},
			"dynamodb": {got.DynamoDB, tc.want.DynamoDB},
			"total":    {got.Total, tc.want.Total},
		} {
			if math.Abs(pair[0]-pair[1]) > 1e-12 {
				t.Errorf("%s %d MB %v ms %s: %s = %.12f, want %.12f", tc.arch, tc.memory, tc.billedMS, tc.op, name, pair[0], pair[1])
			}
		}
	}
	if _, err := p.PerMillion("riscv", 128, 1, wire.OpRead); err == nil || !strings.Contains(err.Error(), "riscv") {
		t.Errorf("unknown architecture: err = %v", err)
	}
}

func TestLoadPricesOverride(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	embedded, err := LoadPrices("")
	if err != nil {
		t.Fatal(err)
	}

	p, err := LoadPrices(write("eu.yaml", "as_of: 2026-11-01\nregion: eu-west-1\nsources: [https://example.com/prices]\napi_gateway:\n  rest_requests_per_million: 3.70\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Region != "eu-west-1" || p.AsOf != "2026-11-01" || p.APIGateway.RESTRequestsPerMillion != 3.70 {
		t.Errorf("override not applied: %+v", p)
	}
	if p.Lambda.GBSecond["arm64"] != embedded.Lambda.GBSecond["arm64"] || p.DynamoDB != embedded.DynamoDB {
		t.Errorf("keys the override leaves out should keep embedded values: %+v", p)
	}
	if len(p.Sources) != 1 || !strings.HasSuffix(p.Source, "eu.yaml") {
		t.Errorf("sources %v source %q", p.Sources, p.Source)
	}

	for name, body := range map[string]string{
		"unknown key":    "lambda:\n  gb_secs: {arm64: 1}\n",
		"bad date":       "as_of: last tuesday\n",
		"negative price": "dynamodb:\n  write_request_units_per_million: -1\n",
		"not YAML":       "as_of: [\n",
	} {
		if _, err := LoadPrices(write(strings.ReplaceAll(name, " ", "-")+".yaml", body)); err == nil {
			t.Errorf("%s: LoadPrices accepted it", name)
		}
	}
	if _, err := LoadPrices(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("missing file: no error")
	}
}
