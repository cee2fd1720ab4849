package handler

import (
	"net/http/httptest"
	"testing"

	miniserver "github.com/truora/minidyn/server"
)

// TestEmbeddedMinidyn runs the scripted flow against minidyn's HTTP server
// through the real SDK client (the embedded DynamoDB layer of DESIGN §8).
func TestEmbeddedMinidyn(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(miniserver.NewServer())
	t.Cleanup(srv.Close)
	client := emulatorClient(t, srv.URL)
	createTutorialTable(t, client, false)
	runFlow(t, client, backendQuirks{noItemSizeLimit: true, noScannedCount: true, acceptsUndefinedValues: true, dropsEmptyLists: true})
}
