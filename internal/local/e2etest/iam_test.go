package e2etest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	iamAKID   = "AKIDE2ETEST000000001"
	iamSecret = "e2e-test-secret-key-not-real-000000000000"
	iamRegion = "eu-west-3"
)

// iamEnv gives the server long-term credentials to verify with.
var iamEnv = []string{"AWS_ACCESS_KEY_ID=" + iamAKID, "AWS_SECRET_ACCESS_KEY=" + iamSecret, "AWS_REGION=" + iamRegion}

// signed returns a raw request to target with body, signed with SigV4 as
// the SDK signs; mutate changes the request before signing.
func (s *server) signed(t *testing.T, target, body string, creds aws.Credentials, region, service string, at time.Time, mutate func(*http.Request)) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+s.addr+target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if mutate != nil {
		mutate(req)
	}
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), service, region, at); err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Connection", "close")
	var b bytes.Buffer
	if err := req.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// headOnly cuts raw after its header block and announces a 1 MiB body
// instead, which never comes.
func headOnly(raw string) string {
	head, _, _ := strings.Cut(raw, "\r\n\r\n")
	var lines []string
	for _, l := range strings.Split(head, "\r\n") {
		if !strings.HasPrefix(strings.ToLower(l), "content-length:") {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\r\n") + "\r\nContent-Length: 1048576\r\n\r\n"
}

// TestIAMHeadChecksBeforeBody: under iam everything a signature needs but
// the body hash is checked on the headers alone: each bad head is
// answered while its announced 1 MiB body has not started. A session
// token sent to a server on long-term credentials is refused, as AWS does.
func TestIAMHeadChecksBeforeBody(t *testing.T) {
	t.Parallel()
	s := start(t, spec{args: []string{"--auth", "iam"}, env: iamEnv})
	creds := aws.Credentials{AccessKeyID: iamAKID, SecretAccessKey: iamSecret}
	now := time.Now()
	body := createBody("iam-head")
	sign := func(c aws.Credentials, region, service string, at time.Time, mutate func(*http.Request)) string {
		return s.signed(t, route, body, c, region, service, at, mutate)
	}
	withToken := creds
	withToken.SessionToken = "some-session-token"
	tests := []struct {
		name, raw, message string
	}{
		{"no Authorization", s.request(route, body), "Missing Authentication Token"},
		{"garbage Authorization", s.request(route, body, "Authorization: garbage"), "Authorization header requires 'Credential' parameter."},
		{"incomplete Authorization", s.request(route, body, "Authorization: AWS4-HMAC-SHA256 Credential=x"), "Authorization header requires 'Signature' parameter."},
		{"no date", sign(creds, iamRegion, "execute-api", now, nil) + "", ""},
		{"expired", sign(creds, iamRegion, "execute-api", now.Add(-6*time.Minute), nil), "Signature expired: "},
		{"from the future", sign(creds, iamRegion, "execute-api", now.Add(6*time.Minute), nil), "Signature not yet current: "},
		{"other region", sign(creds, "us-east-1", "execute-api", now, nil), "Credential should be scoped to a valid region"},
		{"other service", sign(creds, iamRegion, "dynamodb", now, nil), "Credential should be scoped to correct service: 'execute-api'."},
		{"unknown access key", sign(aws.Credentials{AccessKeyID: "AKIDSOMEONEELSE00000", SecretAccessKey: iamSecret}, iamRegion, "execute-api", now, nil), "The security token included in the request is invalid."},
		{"session token to long-term credentials", sign(withToken, iamRegion, "execute-api", now, nil), "The security token included in the request is invalid."},
	}
	// No date: the same signed head without X-Amz-Date.
	tests[3].raw = dropHeader(tests[3].raw, "X-Amz-Date")
	tests[3].message = "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
	for _, tt := range tests {
		a, err := s.tryRoundTrip(headOnly(tt.raw), 10*time.Second)
		if err != nil {
			t.Errorf("%s: no answer while the body is pending: %v", tt.name, err)
			continue
		}
		if a.status != 403 || !strings.HasPrefix(a.body, `{"message":"`+tt.message) {
			t.Errorf("%s: %s, want 403 %q", tt.name, a, tt.message)
		}
	}
	// Host must be signed: a signature over other headers only.
	noHost := sign(creds, iamRegion, "execute-api", now, nil)
	noHost = strings.Replace(noHost, "SignedHeaders=content-length;content-type;host;x-amz-date", "SignedHeaders=content-length;content-type;x-amz-date", 1)
	if a, err := s.tryRoundTrip(headOnly(noHost), 10*time.Second); err != nil || a.status != 403 || !strings.Contains(a.body, "'Host' or ':authority' must be a 'SignedHeader'") {
		t.Errorf("host not signed: %v %s", err, a)
	}
	// A right head is only refused once the body is there: a wrong
	// secret is found by the body-hash check.
	wrong := sign(aws.Credentials{AccessKeyID: iamAKID, SecretAccessKey: "wrong"}, iamRegion, "execute-api", now, nil)
	if _, err := s.tryRoundTrip(headOnly(wrong), 500*time.Millisecond); err == nil {
		t.Error("a head with the right key, date and scope was answered before its body came")
	}
	if a := s.roundTrip(t, wrong); a.status != 403 || !strings.Contains(a.body, "The request signature we calculated does not match") {
		t.Errorf("wrong secret: %s", a)
	}
	if a := s.roundTrip(t, sign(creds, iamRegion, "execute-api", now, nil)); a.status != 200 {
		t.Errorf("right signature: %s", a)
	}
	if a := s.roundTrip(t, s.signed(t, route, readBody("iam-head"), creds, iamRegion, "execute-api", time.Now(), nil)); a.status != 200 {
		t.Errorf("the signed create was not stored: %s", a)
	}
}

// TestIAMSignatureBindsTheExactPath: a request signed for the route and
// sent under another spelling of it is an undefined route (403 Missing
// Authentication Token), never a verified signature.
func TestIAMSignatureBindsTheExactPath(t *testing.T) {
	t.Parallel()
	s := start(t, spec{args: []string{"--auth", "iam"}, env: iamEnv})
	creds := aws.Credentials{AccessKeyID: iamAKID, SecretAccessKey: iamSecret}
	for i, target := range []string{"//prod/DynamoDBManager", "/prod/x/../DynamoDBManager", "/prod%2FDynamoDBManager"} {
		id := "iam-path-" + strconv.Itoa(i)
		raw := s.signed(t, route, createBody(id), creds, iamRegion, "execute-api", time.Now(), nil)
		raw = strings.Replace(raw, "POST "+route+" ", "POST "+target+" ", 1)
		if a := s.roundTrip(t, raw); a.status != 403 || !strings.Contains(a.body, "Missing Authentication Token") {
			t.Errorf("signed for %s, sent to %s: %s", route, target, a)
		}
		signedHere := s.signed(t, route, readBody(id), creds, iamRegion, "execute-api", time.Now(), nil)
		if a := s.roundTrip(t, signedHere); a.status != 404 {
			t.Errorf("read %s: %s, want 404 (never stored)", id, a)
		}
	}
}

func dropHeader(raw, name string) string {
	head, body, _ := strings.Cut(raw, "\r\n\r\n")
	var keep []string
	for _, l := range strings.Split(head, "\r\n") {
		if k, _, ok := strings.Cut(l, ":"); ok && strings.EqualFold(k, name) {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\r\n") + "\r\n\r\n" + body
}
