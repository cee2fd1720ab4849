package e2etest

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ddbops/ddbops/internal/testenv"
)

// pageScript is what each test page runs: three POSTs to the API (one
// that needs a preflight, a simple text/plain one, a no-cors one), each
// creating an item named after the page, then it reports the outcomes to
// its own server and goes on to next.
const pageScript = `<!doctype html><html><body><script>
const api = %q, page = %q, next = %q;
async function attempt(name, init) {
  const body = JSON.stringify({operation: "create", payload: {Item: {id: page + "-" + name}}});
  try {
    const r = await fetch(api, Object.assign({method: "POST", body}, init));
    return name + "=" + r.status + " " + (r.type === "opaque" ? "opaque" : await r.text());
  } catch (e) {
    return name + "=" + e.name;
  }
}
(async () => {
  const out = [
    await attempt("json", {headers: {"Content-Type": "application/json"}}),
    await attempt("text", {headers: {"Content-Type": "text/plain"}}),
    await attempt("nocors", {mode: "no-cors", headers: {"Content-Type": "text/plain"}}),
  ];
  await fetch("/result?page=" + page, {method: "POST", body: out.join("\n")});
  if (next) location.href = next;
})();
</script></body></html>`

// TestCORSChromium: a real browser. A page of the origin --cors names
// (http://localhost:P, another loopback port) creates items with a
// preflighted JSON fetch, a simple text/plain fetch and a no-cors fetch,
// and reads the answers; a page of any other origin (http://127.0.0.1:P)
// gets nothing through: the preflight is refused, the simple requests are
// answered 403 and store nothing.
func TestCORSChromium(t *testing.T) {
	skipShort(t)
	t.Parallel()
	chromium := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			chromium = p
			break
		}
	}
	if chromium == "" {
		testenv.SkipOrFail(t, "chromium is not installed (apt-get install chromium)")
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, pagePort, _ := net.SplitHostPort(ln.Addr().String())
	allowed := "http://localhost:" + pagePort
	foreign := "http://127.0.0.1:" + pagePort

	s := start(t, spec{args: []string{"--auth", "none", "--cors", allowed}})
	api := s.doc.URL

	results := make(chan [2]string, 2)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /allowed", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, pageScript, api, "allowed", foreign+"/foreign")
	})
	mux.HandleFunc("GET /foreign", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, pageScript, api, "foreign", "")
	})
	mux.HandleFunc("POST /result", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		results <- [2]string{r.URL.Query().Get("page"), string(b)}
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	cmd := command(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), allowed+"/allowed")
	logs := &testenv.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	done := testenv.Start(t, cmd).Done()

	got := map[string]string{}
	for len(got) < 2 {
		select {
		case r := <-results:
			got[r[0]] = r[1]
		case <-done:
			t.Fatalf("chromium exited before both pages reported:\n%s", logs)
		case <-time.After(90 * time.Second):
			t.Fatalf("pages reported %v within 90s; chromium:\n%s", got, logs)
		}
	}
	t.Logf("allowed page (%s):\n%s\nforeign page (%s):\n%s", allowed, got["allowed"], foreign, got["foreign"])

	outcome := func(page, name string) string {
		for _, l := range strings.Split(got[page], "\n") {
			if v, ok := strings.CutPrefix(l, name+"="); ok {
				return v
			}
		}
		return ""
	}
	for _, name := range []string{"json", "text"} {
		if v := outcome("allowed", name); !strings.HasPrefix(v, `200 {"ResponseMetadata":`) {
			t.Errorf("allowed origin, %s fetch: %q, want 200 and a readable answer", name, v)
		}
		if v := outcome("foreign", name); v != "TypeError" {
			t.Errorf("foreign origin, %s fetch: %q, want a network error (CORS)", name, v)
		}
	}
	if v := outcome("allowed", "nocors"); v != "0 opaque" {
		t.Errorf("allowed origin, no-cors fetch: %q", v)
	}
	for _, id := range []string{"allowed-json", "allowed-text", "allowed-nocors"} {
		if !s.stored(t, id) {
			t.Errorf("%s: not stored", id)
		}
	}
	for _, id := range []string{"foreign-json", "foreign-text", "foreign-nocors"} {
		if s.stored(t, id) {
			t.Errorf("%s: a page of a foreign origin stored an item", id)
		}
	}
}
