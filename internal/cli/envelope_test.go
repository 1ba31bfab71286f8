package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// envelopeOf decodes stdout as the one --output json envelope, its result
// kept raw.
func envelopeOf(t *testing.T, stdout string) (Envelope, json.RawMessage) {
	t.Helper()
	var e struct {
		Envelope
		Result json.RawMessage `json:"result"`
	}
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("stdout is not one envelope: %v\n%s", err, stdout)
	}
	if dec.More() {
		t.Fatalf("stdout holds more than one JSON value:\n%s", stdout)
	}
	return e.Envelope, e.Result
}

// resultOf is the raw result of the envelope on stdout.
func resultOf(t *testing.T, stdout string) []byte {
	t.Helper()
	_, r := envelopeOf(t, stdout)
	return r
}
