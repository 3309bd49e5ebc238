// Package crd is a test fixture: a custom resource whose spec is
// stretch.yaml's Config, so that a test can run controller-gen over the
// config types and install the CRD into a real API server (the operator's
// StretchCluster embeds the same types).
//
// +kubebuilder:object:generate=false
// +groupName=test.stretchctl.io
// +versionName=v1alpha1
package crd

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/stretchctl/stretchctl/config"
)

// StretchConfig holds a stretch.yaml.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Namespaced
type StretchConfig struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              config.Config `json:"spec,omitempty"`
}
