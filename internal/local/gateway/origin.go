package gateway

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// Who may call the API from a browser, and under which name
// (docs/local-security.md#host-and-origin): on a loopback bind the Host
// header must name the loopback interface, which defeats DNS rebinding;
// a request that carries an Origin must come from the server's own origin
// or from one allowed with --cors, which stops cross-site writes (a form
// or a text/plain fetch needs no preflight, so the browser would deliver
// it). The rules follow Vite's and Jupyter's dev servers.

var (
	errHostForbidden   = &gwError{http.StatusForbidden, "ForbiddenException", "Forbidden: the Host header must name the loopback interface (localhost, 127.0.0.1, [::1])"}
	errOriginForbidden = &gwError{http.StatusForbidden, "ForbiddenException", "Forbidden: requests from this origin are not allowed (ddbops local --cors ORIGIN allows one)"}
)

// AnyOrigin, given alone as the CORS origin list, allows every origin
// (Access-Control-Allow-Origin: *), as API Gateway's '*' does.
const AnyOrigin = "*"

// CORS answers, as API Gateway's "Enable CORS" sets them up: an OPTIONS
// method (no auth) answering the preflight, and Access-Control-Allow-Origin
// on the answers of the method.
const (
	CORSAllowMethods = "OPTIONS,POST"
	CORSAllowHeaders = "Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token"
)

// ParseOrigins parses a comma-separated list of browser origins (the
// --cors flag and the cors config key) with CheckOrigins.
func ParseOrigins(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	return CheckOrigins(strings.Split(s, ","))
}

// CheckOrigins validates origins and returns them as browsers serialize
// them in the Origin header (lower-case scheme and host, no default port):
// each is scheme://host[:port] with scheme http or https, nothing else;
// or the list is AnyOrigin alone. "null" is refused: sandboxed frames and
// file:// pages all send it, so allowing it allows them all.
func CheckOrigins(origins []string) ([]string, error) {
	out := make([]string, 0, len(origins))
	seen := map[string]bool{}
	for _, o := range origins {
		o = strings.TrimSpace(o)
		if o == AnyOrigin {
			if len(origins) > 1 {
				return nil, errors.New("* allows every origin and stands alone")
			}
			return []string{AnyOrigin}, nil
		}
		n, err := normalizeOrigin(o)
		if err != nil {
			return nil, fmt.Errorf("origin %q: %w", o, err)
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out, nil
}

func normalizeOrigin(o string) (string, error) {
	switch {
	case o == "":
		return "", errors.New("empty (a stray comma?)")
	case strings.EqualFold(o, "null"):
		return "", errors.New("the null origin is every sandboxed frame's and file:// page's: it cannot be allowed")
	}
	u, err := url.Parse(o)
	if err != nil {
		return "", errors.New("not a URL: want scheme://host[:port], e.g. http://localhost:5173")
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case scheme != "http" && scheme != "https":
		return "", errors.New("want scheme://host[:port] with scheme http or https, e.g. http://localhost:5173")
	case u.Opaque != "" || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || (u.Path != "" && u.Path != "/"):
		return "", errors.New("an origin is scheme://host[:port] only: no user, path, query or fragment")
	case u.Hostname() == "":
		return "", errors.New("no host")
	}
	host := strings.ToLower(u.Hostname())
	for i := 0; i < len(host); i++ {
		c := host[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == ':') {
			return "", errors.New("host: letters, digits, '-' and '.' only (write an international name in punycode, xn--...)")
		}
	}
	if strings.Contains(host, ":") {
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is6() || a.Zone() != "" {
			return "", errors.New("host: not an IPv6 address")
		}
		host = "[" + a.String() + "]"
	}
	port := u.Port()
	if u.Host != "" && strings.HasSuffix(u.Host, ":") || port != "" && !validPort(port) {
		return "", errors.New("port: want 1 to 65535")
	}
	if scheme == "http" && port == "80" || scheme == "https" && port == "443" {
		port = ""
	}
	if port != "" {
		host += ":" + strings.TrimLeft(port, "0")
	}
	return scheme + "://" + host, nil
}

func validPort(p string) bool {
	if p == "" || len(p) > 5 {
		return false
	}
	n := 0
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
		n = n*10 + int(p[i]-'0')
	}
	return n >= 1 && n <= 65535
}

// corsPolicy is the list of origins allowed besides the server's own.
type corsPolicy struct {
	any     bool
	origins map[string]bool
}

func newCORSPolicy(origins []string) corsPolicy {
	var p corsPolicy
	for _, o := range origins {
		if o == AnyOrigin {
			p.any = true
			continue
		}
		if p.origins == nil {
			p.origins = map[string]bool{}
		}
		p.origins[o] = true
	}
	return p
}

// enabled: some origin other than the server's own may call (an OPTIONS
// method exists).
func (p corsPolicy) enabled() bool { return p.any || len(p.origins) > 0 }

// allow returns the Access-Control-Allow-Origin value for origin ("" for
// the server's own origin, which needs none) and whether origin may call
// at all. host is the request's Host and port the port the server
// listens on.
func (p corsPolicy) allow(origin, host, port string) (string, bool) {
	if sameOrigin(origin, host, port) {
		return "", true
	}
	switch {
	case p.any:
		return AnyOrigin, true
	case p.origins[origin]:
		return origin, true
	}
	return "", false
}

// sameOrigin reports whether origin is the server's own: http:// and the
// Host the request was sent to, or a loopback name or address with the
// port the server listens on (http://localhost:3000 and
// http://127.0.0.1:3000 are both this server's).
func sameOrigin(origin, host, port string) bool {
	rest, ok := strings.CutPrefix(origin, "http://")
	if !ok || rest == "" {
		return false
	}
	if host != "" && strings.EqualFold(rest, host) {
		return true
	}
	h, p, ok := splitHostPort(rest)
	if !ok || !loopbackName(h) {
		return false
	}
	if p == "" {
		p = "80"
	}
	return port != "" && p == port
}

// loopbackHost reports whether a Host value names the loopback interface:
// localhost, an address in 127.0.0.0/8 or [::1], with or without a port.
func loopbackHost(host string) bool {
	h, p, ok := splitHostPort(host)
	return ok && (p == "" || validPort(p)) && loopbackName(h)
}

// loopbackName: localhost (any case), a dotted-quad address in
// 127.0.0.0/8, or [::1] (not an IPv4-mapped spelling of 127.0.0.1).
func loopbackName(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	if ip, ok := strings.CutPrefix(h, "["); ok {
		ip, ok = strings.CutSuffix(ip, "]")
		a, err := netip.ParseAddr(ip)
		return ok && err == nil && a == netip.IPv6Loopback()
	}
	a, err := netip.ParseAddr(h)
	return err == nil && a.Is4() && a.IsLoopback()
}

// splitHostPort splits host[:port] where host may be a bracketed IPv6
// literal; ok is false for anything else (a bare IPv6 address, an empty
// port).
func splitHostPort(s string) (host, port string, ok bool) {
	if strings.HasPrefix(s, "[") {
		i := strings.IndexByte(s, ']')
		if i < 0 {
			return "", "", false
		}
		host, rest := s[:i+1], s[i+1:]
		if rest == "" {
			return host, "", true
		}
		port, ok = strings.CutPrefix(rest, ":")
		return host, port, ok && port != ""
	}
	host, port, found := strings.Cut(s, ":")
	if !found {
		return s, "", s != ""
	}
	return host, port, host != "" && port != "" && !strings.Contains(port, ":")
}

// IsLoopbackAddr reports whether a listener's address is on the loopback
// interface only (127.0.0.0/8 or ::1; not the unspecified address).
func IsLoopbackAddr(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}
