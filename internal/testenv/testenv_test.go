package testenv

import "testing"

func TestMotoStarts(t *testing.T) {
	m := StartMoto(t)
	t.Log(m.URL)
	m.Reset(t)
}
