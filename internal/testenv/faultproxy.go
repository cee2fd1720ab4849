package testenv

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Fault is what the proxy does to a matching call instead of (or before)
// forwarding it.
type Fault int

// Faults the proxy can inject.
const (
	// Throttle answers 429 with the service's throttling error shape.
	Throttle Fault = iota + 1
	// ServerError answers 500 with the service's internal error shape.
	ServerError
	// Reset closes the connection without an answer (a connection reset
	// as the client sees it). The call is not forwarded.
	Reset
	// ResetAfter forwards the call, then closes the connection without
	// relaying the answer: the side effect happened, the client never
	// learns it.
	ResetAfter
	// Slow forwards the call after Rule.Delay.
	Slow
)

func (f Fault) String() string {
	switch f {
	case Throttle:
		return "429"
	case ServerError:
		return "500"
	case Reset:
		return "reset"
	case ResetAfter:
		return "reset-after-forward"
	case Slow:
		return "slow"
	}
	return fmt.Sprintf("Fault(%d)", int(f))
}

// Rule injects Fault into calls whose operation matches Op (as returned by
// Operation, e.g. "lambda:CreateFunction", "apigateway:CreateDeployment",
// "iam:CreateRole"). Nth is the first matching call to fault (1-based) and
// Times how many consecutive matching calls get the fault (0 = 1).
type Rule struct {
	Op    string
	Nth   int
	Times int
	Fault Fault
	Delay time.Duration
}

// FaultProxy is a reverse proxy in front of an AWS emulator that injects
// faults into chosen calls and records every call's operation.
type FaultProxy struct {
	URL string

	mu       sync.Mutex
	rules    []Rule
	seen     map[string]int
	calls    []string
	injected []string
}

// NewFaultProxy starts a proxy to target on a free loopback port.
func NewFaultProxy(t testing.TB, target string, rules ...Rule) *FaultProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatalf("fault proxy target: %v", err)
	}
	p := &FaultProxy{rules: rules, seen: map[string]int{}}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ErrorLog = nil
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		op := Operation(r, body)
		rule, hit := p.match(op)
		if !hit {
			rp.ServeHTTP(w, r)
			return
		}
		switch rule.Fault {
		case Throttle:
			writeAWSError(w, op, http.StatusTooManyRequests, throttleCode(op), "Rate exceeded (injected)")
		case ServerError:
			writeAWSError(w, op, http.StatusInternalServerError, serverErrorCode(op), "Internal failure (injected)")
		case Reset:
			hijackClose(w)
		case ResetAfter:
			rec := httptest.NewRecorder()
			rp.ServeHTTP(rec, r)
			hijackClose(w)
		case Slow:
			time.Sleep(rule.Delay)
			rp.ServeHTTP(w, r)
		default:
			rp.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// SetRules replaces the rules and resets the per-operation counters.
func (p *FaultProxy) SetRules(rules ...Rule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = rules
	p.seen = map[string]int{}
}

// Calls returns the operation of every call seen, in order.
func (p *FaultProxy) Calls() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.calls...)
}

// Injected returns "op:fault" for every fault injected, in order.
func (p *FaultProxy) Injected() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.injected...)
}

func (p *FaultProxy) match(op string) (Rule, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, op)
	p.seen[op]++
	n := p.seen[op]
	for _, r := range p.rules {
		if r.Op != op {
			continue
		}
		nth := max(r.Nth, 1)
		times := max(r.Times, 1)
		if n >= nth && n < nth+times {
			p.injected = append(p.injected, op+":"+r.Fault.String())
			return r, true
		}
	}
	return Rule{}, false
}

func hijackClose(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "cannot hijack", http.StatusInternalServerError)
		return
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

func throttleCode(op string) string {
	switch service(op) {
	case "apigateway", "lambda":
		return "TooManyRequestsException"
	case "dynamodb":
		return "ThrottlingException"
	}
	return "Throttling"
}

func serverErrorCode(op string) string {
	switch service(op) {
	case "apigateway", "lambda", "logs":
		return "ServiceException"
	case "dynamodb":
		return "InternalServerError"
	}
	return "ServiceFailure"
}

func service(op string) string {
	s, _, _ := strings.Cut(op, ":")
	return s
}

// writeAWSError answers in the error shape of the operation's protocol so
// the SDK decodes the intended error code.
func writeAWSError(w http.ResponseWriter, op string, status int, code, msg string) {
	switch service(op) {
	case "iam", "sts":
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		fmt.Fprintf(w, `<ErrorResponse><Error><Type>Receiver</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>injected</RequestId></ErrorResponse>`, code, msg)
	case "dynamodb", "logs":
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"__type":"%s","message":"%s"}`, code, msg)
	default: // REST-JSON: lambda, apigateway
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-Errortype", code)
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "0")
		}
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"message":"%s"}`, msg)
	}
}

var restOps = []struct {
	service, method string
	re              *regexp.Regexp
	op              string
}{
	// Lambda (REST-JSON).
	{"lambda", "POST", regexp.MustCompile(`^/2015-03-31/functions/?$`), "CreateFunction"},
	{"lambda", "GET", regexp.MustCompile(`^/2015-03-31/functions/[^/]+/?$`), "GetFunction"},
	{"lambda", "DELETE", regexp.MustCompile(`^/2015-03-31/functions/[^/]+/?$`), "DeleteFunction"},
	{"lambda", "GET", regexp.MustCompile(`^/2015-03-31/functions/[^/]+/configuration$`), "GetFunctionConfiguration"},
	{"lambda", "PUT", regexp.MustCompile(`^/2015-03-31/functions/[^/]+/configuration$`), "UpdateFunctionConfiguration"},
	{"lambda", "PUT", regexp.MustCompile(`^/2015-03-31/functions/[^/]+/code$`), "UpdateFunctionCode"},
	{"lambda", "POST", regexp.MustCompile(`^/2015-03-31/functions/[^/]+/policy$`), "AddPermission"},
	{"lambda", "GET", regexp.MustCompile(`^/2015-03-31/functions/[^/]+/policy$`), "GetPolicy"},
	{"lambda", "DELETE", regexp.MustCompile(`^/2015-03-31/functions/[^/]+/policy/[^/]+$`), "RemovePermission"},
	{"lambda", "GET", regexp.MustCompile(`^/2017-03-31/tags/`), "ListTags"},
	{"lambda", "POST", regexp.MustCompile(`^/2017-03-31/tags/`), "TagResource"},
	{"lambda", "DELETE", regexp.MustCompile(`^/2017-03-31/tags/`), "UntagResource"},
	// API Gateway (REST-JSON).
	{"apigateway", "POST", regexp.MustCompile(`^/restapis/?$`), "CreateRestApi"},
	{"apigateway", "GET", regexp.MustCompile(`^/restapis/?$`), "GetRestApis"},
	{"apigateway", "GET", regexp.MustCompile(`^/restapis/[^/]+/?$`), "GetRestApi"},
	{"apigateway", "DELETE", regexp.MustCompile(`^/restapis/[^/]+/?$`), "DeleteRestApi"},
	{"apigateway", "GET", regexp.MustCompile(`^/restapis/[^/]+/resources/?$`), "GetResources"},
	{"apigateway", "POST", regexp.MustCompile(`^/restapis/[^/]+/resources/[^/]+/?$`), "CreateResource"},
	{"apigateway", "PUT", regexp.MustCompile(`^/restapis/[^/]+/resources/[^/]+/methods/[^/]+/integration/?$`), "PutIntegration"},
	{"apigateway", "GET", regexp.MustCompile(`^/restapis/[^/]+/resources/[^/]+/methods/[^/]+/integration/?$`), "GetIntegration"},
	{"apigateway", "PUT", regexp.MustCompile(`^/restapis/[^/]+/resources/[^/]+/methods/[^/]+/?$`), "PutMethod"},
	{"apigateway", "GET", regexp.MustCompile(`^/restapis/[^/]+/resources/[^/]+/methods/[^/]+/?$`), "GetMethod"},
	{"apigateway", "PATCH", regexp.MustCompile(`^/restapis/[^/]+/resources/[^/]+/methods/[^/]+/?$`), "UpdateMethod"},
	{"apigateway", "POST", regexp.MustCompile(`^/restapis/[^/]+/deployments/?$`), "CreateDeployment"},
	{"apigateway", "GET", regexp.MustCompile(`^/restapis/[^/]+/deployments/?$`), "GetDeployments"},
	{"apigateway", "POST", regexp.MustCompile(`^/restapis/[^/]+/stages/?$`), "CreateStage"},
	{"apigateway", "GET", regexp.MustCompile(`^/restapis/[^/]+/stages/?$`), "GetStages"},
	{"apigateway", "GET", regexp.MustCompile(`^/restapis/[^/]+/stages/[^/]+/?$`), "GetStage"},
	{"apigateway", "PATCH", regexp.MustCompile(`^/restapis/[^/]+/stages/[^/]+/?$`), "UpdateStage"},
	{"apigateway", "DELETE", regexp.MustCompile(`^/restapis/[^/]+/stages/[^/]+/?$`), "DeleteStage"},
	{"apigateway", "POST", regexp.MustCompile(`^/apikeys/?$`), "CreateApiKey"},
	{"apigateway", "GET", regexp.MustCompile(`^/apikeys/?$`), "GetApiKeys"},
	{"apigateway", "GET", regexp.MustCompile(`^/apikeys/[^/]+/?$`), "GetApiKey"},
	{"apigateway", "DELETE", regexp.MustCompile(`^/apikeys/[^/]+/?$`), "DeleteApiKey"},
	{"apigateway", "POST", regexp.MustCompile(`^/usageplans/?$`), "CreateUsagePlan"},
	{"apigateway", "GET", regexp.MustCompile(`^/usageplans/?$`), "GetUsagePlans"},
	{"apigateway", "DELETE", regexp.MustCompile(`^/usageplans/[^/]+/?$`), "DeleteUsagePlan"},
	{"apigateway", "PATCH", regexp.MustCompile(`^/usageplans/[^/]+/?$`), "UpdateUsagePlan"},
	{"apigateway", "POST", regexp.MustCompile(`^/usageplans/[^/]+/keys/?$`), "CreateUsagePlanKey"},
	{"apigateway", "GET", regexp.MustCompile(`^/usageplans/[^/]+/keys/?$`), "GetUsagePlanKeys"},
	{"apigateway", "GET", regexp.MustCompile(`^/tags/`), "GetTags"},
	{"apigateway", "PUT", regexp.MustCompile(`^/tags/`), "TagResource"},
}

// Operation names the AWS operation of an SDK request as "service:Op":
// the X-Amz-Target of JSON protocols, the Action of query protocols, or the
// method and path of REST protocols ("lambda:PUT /2015-03-31/..." when
// unknown).
func Operation(r *http.Request, body []byte) string {
	svc := signingService(r)
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		_, op, _ := strings.Cut(t, ".")
		return svc + ":" + op
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		if v, err := url.ParseQuery(string(body)); err == nil && v.Get("Action") != "" {
			return svc + ":" + v.Get("Action")
		}
	}
	path := r.URL.EscapedPath()
	for _, ro := range restOps {
		if ro.service == svc && ro.method == r.Method && ro.re.MatchString(path) {
			return svc + ":" + ro.op
		}
	}
	return svc + ":" + r.Method + " " + path
}

var credScope = regexp.MustCompile(`Credential=[^/]+/[0-9]{8}/[^/]+/([^/]+)/aws4_request`)

// signingService reads the service from the SigV4 credential scope.
func signingService(r *http.Request) string {
	if m := credScope.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		if m[1] == "execute-api" {
			return "apigateway"
		}
		return m[1]
	}
	return "unknown"
}
