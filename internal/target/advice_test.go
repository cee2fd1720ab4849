package target

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ddbops/ddbops/internal/client"
	"github.com/ddbops/ddbops/internal/cmdutil"
)

// TestFunctionErrorOnAnEmulatorStack: a 5xx from a stack set up on an
// emulator (moto answers 500 when it cannot run the function) points at
// the emulator and ddbops local; the same answer from AWS gets no such
// hint, and a 4xx on the emulator keeps its own.
func TestFunctionErrorOnAnEmulatorStack(t *testing.T) {
	t.Parallel()
	fail := func(status int) error {
		return fmt.Errorf("ping: %w", &client.APIError{StatusCode: status, Attempts: 4})
	}
	onMoto := &Resolved{Kind: KindState, Emulator: "http://127.0.0.1:5000", Target: client.Target{URL: "http://127.0.0.1:5000/restapis/x/prod/_user_request_/DynamoDBManager"}}
	for _, status := range []int{500, 502} {
		if h := cmdutil.HintOf(onMoto.Explain(fail(status), "ping")); !strings.Contains(h, "emulator at http://127.0.0.1:5000") || !strings.Contains(h, "ddbops local") {
			t.Errorf("HTTP %d on moto: hint %q", status, h)
		}
	}
	onAWS := &Resolved{Kind: KindState, Target: client.Target{URL: "https://x.execute-api.us-east-1.amazonaws.com/prod/DynamoDBManager"}}
	if h := cmdutil.HintOf(onAWS.Explain(fail(500), "ping")); h != "" {
		t.Errorf("HTTP 500 on AWS: hint %q", h)
	}
	if h := cmdutil.HintOf(onMoto.Explain(fail(429), "ping")); !strings.Contains(h, "throttling") {
		t.Errorf("HTTP 429 on moto: hint %q", h)
	}
}
