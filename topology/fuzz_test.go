package topology

import (
	"bytes"
	"testing"
)

// FuzzDecodeSnapshot: a snapshot file of any content is refused or
// decoded, never a crash.
func FuzzDecodeSnapshot(f *testing.F) {
	f.Add([]byte(`{"schemaVersion":1,"brokers":[{"id":1,"rack":"a"}],"topics":[{"name":"t","partitions":[{"id":0,"leader":1,"replicas":[1],"isr":[1]}]}]}`))
	f.Add([]byte(`{"schemaVersion":99}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = DecodeSnapshot(bytes.NewReader(b), "fuzz")
	})
}
