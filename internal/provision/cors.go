package provision

import (
	"fmt"
	"maps"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Browser access (docs/cors.md). With allowed origins, the resource gets an
// OPTIONS method that answers CORS preflights from API Gateway itself (a
// MOCK integration: no Lambda invocation, no authorization, as preflights
// carry no credentials), and the function's environment names the origins
// so the handler adds Access-Control-Allow-Origin to its own responses.

// CORS settings every preflight answer carries.
const (
	// CORSAllowHeaders are the request headers a browser may send: the
	// JSON body's type, SigV4's headers (iam auth) and x-api-key (apikey).
	CORSAllowHeaders = "Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token,X-Amz-Content-Sha256"
	// CORSAllowMethods are the methods of the resource.
	CORSAllowMethods = "OPTIONS,POST"
	// CORSMaxAge is how long (seconds) a browser may reuse a preflight
	// answer. Browsers cap it (Chromium at 7200).
	CORSMaxAge = 600
	// CORSAnyOrigin allows every origin; it must be the only entry.
	CORSAnyOrigin = "*"
	// EnvCORSOrigins is the function environment variable naming the
	// allowed origins, comma-separated (cmd/handler reads it).
	EnvCORSOrigins = "CORS_ORIGINS"
)

// corsMaxEnvBytes bounds the origins' share of the function environment:
// Lambda holds at most 4 KB of environment variables in all.
const corsMaxEnvBytes = 3072

const (
	corsStatusCode  = "200"
	corsContentType = "application/json"
	headerPrefix    = "method.response.header."
)

// CORSPreflight is the OPTIONS method that answers CORS preflights, as
// setup creates it; the CloudFormation export builds the same method from
// it. Header parameters are keyed "method.response.header.<Name>".
type CORSPreflight struct {
	// Origins are the allowed origins, sorted ("*" alone: any origin).
	Origins []string
	// HTTPMethod is OPTIONS; AuthorizationType NONE, no API key: a
	// browser sends preflights without credentials, so an authorized
	// OPTIONS method would refuse every one of them.
	HTTPMethod        string
	AuthorizationType string
	APIKeyRequired    bool
	// IntegrationType is MOCK: API Gateway answers by itself with the
	// status code the request template names.
	IntegrationType     string
	PassthroughBehavior string
	RequestTemplates    map[string]string
	// StatusCode is the one method and integration response.
	StatusCode string
	// MethodResponseParameters declares the response headers (value:
	// required; none is, as Access-Control-Allow-Origin is left out for
	// origins that are not allowed).
	MethodResponseParameters map[string]bool
	// IntegrationResponseParameters are the static header values, each
	// in single quotes as API Gateway wants literals.
	IntegrationResponseParameters map[string]string
	// IntegrationResponseTemplates holds, for named origins, the mapping
	// template that sets Access-Control-Allow-Origin to the request's
	// Origin when it is one of them (a MOCK integration can return only
	// static values otherwise); empty for "*".
	IntegrationResponseTemplates map[string]string
}

// corsHeaders are the response headers the OPTIONS method declares.
var corsHeaders = []string{"Access-Control-Allow-Headers", "Access-Control-Allow-Methods", "Access-Control-Allow-Origin", "Access-Control-Max-Age", "Vary"}

// CORSMethod is spec's OPTIONS method; ok is false when spec allows no
// origin (then the resource has no OPTIONS method).
func CORSMethod(spec Spec) (m CORSPreflight, ok bool) {
	origins := canonicalOrigins(spec.CORSOrigins)
	if len(origins) == 0 {
		return CORSPreflight{}, false
	}
	m = CORSPreflight{
		Origins:    origins,
		HTTPMethod: "OPTIONS", AuthorizationType: "NONE",
		IntegrationType: "MOCK", PassthroughBehavior: "WHEN_NO_MATCH",
		RequestTemplates:         map[string]string{corsContentType: `{"statusCode": 200}`},
		StatusCode:               corsStatusCode,
		MethodResponseParameters: map[string]bool{},
		IntegrationResponseParameters: map[string]string{
			headerPrefix + "Access-Control-Allow-Headers": quoteLiteral(CORSAllowHeaders),
			headerPrefix + "Access-Control-Allow-Methods": quoteLiteral(CORSAllowMethods),
			headerPrefix + "Access-Control-Max-Age":       quoteLiteral(strconv.Itoa(CORSMaxAge)),
		},
		IntegrationResponseTemplates: map[string]string{},
	}
	for _, h := range corsHeaders {
		m.MethodResponseParameters[headerPrefix+h] = false
	}
	if origins[0] == CORSAnyOrigin {
		m.IntegrationResponseParameters[headerPrefix+"Access-Control-Allow-Origin"] = quoteLiteral(CORSAnyOrigin)
	} else {
		// The answer differs by Origin: caches must keep one per origin.
		m.IntegrationResponseParameters[headerPrefix+"Vary"] = quoteLiteral("Origin")
		m.IntegrationResponseTemplates[corsContentType] = corsTemplate(origins)
	}
	return m, true
}

// CORSFunctionEnv is what CORS adds to the function's environment:
// CORS_ORIGINS with the allowed origins, or nothing when none is.
func CORSFunctionEnv(spec Spec) map[string]string {
	origins := canonicalOrigins(spec.CORSOrigins)
	if len(origins) == 0 {
		return nil
	}
	return map[string]string{EnvCORSOrigins: strings.Join(origins, ",")}
}

// corsTemplate is the integration response's mapping template for named
// origins: it sets Access-Control-Allow-Origin (a response override) to the
// preflight's Origin header when it is exactly one of origins, and leaves
// the header out otherwise. API Gateway hands REST API header names over
// as the client sent them, so both spellings browsers use are read. A
// missing header is tested, never assigned: Velocity engines differ in
// what #set does with a null. The origins are validated (letters, digits,
// ".-:[]/"), so they are safe in single-quoted Velocity literals, which
// interpolate nothing.
func corsTemplate(origins []string) string {
	conds := make([]string, len(origins))
	for i, o := range origins {
		conds[i] = `$origin == '` + o + `'`
	}
	return `#set($origin = '')` + "\n" +
		`#set($header = $input.params().header)` + "\n" +
		`#if($header.get('Origin'))#set($origin = $header.get('Origin'))#elseif($header.get('origin'))#set($origin = $header.get('origin'))#end` + "\n" +
		`#if(` + strings.Join(conds, " || ") + `)` + "\n" +
		`#set($context.responseOverride.header.Access-Control-Allow-Origin = $origin)` + "\n" +
		`#end` + "\n"
}

// templateOrigin finds the origins a template of corsTemplate's form allows.
var templateOrigin = regexp.MustCompile(`\$origin == '([^']+)'`)

func templateOrigins(tpl string) []string {
	var out []string
	for _, m := range templateOrigin.FindAllStringSubmatch(tpl, -1) {
		out = append(out, m[1])
	}
	slices.Sort(out)
	return out
}

func quoteLiteral(s string) string { return "'" + s + "'" }

// canonicalOrigins is origins sorted without duplicates, so the order they
// were listed in never counts as a change.
func canonicalOrigins(origins []string) []string {
	if len(origins) == 0 {
		return nil
	}
	out := slices.Clone(origins)
	slices.Sort(out)
	return slices.Compact(out)
}

// SplitCORSOrigins splits a comma-separated origin list (the cors setting)
// into its entries, trimming blanks and dropping empty and repeated ones;
// Spec.Validate checks them.
func SplitCORSOrigins(s string) []string {
	var out []string
	for _, o := range strings.Split(s, ",") {
		if o = strings.TrimSpace(o); o != "" && !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	return out
}

var (
	hostPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$`)
	portPattern = regexp.MustCompile(`^[0-9]{1,5}$`)
)

// validateCORSOrigins checks that every entry is an origin exactly as a
// browser sends it in the Origin header (scheme://host[:port], lower case,
// no default port, no path), since both API Gateway's template and the
// handler compare strings, or "*" alone.
func validateCORSOrigins(origins []string) error {
	seen := map[string]bool{}
	for _, o := range origins {
		if seen[o] {
			return fmt.Errorf("cors origin %q: listed twice", o)
		}
		seen[o] = true
		if o == CORSAnyOrigin {
			if len(origins) > 1 {
				return fmt.Errorf("cors %q: allows every origin, list no other origin with it", CORSAnyOrigin)
			}
			continue
		}
		if err := validateOrigin(o); err != nil {
			return fmt.Errorf("cors origin %q: %w", o, err)
		}
	}
	if n := len(strings.Join(origins, ",")); n > corsMaxEnvBytes {
		return fmt.Errorf("cors: %d origins take %d bytes, more than the %d the function's environment has room for", len(origins), n, corsMaxEnvBytes)
	}
	return nil
}

func validateOrigin(o string) error {
	if o == "null" {
		return fmt.Errorf("opaque origins (sandboxed frames, file: pages) cannot be allowed safely")
	}
	if strings.ContainsAny(o, "*") {
		return fmt.Errorf("wildcards are not supported: list each origin, or use %q alone for any origin", CORSAnyOrigin)
	}
	scheme, rest, ok := strings.Cut(o, "://")
	if !ok || rest == "" {
		return fmt.Errorf("want scheme://host[:port], e.g. https://app.example.com")
	}
	if strings.ToLower(o) != o {
		return fmt.Errorf("write it in lower case, as browsers send it: %s", strings.ToLower(o))
	}
	if scheme != "http" && scheme != "https" {
		return fmt.Errorf("scheme %q: want http or https", scheme)
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		return fmt.Errorf("an origin has no path, query or trailing slash: %s://%s", scheme, rest[:i])
	}
	if strings.Contains(rest, "@") {
		return fmt.Errorf("an origin has no user name or password")
	}
	host, port := rest, ""
	if strings.HasPrefix(rest, "[") {
		end := strings.Index(rest, "]")
		if end < 0 {
			return fmt.Errorf("unclosed [ in the IPv6 address")
		}
		host = rest[:end+1]
		if ip := net.ParseIP(rest[1:end]); ip == nil || ip.To4() != nil {
			return fmt.Errorf("%s is not an IPv6 address", host)
		}
		switch after := rest[end+1:]; {
		case after == "":
		case strings.HasPrefix(after, ":"):
			port = after[1:]
		default:
			return fmt.Errorf("want scheme://host[:port]")
		}
	} else {
		if h, p, ok := strings.Cut(rest, ":"); ok {
			host, port = h, p
		}
		if !hostPattern.MatchString(host) || len(host) > 253 {
			return fmt.Errorf("host %q: want a DNS name or an IP address", host)
		}
	}
	if port != "" || strings.HasSuffix(rest, ":") {
		n, err := strconv.Atoi(port)
		if !portPattern.MatchString(port) || err != nil || n < 1 || n > 65535 || port[0] == '0' {
			return fmt.Errorf("port %q: want 1-65535", port)
		}
		if (scheme == "http" && n == 80) || (scheme == "https" && n == 443) {
			return fmt.Errorf("browsers leave the default port out: %s://%s", scheme, host)
		}
	}
	return nil
}

// corsSummary renders origins for a plan or status line.
func corsSummary(origins []string) string {
	if len(origins) == 0 {
		return "(none)"
	}
	return strings.Join(origins, ",")
}

// sortedKeys renders a response's status codes or header names.
func sortedKeys[V any](m map[string]V) string {
	if len(m) == 0 {
		return "(none)"
	}
	return strings.Join(slices.Sorted(maps.Keys(m)), ",")
}
