// Package v1alpha1 is the Kubernetes API of the stretchctl operator:
// StretchCluster (a stretched Kafka cluster checked continuously against
// its goals) and FailoverDrill (one drill declared as an object, its
// phases, verdict and predicted-vs-observed figures in status).
//
// The package holds types only: no client, no reconcile logic, no Kafka.
// The CRDs in manifests/crd are generated from the markers here by
// controller-gen (`make generate`); a test checks they are current.
//
// +kubebuilder:object:generate=true
// +groupName=stretchctl.io
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of these types.
	GroupVersion = schema.GroupVersion{Group: "stretchctl.io", Version: "v1alpha1"}

	// SchemeBuilder registers the types with a scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the types of this group-version to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
