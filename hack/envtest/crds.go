// Package envtest only pins the Chaos Mesh API whose types controller-gen
// turns into the CRDs the envtest apiserver installs (see
// scripts/envtest.sh).
package envtest

import _ "github.com/chaos-mesh/chaos-mesh/api/v1alpha1"
