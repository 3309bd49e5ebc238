package operator_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	sigsyaml "sigs.k8s.io/yaml"

	v1 "github.com/stretchctl/stretchctl/api/v1alpha1"
	"github.com/stretchctl/stretchctl/internal/kubetest"
)

// TestManifests renders manifests/ (what `kubectl apply -k manifests/`
// applies) and manifests/samples with the kustomize API and checks every
// object: the kinds expected, the Deployment's probes, limits and
// non-root security context, the operator's command; the samples decode
// into the API's types and pass the API server's validation.
func TestManifests(t *testing.T) {
	root := kubetest.ModuleRoot(t)
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	base, err := k.Run(filesys.MakeFsOnDisk(), filepath.Join(root, "manifests"))
	if err != nil {
		t.Fatalf("kustomize build manifests: %v", err)
	}
	var kinds []string
	for _, r := range base.Resources() {
		kinds = append(kinds, r.GetKind()+"/"+r.GetName())
		if ns := r.GetNamespace(); r.GetKind() != "Namespace" && !strings.HasPrefix(r.GetKind(), "Cluster") && r.GetKind() != "CustomResourceDefinition" && ns != "stretchctl-system" {
			t.Errorf("%s/%s is in namespace %q, want stretchctl-system", r.GetKind(), r.GetName(), ns)
		}
		if r.GetKind() != "Deployment" {
			continue
		}
		y, err := r.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		var d appsv1.Deployment
		if err := decodeInto(y, &d); err != nil {
			t.Fatal(err)
		}
		pod := d.Spec.Template.Spec
		c := pod.Containers[0]
		if pod.ServiceAccountName != "stretchctl-operator" || pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
			t.Errorf("deployment pod: service account %q, security context %+v", pod.ServiceAccountName, pod.SecurityContext)
		}
		if c.LivenessProbe == nil || c.ReadinessProbe == nil || c.Resources.Limits.Memory().IsZero() || c.Resources.Limits.Cpu().IsZero() {
			t.Errorf("container: probes %v/%v, limits %v", c.LivenessProbe, c.ReadinessProbe, c.Resources.Limits)
		}
		if c.SecurityContext == nil || c.SecurityContext.ReadOnlyRootFilesystem == nil || !*c.SecurityContext.ReadOnlyRootFilesystem ||
			c.SecurityContext.AllowPrivilegeEscalation == nil || *c.SecurityContext.AllowPrivilegeEscalation {
			t.Errorf("container security context: %+v", c.SecurityContext)
		}
		if !slices.Equal(c.Args[:2], []string{"operator", "--leader-elect"}) || c.Image != "ghcr.io/stretchctl/stretchctl:latest" {
			t.Errorf("container: image %s args %v", c.Image, c.Args)
		}
	}
	slices.Sort(kinds)
	want := []string{
		"ClusterRole/stretchctl-operator", "ClusterRoleBinding/stretchctl-operator",
		"CustomResourceDefinition/failoverdrills.stretchctl.io", "CustomResourceDefinition/stretchclusters.stretchctl.io",
		"Deployment/stretchctl-operator", "Namespace/stretchctl-system", "Role/stretchctl-operator", "RoleBinding/stretchctl-operator",
		"Service/stretchctl-operator-metrics", "ServiceAccount/stretchctl-operator",
	}
	if !slices.Equal(kinds, want) {
		t.Errorf("manifests/ renders\n%v\nwant\n%v", kinds, want)
	}

	// The samples: every kind, valid for the API server.
	samples, err := k.Run(filesys.MakeFsOnDisk(), filepath.Join(root, "manifests", "samples"))
	if err != nil {
		t.Fatalf("kustomize build manifests/samples: %v", err)
	}
	scheme, _ := runtimeScheme()
	env := kubetest.Start(t, scheme, filepath.Join(root, "manifests", "crd"))
	ctx := context.Background()
	if err := env.Client.Create(ctx, &corev1.Namespace{}); err == nil {
		t.Fatal("creating a namespace without a name succeeded")
	}
	must(t, env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: objectMeta("kafka")}))
	seen := map[string]int{}
	for _, r := range samples.Resources() {
		y, err := r.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		u, err := decodeUnstructured(y)
		if err != nil {
			t.Fatal(err)
		}
		seen[u.GetKind()]++
		if err := env.Client.Create(ctx, u); err != nil {
			t.Errorf("sample %s/%s: %v", u.GetKind(), u.GetName(), err)
		}
	}
	for _, kind := range []string{"StretchCluster", "FailoverDrill", "Deployment"} {
		if seen[kind] == 0 {
			t.Errorf("no %s sample", kind)
		}
	}
	if seen["StretchCluster"] < 2 || seen["Deployment"] != 3 {
		t.Errorf("samples: %v (want a direct and a Strimzi StretchCluster, a probe agent per zone)", seen)
	}
}

func runtimeScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, appsv1.AddToScheme, v1.AddToScheme} {
		if err := add(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func decodeInto(y []byte, into any) error { return sigsyaml.Unmarshal(y, into) }

func decodeUnstructured(y []byte) (*unstructured.Unstructured, error) {
	u := &unstructured.Unstructured{}
	return u, sigsyaml.Unmarshal(y, &u.Object)
}

func objectMeta(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: name} }
