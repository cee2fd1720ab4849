package handler

import (
	"testing"

	"github.com/ddbops/ddbops/internal/testenv"
)

// TestEmulatorMoto runs the scripted flow against moto's DynamoDB (the
// emulator layer of docs/testing.md). Without moto_server it skips, or fails
// when DDBOPS_REQUIRE_EMULATORS=1.
func TestEmulatorMoto(t *testing.T) {
	t.Parallel()
	m := testenv.StartMoto(t)
	client := testenv.DynamoDB(t, m.URL)
	testenv.CreateTable(t, client, testTable)
	runFlow(t, client, backendQuirks{})
}
