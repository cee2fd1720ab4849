package handler

import (
	"net/http/httptest"
	"testing"

	miniserver "github.com/truora/minidyn/server"

	"github.com/ddbops/ddbops/internal/testenv"
)

// TestEmbeddedMinidyn runs the scripted flow against minidyn's HTTP server
// through the real SDK client (the embedded DynamoDB layer of docs/testing.md).
func TestEmbeddedMinidyn(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(miniserver.NewServer())
	t.Cleanup(srv.Close)
	client := testenv.DynamoDB(t, srv.URL)
	testenv.CreateTable(t, client, testTable)
	runFlow(t, client, backendQuirks{noItemSizeLimit: true, noScannedCount: true, acceptsUndefinedValues: true, dropsEmptyLists: true})
}
