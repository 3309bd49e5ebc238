package chaos

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"time"

	"github.com/stretchctl/stretchctl/chaos/chaosmesh"
	"github.com/stretchctl/stretchctl/chaos/execbackend"
	"github.com/stretchctl/stretchctl/chaos/labbackend"
	"github.com/stretchctl/stretchctl/drill"
)

// OpenBackend builds the backend a spec describes, with its explicit
// constructor. A Chaos Mesh spec without a drill id gets id.
func OpenBackend(spec drill.Spec, id string, log *slog.Logger) (drill.Backend, error) {
	switch spec.Name() {
	case "lab":
		return labbackend.New(spec.Lab.Dir)
	case "exec":
		return execbackend.New(*spec.Exec)
	case "chaos-mesh":
		s := *spec.ChaosMesh
		if s.DrillID == "" {
			s.DrillID = id
		}
		return chaosmesh.NewFromKubeconfig(s, log)
	}
	return nil, errors.New("a backend spec must name exactly one backend (lab, chaos-mesh or exec)")
}

// NewID returns a new drill id: the UTC time and a random suffix, usable
// as a file name and a Kubernetes label value.
func NewID(now time.Time) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return now.UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b)
}
