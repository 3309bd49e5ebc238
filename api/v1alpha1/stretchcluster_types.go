package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/stretchctl/stretchctl/config"
)

// StretchClusterSpec describes a stretched Kafka cluster the way
// stretch.yaml does, with secrets and client files taken from Secrets and
// ConfigMaps of the object's namespace. Exactly one of connection and
// strimziRef says how the cluster is reached.
//
// +kubebuilder:validation:XValidation:rule="has(self.connection) != has(self.strimziRef)",message="set exactly one of connection and strimziRef"
type StretchClusterSpec struct {
	// Connection says how to reach Kafka (stretch.yaml's cluster).
	// +optional
	Connection *Connection `json:"connection,omitempty"`
	// StrimziRef names a Strimzi Kafka of this namespace: bootstrap, CA
	// and listener come from its status, the brokers' and controllers'
	// DCs from its KafkaNodePools, their pods and the zone label of the
	// nodes they run on.
	// +optional
	StrimziRef *StrimziRef `json:"strimziRef,omitempty"`
	// Topology maps brokers and controllers to DCs (stretch.yaml's
	// topology). With strimziRef the operator derives it; what is written
	// here wins.
	// +optional
	Topology config.Topology `json:"topology,omitempty"`
	// Goals are the RTO, RPO and latency budgets the cluster is checked
	// against.
	// +optional
	Goals config.Goals `json:"goals,omitempty"`
	// Clients are the client configurations to check, each from a key of
	// a ConfigMap.
	// +optional
	// +listType=map
	// +listMapKey=name
	Clients []ClientRef `json:"clients,omitempty"`
	// Ignore suppresses findings (stretch.yaml's ignore).
	// +optional
	Ignore []config.Ignore `json:"ignore,omitempty"`
	// Chaos says which pods are a DC's Kafka pods, for FailoverDrills
	// through Chaos Mesh.
	// +optional
	Chaos ChaosTarget `json:"chaos,omitempty"`
	// CheckInterval is the time between two checks (default 5m).
	// +optional
	CheckInterval *config.Duration `json:"checkInterval,omitempty"`
	// Probe says where the probe agents' latency results are read from.
	// +optional
	Probe ProbeSpec `json:"probe,omitempty"`
	// FailOn is the lowest finding severity that fails the verdict
	// (default high).
	// +optional
	// +kubebuilder:validation:Enum=critical;high;medium;low;info
	FailOn string `json:"failOn,omitempty"`
}

// Connection is how the operator reaches Kafka.
type Connection struct {
	// Bootstrap addresses (host:port).
	// +kubebuilder:validation:MinItems=1
	Bootstrap []string `json:"bootstrap"`
	// Controllers are KRaft controller endpoints, read for the
	// controllers' own settings (KIP-919).
	// +optional
	Controllers []string `json:"controllers,omitempty"`
	// KafkaVersion the clients speak (default the newest supported).
	// +optional
	KafkaVersion string `json:"kafkaVersion,omitempty"`
	// Timeout per request (default 10s).
	// +optional
	Timeout *config.Duration `json:"timeout,omitempty"`
	// +optional
	TLS *TLS `json:"tls,omitempty"`
	// +optional
	SASL *SASL `json:"sasl,omitempty"`
}

// TLS takes the CA, client certificate and key from a Secret.
type TLS struct {
	// SecretRef holds ca.crt and, for mutual TLS, tls.crt and tls.key
	// (the keys of a cert-manager or Strimzi secret).
	// +optional
	SecretRef *SecretKeys `json:"secretRef,omitempty"`
	// +optional
	ServerName string `json:"serverName,omitempty"`
	// +optional
	InsecureSkipVerify bool `json:"insecureSkipVerify,omitempty"`
}

// SecretKeys names a Secret of the object's namespace; the key names
// default to ca.crt, tls.crt and tls.key.
type SecretKeys struct {
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// +optional
	CAKey string `json:"caKey,omitempty"`
	// +optional
	CertKey string `json:"certKey,omitempty"`
	// +optional
	KeyKey string `json:"keyKey,omitempty"`
}

// SASL takes the user's password from a Secret.
type SASL struct {
	Mechanism config.Mechanism `json:"mechanism"`
	// +kubebuilder:validation:MinLength=1
	Username string `json:"username"`
	// PasswordSecretRef is the Secret key holding the password.
	PasswordSecretRef SecretKeyRef `json:"passwordSecretRef"`
}

// SecretKeyRef is one key of a Secret of the object's namespace.
type SecretKeyRef struct {
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// +kubebuilder:validation:MinLength=1
	Key string `json:"key"`
}

// StrimziRef names a Strimzi Kafka (kafka.strimzi.io) of the namespace.
type StrimziRef struct {
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// Listener is the name of the Kafka listener to use (default: the
	// first internal one without authentication, else the first).
	// +optional
	Listener string `json:"listener,omitempty"`
	// ZoneLabel is the node label holding the DC (default
	// topology.kubernetes.io/zone).
	// +optional
	ZoneLabel string `json:"zoneLabel,omitempty"`
	// SASL credentials for a listener with scram-sha-512 or plain
	// authentication (a KafkaUser's secret).
	// +optional
	SASL *SASL `json:"sasl,omitempty"`
}

// ClientRef is one client configuration, a properties file held in a
// ConfigMap key.
type ClientRef struct {
	// Name identifies the client in findings.
	// +kubebuilder:validation:MinLength=1
	Name    string            `json:"name"`
	Kind    config.ClientKind `json:"kind"`
	Library config.Library    `json:"library,omitempty"`
	// Version of the library (its defaults apply).
	// +optional
	Version string `json:"version,omitempty"`
	// DC the client runs in.
	// +optional
	DC           string          `json:"dc,omitempty"`
	ConfigMapRef ConfigMapKeyRef `json:"configMapRef"`
}

// ConfigMapKeyRef is one key of a ConfigMap of the object's namespace.
type ConfigMapKeyRef struct {
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// +kubebuilder:validation:MinLength=1
	Key string `json:"key"`
}

// ChaosTarget selects a DC's Kafka pods for Chaos Mesh.
type ChaosTarget struct {
	// Namespaces holding the Kafka pods (default: the object's).
	// +optional
	Namespaces []string `json:"namespaces,omitempty"`
	// ZoneLabel is the pod label holding the DC (default
	// topology.kubernetes.io/zone).
	// +optional
	ZoneLabel string `json:"zoneLabel,omitempty"`
	// PodLabels further select the Kafka pods (e.g. app=kafka); with
	// strimziRef, strimzi.io/cluster=<name> is added.
	// +optional
	PodLabels map[string]string `json:"podLabels,omitempty"`
}

// ProbeSpec is where the probe agents report.
type ProbeSpec struct {
	// Topic the agents write their results to (default
	// __stretchctl_latency); "-" reads no latency.
	// +optional
	Topic string `json:"topic,omitempty"`
}

// Condition types of a StretchCluster.
const (
	// Ready: the cluster answered, and its KRaft quorum has a leader
	// whose voters are caught up.
	ConditionReady = "Ready"
	// GoalsMet: the last check met every goal (verdict pass).
	ConditionGoalsMet = "GoalsMet"
	// Degraded: brokers are fenced or absent, partitions offline or
	// under-replicated, or a voter lags.
	ConditionDegraded = "Degraded"
)

// Verdict of a check.
// +kubebuilder:validation:Enum=Pass;Fail;Unknown
type Verdict string

// The verdicts of a check.
const (
	VerdictPass    Verdict = "Pass"
	VerdictFail    Verdict = "Fail"
	VerdictUnknown Verdict = "Unknown"
)

// StretchClusterStatus is the last check, summarised; the full report is
// in the ConfigMap ReportConfigMap names.
type StretchClusterStatus struct {
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// +optional
	Verdict Verdict `json:"verdict,omitempty"`
	// ClusterID is Kafka's cluster id.
	// +optional
	ClusterID string `json:"clusterID,omitempty"`
	// +optional
	Brokers int32 `json:"brokers,omitempty"`
	// Findings counts the active findings by severity.
	// +optional
	Findings *FindingCounts `json:"findings,omitempty"`
	// TopFindings are the most severe few.
	// +optional
	TopFindings []FindingSummary `json:"topFindings,omitempty"`
	// Scenarios has one line per predicted DC failure.
	// +optional
	Scenarios []ScenarioSummary `json:"scenarios,omitempty"`
	// +optional
	Latency *LatencySummary `json:"latency,omitempty"`
	// +optional
	LastCheckTime *metav1.Time `json:"lastCheckTime,omitempty"`
	// ReportConfigMap holds the full report (report.json).
	// +optional
	ReportConfigMap string `json:"reportConfigMap,omitempty"`
	// Topology is the topology the operator derived (strimziRef).
	// +optional
	Topology *config.Topology `json:"topology,omitempty"`
	// Bootstrap is the address the operator used.
	// +optional
	Bootstrap []string `json:"bootstrap,omitempty"`
}

// FindingCounts counts findings per severity.
type FindingCounts struct {
	Critical int32 `json:"critical"`
	High     int32 `json:"high"`
	Medium   int32 `json:"medium"`
	Low      int32 `json:"low"`
	Info     int32 `json:"info"`
}

// FindingSummary is one finding in a line.
type FindingSummary struct {
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	Subject  string `json:"subject"`
	Message  string `json:"message"`
}

// ScenarioSummary is one scenario in a line.
type ScenarioSummary struct {
	// Name, e.g. "lose dc-a".
	Name             string `json:"name"`
	WriteUnavailable int32  `json:"writeUnavailable"`
	// AckedLossPossible counts partitions that may lose acknowledged
	// writes.
	AckedLossPossible int32 `json:"ackedLossPossible"`
	QuorumSurvives    bool  `json:"quorumSurvives"`
	// PredictedRTO, empty when writes do not resume on their own.
	// +optional
	PredictedRTO string `json:"predictedRTO,omitempty"`
	GoalsMet     bool   `json:"goalsMet"`
}

// LatencySummary is the worst inter-DC round trip measured.
type LatencySummary struct {
	// Source says where the figures come from and how old they are.
	Source string `json:"source"`
	// +optional
	WorstPair string `json:"worstPair,omitempty"`
	// +optional
	WorstRTT string `json:"worstRTT,omitempty"`
	// +optional
	Pairs []LatencyPair `json:"pairs,omitempty"`
}

// LatencyPair is one DC pair's round trip.
type LatencyPair struct {
	Pair string `json:"pair"`
	RTT  string `json:"rtt"`
}

// StretchCluster is a stretched Kafka cluster the operator checks
// periodically against its goals.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=sc,categories=stretchctl
// +kubebuilder:printcolumn:name="Verdict",type=string,JSONPath=`.status.verdict`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Critical",type=integer,JSONPath=`.status.findings.critical`
// +kubebuilder:printcolumn:name="High",type=integer,JSONPath=`.status.findings.high`
// +kubebuilder:printcolumn:name="Worst RTT",type=string,JSONPath=`.status.latency.worstRTT`
// +kubebuilder:printcolumn:name="Checked",type=date,JSONPath=`.status.lastCheckTime`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type StretchCluster struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   StretchClusterSpec   `json:"spec,omitempty"`
	Status StretchClusterStatus `json:"status,omitempty"`
}

// StretchClusterList is a list of StretchClusters.
//
// +kubebuilder:object:root=true
type StretchClusterList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []StretchCluster `json:"items"`
}

func init() {
	SchemeBuilder.Register(&StretchCluster{}, &StretchClusterList{})
}
