package handler

import (
	"testing"

	"github.com/ddbops/ddbops/internal/testenv"
)

// TestEmulatorMoto runs the scripted flow against moto's DynamoDB (the
// emulator layer of DESIGN §8). Without moto_server it skips, or fails
// when DDBOPS_REQUIRE_EMULATORS=1.
func TestEmulatorMoto(t *testing.T) {
	t.Parallel()
	m := testenv.StartMoto(t)
	client := emulatorClient(t, m.URL)
	createTutorialTable(t, client, true)
	runFlow(t, client, backendQuirks{})
}
