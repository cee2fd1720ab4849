package handler

import (
	"context"
	"encoding/json"
	"maps"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func TestAllowedOrigin(t *testing.T) {
	t.Parallel()
	named := Config{CORSOrigins: []string{"https://app.example.com", "http://localhost:5173"}}
	cases := []struct {
		cfg    Config
		origin string
		allow  string
		ok     bool
	}{
		{named, "https://app.example.com", "https://app.example.com", true},
		{named, "http://localhost:5173", "http://localhost:5173", true},
		{named, "https://evil.example", "", false},
		{named, "https://APP.example.com", "", false}, // browsers send lower case; no folding
		{named, "https://app.example.com/", "", false},
		{named, "http://app.example.com", "", false},
		{named, "", "", false},
		{named, "null", "", false},
		{Config{CORSOrigins: []string{"*"}}, "https://anything.example", "*", true},
		{Config{CORSOrigins: []string{"*"}}, "", "*", true},
		{Config{CORSOrigins: []string{""}}, "", "", false},
		{Config{}, "https://app.example.com", "", false},
	}
	for _, tc := range cases {
		allow, ok := tc.cfg.AllowedOrigin(tc.origin)
		if allow != tc.allow || ok != tc.ok {
			t.Errorf("%q AllowedOrigin(%q) = %q, %v; want %q, %v", tc.cfg.CORSOrigins, tc.origin, allow, ok, tc.allow, tc.ok)
		}
	}
}

func TestHandleProxyCORSHeaders(t *testing.T) {
	t.Parallel()
	read := `{"operation":"read","payload":{"Key":{"id":"1"}}}`
	withHeaders := func(h map[string]string, multi map[string][]string) events.APIGatewayProxyRequest {
		ev := proxyEvent(read, false)
		ev.Headers, ev.MultiValueHeaders = h, multi
		return ev
	}
	named := []string{"https://app.example.com"}
	cases := []struct {
		name    string
		origins []string
		req     events.APIGatewayProxyRequest
		want    map[string]string
	}{
		{"off", nil, withHeaders(map[string]string{"Origin": "https://app.example.com"}, nil),
			map[string]string{"Content-Type": "application/json"}},
		{"allowed", named, withHeaders(map[string]string{"Origin": "https://app.example.com"}, nil),
			map[string]string{"Content-Type": "application/json", "Access-Control-Allow-Origin": "https://app.example.com", "Vary": "Origin"}},
		{"allowed, HTTP/2 header name", named, withHeaders(map[string]string{"origin": "https://app.example.com"}, nil),
			map[string]string{"Content-Type": "application/json", "Access-Control-Allow-Origin": "https://app.example.com", "Vary": "Origin"}},
		{"allowed, multi-value headers only", named, withHeaders(nil, map[string][]string{"Origin": {"https://app.example.com"}}),
			map[string]string{"Content-Type": "application/json", "Access-Control-Allow-Origin": "https://app.example.com", "Vary": "Origin"}},
		{"foreign", named, withHeaders(map[string]string{"Origin": "https://evil.example"}, nil),
			map[string]string{"Content-Type": "application/json", "Vary": "Origin"}},
		{"no origin", named, withHeaders(nil, nil),
			map[string]string{"Content-Type": "application/json", "Vary": "Origin"}},
		{"any", []string{"*"}, withHeaders(map[string]string{"Origin": "https://evil.example"}, nil),
			map[string]string{"Content-Type": "application/json", "Access-Control-Allow-Origin": "*"}},
		{"error answer of an allowed origin", named, func() events.APIGatewayProxyRequest {
			ev := proxyEvent("!!!", true)
			ev.Headers = map[string]string{"Origin": "https://app.example.com"}
			return ev
		}(), map[string]string{"Content-Type": "application/json", "Access-Control-Allow-Origin": "https://app.example.com", "Vary": "Origin"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := New(newFakeDB(item("1", "Bob")), Config{TableName: testTable, CORSOrigins: tc.origins})
			resp := h.HandleProxy(context.Background(), &tc.req)
			if !maps.Equal(resp.Headers, tc.want) {
				t.Errorf("HandleProxy headers = %v, want %v", resp.Headers, tc.want)
			}
			// Invoke (the Lambda path, with its hand-written encoder)
			// answers the same headers.
			ev, err := json.Marshal(tc.req)
			if err != nil {
				t.Fatal(err)
			}
			out, err := h.Invoke(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			var got events.APIGatewayProxyResponse
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("Invoke answer is not a proxy response: %v\n%s", err, out)
			}
			if tc.req.Headers == nil && tc.req.MultiValueHeaders != nil {
				// Invoke reads headers, which API Gateway always fills.
				return
			}
			if !maps.Equal(got.Headers, tc.want) || got.StatusCode != resp.StatusCode || got.Body != resp.Body {
				t.Errorf("Invoke = %s\nwant headers %v, status %d", out, tc.want, resp.StatusCode)
			}
		})
	}
}
