package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ddbops/ddbops/internal/wire"
)

func TestWorkloadBodies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		op     string
		keys   int
		bodies int
		check  func(t *testing.T, i int, req map[string]any)
		seed   bool
	}{
		{op: wire.OpRead, keys: 3, bodies: 3, seed: true, check: func(t *testing.T, i int, req map[string]any) {
			key := req["payload"].(map[string]any)["Key"].(map[string]any)
			if key["id"] != KeyID(i+1) {
				t.Errorf("read %d: Key = %v", i, key)
			}
		}},
		{op: wire.OpCreate, keys: 2, bodies: 2, check: func(t *testing.T, i int, req map[string]any) {
			p := req["payload"].(map[string]any)
			if p["Item"].(map[string]any)["id"] != KeyID(i+1) {
				t.Errorf("create %d: Item = %v", i, p["Item"])
			}
			if _, ok := p["ConditionExpression"]; ok {
				t.Errorf("create must overwrite (no condition), got %v", p)
			}
		}},
		{op: wire.OpUpdate, keys: 2, bodies: 2, seed: true, check: func(t *testing.T, i int, req map[string]any) {
			p := req["payload"].(map[string]any)
			if p["Key"].(map[string]any)["id"] != KeyID(i+1) || p["UpdateExpression"] == nil {
				t.Errorf("update %d: %v", i, p)
			}
		}},
		{op: wire.OpList, keys: 5, bodies: 1, seed: true, check: func(t *testing.T, i int, req map[string]any) {
			if req["payload"].(map[string]any)["Limit"] != float64(10) {
				t.Errorf("list: %v", req)
			}
		}},
		{op: wire.OpEcho, keys: 2, bodies: 2},
		{op: wire.OpPing, keys: 9, bodies: 1, check: func(t *testing.T, i int, req map[string]any) {
			if _, ok := req["payload"]; ok {
				t.Errorf("ping takes no payload: %v", req)
			}
		}},
	} {
		w := Workload{Op: tc.op, Keys: tc.keys, Table: "lambda-apigateway"}
		bodies, err := w.Bodies()
		if err != nil {
			t.Fatalf("%s: %v", tc.op, err)
		}
		if len(bodies) != tc.bodies {
			t.Errorf("%s: %d bodies, want %d", tc.op, len(bodies), tc.bodies)
		}
		for i, b := range bodies {
			var req map[string]any
			if err := json.Unmarshal(b, &req); err != nil {
				t.Fatalf("%s body %d: %v", tc.op, i, err)
			}
			if req["operation"] != tc.op {
				t.Errorf("%s body %d: operation %v", tc.op, i, req["operation"])
			}
			wantTable := tc.op != wire.OpEcho && tc.op != wire.OpPing
			if _, ok := req["tableName"]; ok != wantTable {
				t.Errorf("%s body %d: tableName present = %v, want %v", tc.op, i, ok, wantTable)
			}
			if tc.check != nil {
				tc.check(t, i, req)
			}
		}
		if w.NeedsSeed() != tc.seed {
			t.Errorf("%s: NeedsSeed() = %v", tc.op, w.NeedsSeed())
		}
	}
	for _, w := range []Workload{{Op: "delete", Keys: 1}, {Op: "", Keys: 1}, {Op: wire.OpRead, Keys: 0}} {
		if _, err := w.Bodies(); err == nil {
			t.Errorf("%+v: no error", w)
		}
	}
}

func TestSeed(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	seen := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Operation string `json:"operation"`
			Payload   struct {
				Item map[string]any `json:"Item"`
			} `json:"payload"`
		}
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &req); err != nil || req.Operation != wire.OpCreate {
			w.WriteHeader(400)
			return
		}
		id, _ := req.Payload.Item["id"].(string)
		if id == KeyID(7) && r.Header.Get("X-Fail") != "" {
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"message":"Forbidden"}`))
			return
		}
		mu.Lock()
		seen[id] = true
		mu.Unlock()
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	doer := NewHTTPClient(nil, 4, 5*time.Second)
	w := Workload{Op: wire.OpRead, Keys: 25}
	if err := Seed(context.Background(), plainRequester{url: srv.URL}, doer, w.SeedBodies(), 4); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 25 || !seen[KeyID(1)] || !seen[KeyID(25)] {
		t.Errorf("seeded %d ids", len(seen))
	}

	err := Seed(context.Background(), failingRequester{plainRequester{url: srv.URL}}, doer, w.SeedBodies(), 4)
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 403 || !strings.Contains(err.Error(), "seed bench-7: HTTP 403 Forbidden: Forbidden") {
		t.Errorf("err = %v, want the 403 of bench-7", err)
	}
}

// failingRequester marks requests so the test server rejects bench-7.
type failingRequester struct{ plainRequester }

func (f failingRequester) NewRequest(ctx context.Context, body []byte) (*http.Request, error) {
	req, err := f.plainRequester.NewRequest(ctx, body)
	if err == nil {
		req.Header.Set("X-Fail", "1")
	}
	return req, err
}

func TestWarmup(t *testing.T) {
	t.Parallel()
	srv := okServer(t)
	probes := Warmup(context.Background(), plainRequester{url: srv.URL}, NewHTTPClient(nil, 1, time.Second), [][]byte{[]byte(`{}`)}, 3)
	if len(probes) != 3 {
		t.Fatalf("probes = %d", len(probes))
	}
	for _, p := range probes {
		if p.Code != 200 || p.Error != "" || p.LatencyMS <= 0 {
			t.Errorf("probe %+v", p)
		}
	}
}
