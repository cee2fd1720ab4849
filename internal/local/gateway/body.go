package gateway

import (
	"errors"
	"io"
	"net/http"
	"sync/atomic"

	"github.com/ddbops/ddbops/internal/wire"
)

// budget bounds the request-body bytes held at once: a body's bytes are
// taken before they are read and given back once its answer is built, so
// that clients which start bodies and stall cannot make the server hold
// more than max bytes of them.
type budget struct {
	max  int64
	used atomic.Int64
}

// take reserves n bytes; it fails rather than wait, so that a full budget
// costs the client a 503, never the server a goroutine per queued body.
func (b *budget) take(n int64) bool {
	if b == nil {
		return true
	}
	if b.used.Add(n) > b.max {
		b.used.Add(-n)
		return false
	}
	return true
}

func (b *budget) give(n int64) {
	if b != nil && n > 0 {
		b.used.Add(-n)
	}
}

// retryAfter is the Retry-After of a 503 for a full body budget, in
// seconds: bodies in flight are answered within a request's time.
const retryAfter = "1"

var (
	errBusy = &gwError{http.StatusServiceUnavailable, "ServiceUnavailableException", "Service Unavailable: too many request bodies in flight; retry shortly"}
	// errBadBody answers a body that could not be read (client gone,
	// malformed chunking).
	errBadBody = &gwError{http.StatusBadRequest, "BadRequestException", "Could not read the request body"}
)

func busyOut() outbound {
	out := errorOut(errBusy)
	out.headers = map[string]string{"Retry-After": retryAfter}
	return out
}

// chunkStep is the first reservation for a chunked body; each next one
// doubles what is held.
const chunkStep = 64 << 10

// readBody reads a body of announced length n (-1: chunked, length
// unknown) from r, holding its bytes against g's budget. It returns the
// body and how many bytes to give back once the answer is built, or the
// answer for a body it refuses: 413 over wire.MaxBodyBytes (the function's
// answer: the cloud passes such a body through to Lambda), 503 when the
// budget is spent, 400 when the body cannot be read. After a refusal the
// rest of the body is unread.
func (g *Gateway) readBody(r io.Reader, n int64, reqID string) ([]byte, int64, *outbound) {
	refuse := func(held int64, out outbound) ([]byte, int64, *outbound) {
		g.bodies.give(held)
		return nil, 0, &out
	}
	if n > wire.MaxBodyBytes {
		return refuse(0, tooLargeOut(reqID))
	}
	if n >= 0 {
		if !g.bodies.take(n) {
			return refuse(0, busyOut())
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			return refuse(n, errorOut(errBadBody))
		}
		return body, n, nil
	}
	var body []byte
	var held int64
	for {
		if len(body) == cap(body) {
			step := min(max(chunkStep, held), wire.MaxBodyBytes+1-held)
			if step <= 0 {
				return refuse(held, tooLargeOut(reqID))
			}
			if !g.bodies.take(step) {
				return refuse(held, busyOut())
			}
			held += step
			grown := make([]byte, len(body), held)
			copy(grown, body)
			body = grown
		}
		m, err := r.Read(body[len(body):cap(body)])
		body = body[:len(body)+m]
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return refuse(held, errorOut(errBadBody))
		}
	}
	if len(body) > wire.MaxBodyBytes {
		return refuse(held, tooLargeOut(reqID))
	}
	return body, held, nil
}
