package topology

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/stretchctl/stretchctl/internal/boundedfile"
)

// The snapshot file format is owned here, next to the type it stores:
// `stretchctl snapshot` writes it, `check --snapshot`, the TUI and tests
// read it. A reader refuses any other schema version rather than guess.

// MaxSnapshotBytes bounds a snapshot file: far above the largest real
// cluster (a million partitions is about 150 MB of JSON), far below what
// would exhaust memory.
const MaxSnapshotBytes = 1 << 30

// ErrSchema is wrapped by the errors of a snapshot with another schema
// version than SchemaVersion.
var ErrSchema = errors.New("unsupported snapshot schema")

// DecodeSnapshot reads one snapshot from r. name is used in errors.
func DecodeSnapshot(r io.Reader, name string) (*Snapshot, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxSnapshotBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read snapshot %s: %w", name, err)
	}
	if len(b) > MaxSnapshotBytes {
		return nil, fmt.Errorf("snapshot %s is larger than %d MiB", name, MaxSnapshotBytes>>20)
	}
	var probe struct {
		SchemaVersion *int `json:"schemaVersion"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, fmt.Errorf("%s is not a stretchctl snapshot: %w", name, err)
	}
	switch {
	case probe.SchemaVersion == nil:
		return nil, fmt.Errorf("%s is not a stretchctl snapshot: no schemaVersion", name)
	case *probe.SchemaVersion != SchemaVersion:
		return nil, fmt.Errorf("%s has snapshot schema %d, this stretchctl reads %d: %w", name, *probe.SchemaVersion, SchemaVersion, ErrSchema)
	}
	var s Snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s is not a stretchctl snapshot: %w", name, err)
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &s, nil
}

// LoadSnapshot reads the snapshot file at path.
func LoadSnapshot(path string) (*Snapshot, error) {
	b, err := boundedfile.Read(path, MaxSnapshotBytes)
	if err != nil {
		return nil, fmt.Errorf("read snapshot: %w", err)
	}
	return DecodeSnapshot(bytes.NewReader(b), path)
}

// Encode writes the snapshot as the indented JSON of the file format.
func (s *Snapshot) Encode(w io.Writer) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// Partitions counts the partitions of every topic.
func (s *Snapshot) Partitions() int {
	n := 0
	for _, t := range s.Topics {
		n += len(t.Partitions)
	}
	return n
}
