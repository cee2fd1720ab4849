package gateway

import (
	"bufio"
	"context"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/ddbops/ddbops/internal/wire"
)

// BenchmarkHeadChecks measures what the hardening adds to a request's
// CPU: the strict framing check, the head and admit (Host, Origin, route,
// API key), which the server runs twice per request (before the body and
// in the handler).
func BenchmarkHeadChecks(b *testing.B) {
	const key = "k0123456789012345678901"
	g := New(Config{Handler: &recorder{}, Stage: "prod", Resource: "DynamoDBManager", Auth: wire.AuthAPIKey, APIKey: key,
		CORS: []string{"http://localhost:5173"}})
	s := g.NewServer(context.Background())
	port := "3000"
	s.port.Store(&port)
	s.loopback.Store(true)
	var rh fasthttp.RequestHeader
	raw := "POST /prod/DynamoDBManager HTTP/1.1\r\nHost: 127.0.0.1:3000\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n" +
		"X-Api-Key: " + key + "\r\nOrigin: http://localhost:5173\r\nContent-Type: application/json\r\nContent-Length: 79\r\n\r\n"
	if err := rh.Read(bufioReader(raw)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		fr, e := checkFraming(rh.Protocol(), rh.RawHeaders())
		if e != nil {
			b.Fatal(e.message)
		}
		h := s.head(&rh, fr)
		if v := g.admit(context.Background(), &h, true); v.err != nil {
			b.Fatal(v.err.message)
		}
	}
}

func bufioReader(s string) *bufio.Reader { return bufio.NewReader(strings.NewReader(s)) }
