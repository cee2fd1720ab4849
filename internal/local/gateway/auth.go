package gateway

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// gwError is an answer API Gateway itself gives, before any integration
// runs: a status, the x-amzn-ErrorType header and {"message": "..."}.
type gwError struct {
	status  int
	errType string
	message string
}

// API Gateway's own answers, with its wording (REST API, regional).
var (
	errMissingToken = &gwError{http.StatusForbidden, "MissingAuthenticationTokenException", "Missing Authentication Token"}
	errForbidden    = &gwError{http.StatusForbidden, "ForbiddenException", "Forbidden"}
	errBadToken     = &gwError{http.StatusForbidden, "UnrecognizedClientException", "The security token included in the request is invalid."}
	errBadSignature = &gwError{http.StatusForbidden, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."}
	errInternal     = &gwError{http.StatusInternalServerError, "InternalServerErrorException", "Internal server error"}
	errBadGateway   = &gwError{http.StatusBadGateway, "InternalServerErrorException", "Internal server error"}
)

func incompleteSignature(msg string) *gwError {
	return &gwError{http.StatusForbidden, "IncompleteSignatureException", msg}
}

func invalidSignature(msg string) *gwError {
	return &gwError{http.StatusForbidden, "InvalidSignatureException", msg}
}

// checkAPIKey compares the x-api-key header with key in constant time.
func checkAPIKey(got, key string) *gwError {
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(key)) != 1 {
		return errForbidden
	}
	return nil
}

// maxClockSkew is how far X-Amz-Date may be from the server's clock, as
// AWS enforces it.
const maxClockSkew = 5 * time.Minute

const amzDateFormat = "20060102T150405Z"

// sigV4Verifier checks SigV4 signatures (service execute-api) made with
// the local AWS credentials, by re-signing a copy of the request that
// holds exactly the headers the client signed with the SDK's own signer
// and comparing signatures.
type sigV4Verifier struct {
	creds  aws.CredentialsProvider
	region string
	signer *v4.Signer
	now    func() time.Time
}

func newSigV4Verifier(creds aws.CredentialsProvider, region string) *sigV4Verifier {
	if _, ok := creds.(*aws.CredentialsCache); !ok {
		creds = aws.NewCredentialsCache(creds)
	}
	return &sigV4Verifier{creds: creds, region: region, signer: v4.NewSigner(), now: time.Now}
}

type sigV4Auth struct {
	credential    string
	signedHeaders string
	signature     string
}

func parseAuthorization(h string) (sigV4Auth, *gwError) {
	var a sigV4Auth
	const algo = "AWS4-HMAC-SHA256 "
	if !strings.HasPrefix(h, algo) {
		return a, incompleteSignature("Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. (Hashed with SHA-256 and encoded with Base64) Authorization=" + redact(h))
	}
	for _, part := range strings.Split(h[len(algo):], ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			a.credential = v
		case "SignedHeaders":
			a.signedHeaders = v
		case "Signature":
			a.signature = v
		}
	}
	var missing []string
	if a.credential == "" {
		missing = append(missing, "Authorization header requires 'Credential' parameter.")
	}
	if a.signature == "" {
		missing = append(missing, "Authorization header requires 'Signature' parameter.")
	}
	if a.signedHeaders == "" {
		missing = append(missing, "Authorization header requires 'SignedHeaders' parameter.")
	}
	if len(missing) > 0 {
		return a, incompleteSignature(strings.Join(missing, " "))
	}
	return a, nil
}

// redact keeps the algorithm name of a malformed Authorization header and
// drops the rest: it may be a secret pasted by mistake.
func redact(h string) string {
	if i := strings.IndexByte(h, ' '); i > 0 {
		return h[:i] + " ..."
	}
	return "..."
}

// sigHead is a signed request whose headers passed: what checkBody needs
// once the body is read.
type sigHead struct {
	auth       sigV4Auth
	signed     []string // the signed header names, lower-case
	signsToken bool
	at         time.Time
	creds      aws.Credentials
}

// checkHead checks everything of a signature that needs no body: the
// Authorization header's format, the date and its skew, the credential
// scope, the access key, the signed-header list and the session token. It
// returns the error API Gateway would answer.
func (v *sigV4Verifier) checkHead(ctx context.Context, header func(string) string) (*sigHead, *gwError) {
	a, gerr := parseAuthorization(header("Authorization"))
	if gerr != nil {
		return nil, gerr
	}
	amzDate := header("X-Amz-Date")
	if amzDate == "" {
		return nil, incompleteSignature("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	t, err := time.Parse(amzDateFormat, amzDate)
	if err != nil {
		return nil, incompleteSignature("X-Amz-Date must be in the ISO-8601 basic format yyyyMMdd'T'HHmmss'Z', got '" + amzDate + "'.")
	}
	now := v.now().UTC()
	if t.Before(now.Add(-maxClockSkew)) {
		return nil, invalidSignature(fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - 5 min.)",
			amzDate, now.Add(-maxClockSkew).Format(amzDateFormat), now.Format(amzDateFormat)))
	}
	if t.After(now.Add(maxClockSkew)) {
		return nil, invalidSignature(fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + 5 min.)",
			amzDate, now.Add(maxClockSkew).Format(amzDateFormat), now.Format(amzDateFormat)))
	}

	scope := strings.Split(a.credential, "/")
	if len(scope) != 5 {
		return nil, incompleteSignature("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '" + strings.Join(scope[1:], "/") + "'")
	}
	if scope[4] != "aws4_request" {
		return nil, incompleteSignature("Credential should be scoped with a valid terminator: 'aws4_request', not '" + scope[4] + "'.")
	}
	if scope[1] != amzDate[:8] {
		return nil, invalidSignature(fmt.Sprintf("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.", scope[1], amzDate[:8], amzDate))
	}
	if scope[2] != v.region {
		return nil, invalidSignature("Credential should be scoped to a valid region, not '" + scope[2] + "'. This API is in '" + v.region + "'.")
	}
	if scope[3] != "execute-api" {
		return nil, invalidSignature("Credential should be scoped to correct service: 'execute-api'.")
	}

	creds, err := v.creds.Retrieve(ctx)
	if err != nil {
		return nil, errInternal
	}
	if scope[0] != creds.AccessKeyID {
		return nil, errBadToken
	}
	sh := &sigHead{auth: a, signed: strings.Split(strings.ToLower(a.signedHeaders), ";"), at: t, creds: creds}
	hasHost := false
	for _, h := range sh.signed {
		switch h {
		case "host":
			hasHost = true
		case "x-amz-security-token":
			sh.signsToken = true
		}
	}
	if !hasHost {
		return nil, invalidSignature("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	// With long-term credentials there is no token to send: AWS refuses
	// one, as it refuses a wrong or missing one for temporary credentials.
	if header("X-Amz-Security-Token") != creds.SessionToken {
		return nil, errBadToken
	}
	return sh, nil
}

// checkBody verifies the signature of a request whose head passed
// checkHead, now that its body is read, and returns the caller's access
// key id, or the error API Gateway would answer.
func (v *sigV4Verifier) checkBody(ctx context.Context, sh *sigHead, r *inbound) (string, *gwError) {
	body := r.body
	// Re-sign a copy that holds exactly what the client signed.
	cp := &http.Request{
		Method: r.method,
		URL:    &url.URL{Path: r.path, RawQuery: r.rawQuery},
		Host:   r.host,
		Header: make(http.Header, len(sh.signed)),
	}
	for _, h := range sh.signed {
		switch h {
		case "host":
		case "content-length":
			cp.ContentLength = int64(len(body))
		default:
			if vals := r.header.Values(h); len(vals) > 0 {
				cp.Header[http.CanonicalHeaderKey(h)] = vals
			}
		}
	}
	sum := sha256.Sum256(body)
	err := v.signer.SignHTTP(ctx, sh.creds, cp, hex.EncodeToString(sum[:]), "execute-api", v.region, sh.at,
		func(o *v4.SignerOptions) { o.DisableSessionToken = !sh.signsToken })
	if err != nil {
		return "", errInternal
	}
	want, gerr := parseAuthorization(cp.Header.Get("Authorization"))
	if gerr != nil {
		return "", errInternal
	}
	// Headers the SDK never signs (User-Agent, Expect, ...) cannot be
	// reproduced; the signed-header lists then differ and so does the
	// signature.
	if want.signedHeaders != strings.ToLower(sh.auth.signedHeaders) ||
		!hmac.Equal([]byte(want.signature), []byte(strings.ToLower(sh.auth.signature))) {
		return "", errBadSignature
	}
	return sh.creds.AccessKeyID, nil
}

// apiKeyAlphabet is what API Gateway's generated keys are made of.
const apiKeyAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// GenerateAPIKey returns 40 random alphanumerics (about 238 bits).
func GenerateAPIKey() string {
	const n = 40
	out := make([]byte, 0, n)
	var buf [64]byte
	for len(out) < n {
		rand.Read(buf[:]) // never fails (crypto/rand, Go 1.24+)
		for _, b := range buf {
			// Reject the top of the byte range so every character is
			// equally likely.
			if int(b) < 256-256%len(apiKeyAlphabet) && len(out) < n {
				out = append(out, apiKeyAlphabet[int(b)%len(apiKeyAlphabet)])
			}
		}
	}
	return string(out)
}

// ValidAPIKey checks that k is what a header value can carry: 20 to 128
// visible ASCII characters (API Gateway accepts keys of at least 20
// characters).
func ValidAPIKey(k string) error {
	if len(k) < 20 || len(k) > 128 {
		return fmt.Errorf("must be 20 to 128 characters, got %d", len(k))
	}
	for i := 0; i < len(k); i++ {
		if k[i] <= ' ' || k[i] > '~' {
			return errors.New("must be visible ASCII characters without spaces")
		}
	}
	return nil
}
