package operator

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/stretchctl/stretchctl/api/v1alpha1"
	"github.com/stretchctl/stretchctl/config"
	"github.com/stretchctl/stretchctl/topology"
)

// Strimzi's kinds, read as unstructured objects: Strimzi's Go types are
// not on the module proxy. Field names follow Strimzi's CRDs
// (packaging/install/cluster-operator/040-Crd-kafka.yaml and
// 04A-Crd-kafkanodepool.yaml in strimzi/strimzi-kafka-operator).
var (
	strimziKafka    = schema.GroupVersionKind{Group: "kafka.strimzi.io", Version: "v1beta2", Kind: "Kafka"}
	strimziNodePool = schema.GroupVersionKind{Group: "kafka.strimzi.io", Version: "v1beta2", Kind: "KafkaNodePoolList"}
)

// Labels Strimzi puts on the pods of a cluster (strimzi.io/cluster,
// strimzi.io/pool-name, and a role label per KRaft role).
const (
	strimziClusterLabel    = "strimzi.io/cluster"
	strimziPoolLabel       = "strimzi.io/pool-name"
	strimziControllerLabel = "strimzi.io/controller-role"
	strimziBrokerLabel     = "strimzi.io/broker-role"
)

// Read directly (never cached) on each check, Strimzi's kinds read-only:
// +kubebuilder:rbac:groups=kafka.strimzi.io,resources=kafkas;kafkanodepools,verbs=get;list
// +kubebuilder:rbac:groups="",resources=pods;nodes,verbs=get;list

// derived is what a Strimzi Kafka says about the cluster.
type derived struct {
	conn *v1.Connection
	// topo has the DCs (the zones of the nodes the pods run on), the
	// brokers' racks and the controllers' DCs.
	topo config.Topology
	// zones by node id, to cross-check with broker.rack.
	brokerZones map[int32]string
}

// merge fills what the spec leaves empty with what was derived.
func (d *derived) merge(spec config.Topology) config.Topology {
	t := *spec.DeepCopy()
	if len(t.DCs) == 0 {
		t.DCs = d.topo.DCs
	}
	if len(t.Controllers) == 0 {
		t.Controllers = d.topo.Controllers
	}
	if len(t.Racks) == 0 {
		t.Racks = d.topo.Racks
	}
	return t
}

// deriveStrimzi reads the Kafka, its node pools, their pods and the
// nodes' zone labels.
func deriveStrimzi(ctx context.Context, c client.Reader, sc *v1.StretchCluster) (*derived, error) {
	ref := sc.Spec.StrimziRef
	k := &unstructured.Unstructured{}
	k.SetGroupVersionKind(strimziKafka)
	if err := c.Get(ctx, client.ObjectKey{Namespace: sc.Namespace, Name: ref.Name}, k); err != nil {
		return nil, notFoundIsSpec(err, "Strimzi Kafka "+ref.Name+" (spec.strimziRef)")
	}
	conn, err := strimziConnection(k, ref)
	if err != nil {
		return nil, err
	}
	zoneLabel := ref.ZoneLabel
	if zoneLabel == "" {
		zoneLabel = corev1.LabelTopologyZone
	}

	pools := &unstructured.UnstructuredList{}
	pools.SetGroupVersionKind(strimziNodePool)
	if err := c.List(ctx, pools, client.InNamespace(sc.Namespace), client.MatchingLabels{strimziClusterLabel: ref.Name}); err != nil {
		return nil, fmt.Errorf("list KafkaNodePools of %s: %w", ref.Name, err)
	}
	roles := map[string][]string{}
	for _, p := range pools.Items {
		roles[p.GetName()], _, _ = unstructured.NestedStringSlice(p.Object, "spec", "roles")
	}
	var pods corev1.PodList
	if err := c.List(ctx, &pods, client.InNamespace(sc.Namespace), client.MatchingLabels{strimziClusterLabel: ref.Name}); err != nil {
		return nil, fmt.Errorf("list the pods of %s: %w", ref.Name, err)
	}
	d := &derived{conn: conn, topo: config.Topology{Controllers: map[string]string{}}, brokerZones: map[int32]string{}}
	zones := map[string]bool{}
	nodeZone := map[string]string{}
	for _, pod := range pods.Items {
		pool := pod.Labels[strimziPoolLabel]
		if pool == "" {
			continue // not a Kafka node (the entity operator, exporters)
		}
		id, ok := nodeIDOf(pod.Name)
		if !ok {
			return nil, &SpecError{fmt.Errorf("pod %s of node pool %s: no node id at the end of its name", pod.Name, pool)}
		}
		if pod.Spec.NodeName == "" {
			return nil, fmt.Errorf("pod %s is not scheduled yet: its zone is unknown", pod.Name)
		}
		zone, ok := nodeZone[pod.Spec.NodeName]
		if !ok {
			var node corev1.Node
			if err := c.Get(ctx, client.ObjectKey{Name: pod.Spec.NodeName}, &node); err != nil {
				return nil, fmt.Errorf("node %s of pod %s: %w", pod.Spec.NodeName, pod.Name, err)
			}
			zone = node.Labels[zoneLabel]
			if zone == "" {
				return nil, &SpecError{fmt.Errorf("node %s (pod %s) has no %s label: set spec.strimziRef.zoneLabel or spec.topology", node.Name, pod.Name, zoneLabel)}
			}
			nodeZone[pod.Spec.NodeName] = zone
		}
		zones[zone] = true
		if slices.Contains(roles[pool], "controller") || pod.Labels[strimziControllerLabel] == "true" {
			d.topo.Controllers[strconv.Itoa(int(id))] = zone
		}
		if slices.Contains(roles[pool], "broker") || pod.Labels[strimziBrokerLabel] == "true" {
			d.brokerZones[id] = zone
		}
	}
	if len(zones) == 0 {
		return nil, &SpecError{fmt.Errorf("Strimzi Kafka %s has no pods with a %s label yet", ref.Name, strimziPoolLabel)}
	}
	d.topo.DCs = slices.Sorted(maps.Keys(zones))
	return d, nil
}

// crossCheck compares the brokers Kafka reports with the pods Strimzi
// runs: a broker without a pod, without broker.rack, or whose rack is not
// the zone its pod runs in.
func (d *derived) crossCheck(snap *topology.Snapshot, topo config.Topology) []string {
	var out []string
	for _, b := range snap.Brokers {
		zone, ok := d.brokerZones[b.ID]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("broker %d is in Kafka's metadata but no Strimzi broker pod runs it", b.ID))
		case b.Rack == "":
			out = append(out, fmt.Sprintf("broker %d has no broker.rack while its pod runs in zone %s: set spec.kafka.rack.topologyKey in the Kafka", b.ID, zone))
		case topo.DCOfRack(b.Rack) != zone:
			out = append(out, fmt.Sprintf("broker %d has broker.rack %s (DC %s) but its pod runs in zone %s", b.ID, b.Rack, topo.DCOfRack(b.Rack), zone))
		}
	}
	return out
}

// nodeIDOf reads the node id Strimzi puts at the end of a pod's name
// (<cluster>-<pool>-<id>).
func nodeIDOf(pod string) (int32, bool) {
	i := strings.LastIndexByte(pod, '-')
	if i < 0 {
		return 0, false
	}
	return config.NodeID(pod[i+1:])
}

// strimziConnection takes the listener's bootstrap address from the
// Kafka's status and its TLS from the listener's spec; the CA is the
// cluster CA secret Strimzi keeps (<name>-cluster-ca-cert, key ca.crt).
func strimziConnection(k *unstructured.Unstructured, ref *v1.StrimziRef) (*v1.Connection, error) {
	specListeners, _, _ := unstructured.NestedSlice(k.Object, "spec", "kafka", "listeners")
	statusListeners, _, _ := unstructured.NestedSlice(k.Object, "status", "listeners")
	if len(statusListeners) == 0 {
		return nil, fmt.Errorf("Strimzi Kafka %s has no listeners in its status yet (not ready?)", k.GetName())
	}
	type listener struct {
		name, typ, auth string
		tls             bool
	}
	var ls []listener
	for _, l := range specListeners {
		m, _ := l.(map[string]any)
		name, _, _ := unstructured.NestedString(m, "name")
		typ, _, _ := unstructured.NestedString(m, "type")
		tls, _, _ := unstructured.NestedBool(m, "tls")
		auth, _, _ := unstructured.NestedString(m, "authentication", "type")
		ls = append(ls, listener{name, typ, auth, tls})
	}
	var chosen *listener
	for i, l := range ls {
		switch {
		case ref.Listener != "" && l.name == ref.Listener:
			chosen = &ls[i]
		case ref.Listener == "" && chosen == nil && l.typ == "internal" && (l.auth == "" || ref.SASL != nil):
			chosen = &ls[i]
		}
	}
	if chosen == nil && ref.Listener == "" && len(ls) > 0 {
		chosen = &ls[0]
	}
	if chosen == nil {
		return nil, &SpecError{fmt.Errorf("Strimzi Kafka %s has no listener %q (spec.strimziRef.listener)", k.GetName(), ref.Listener)}
	}
	conn := &v1.Connection{}
	for _, l := range statusListeners {
		m, _ := l.(map[string]any)
		if name, _, _ := unstructured.NestedString(m, "name"); name != chosen.name {
			continue
		}
		bs, _, _ := unstructured.NestedString(m, "bootstrapServers")
		for _, a := range strings.Split(bs, ",") {
			if a = strings.TrimSpace(a); a != "" {
				conn.Bootstrap = append(conn.Bootstrap, a)
			}
		}
	}
	if len(conn.Bootstrap) == 0 {
		return nil, fmt.Errorf("Strimzi Kafka %s: listener %s has no bootstrap address in its status yet", k.GetName(), chosen.name)
	}
	if chosen.tls {
		conn.TLS = &v1.TLS{SecretRef: &v1.SecretKeys{Name: k.GetName() + "-cluster-ca-cert", CAKey: "ca.crt"}}
	}
	switch chosen.auth {
	case "":
	case "scram-sha-512":
		if ref.SASL == nil {
			return nil, &SpecError{fmt.Errorf("listener %s of %s needs scram-sha-512 credentials: set spec.strimziRef.sasl", chosen.name, k.GetName())}
		}
		conn.SASL = ref.SASL.DeepCopy()
	default:
		return nil, &SpecError{fmt.Errorf("listener %s of %s uses %s authentication, which stretchctl cannot use: name another listener in spec.strimziRef.listener", chosen.name, k.GetName(), chosen.auth)}
	}
	return conn, nil
}
