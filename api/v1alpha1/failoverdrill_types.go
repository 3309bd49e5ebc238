package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/stretchctl/stretchctl/config"
)

// FaultKind is how the drill fails a DC (the names of drill.Kind).
// +kubebuilder:validation:Enum=crash;lose;freeze;isolate;latency;loss
type FaultKind string

// FailoverDrillSpec declares one drill. It is immutable once the drill
// has started: a drill is re-run by creating a new object.
//
// +kubebuilder:validation:XValidation:rule="self.fault in ['latency', 'loss'] || !has(self.peer)",message="peer is for latency and loss faults"
// +kubebuilder:validation:XValidation:rule="self.fault != 'latency' || has(self.delay)",message="a latency fault needs delay"
// +kubebuilder:validation:XValidation:rule="self.fault != 'loss' || has(self.lossPercent)",message="a loss fault needs lossPercent"
// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="a FailoverDrill's spec cannot change; create a new drill"
type FailoverDrillSpec struct {
	// ClusterRef names the StretchCluster of this namespace to drill.
	ClusterRef LocalRef `json:"clusterRef"`
	// ClusterID is the Kafka cluster id the drill may touch: a drill
	// pointed at another cluster fails its preflight and injects nothing.
	// +kubebuilder:validation:MinLength=1
	ClusterID string    `json:"clusterID"`
	Fault     FaultKind `json:"fault"`
	// DC is the data center the fault hits.
	// +kubebuilder:validation:MinLength=1
	DC string `json:"dc"`
	// Peer limits a link fault to the links between DC and Peer.
	// +optional
	Peer string `json:"peer,omitempty"`
	// Delay added to the DC's links (latency).
	// +optional
	Delay *config.Duration `json:"delay,omitempty"`
	// LossPercent of packets dropped on the DC's links (loss).
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	LossPercent *int32 `json:"lossPercent,omitempty"`
	// Duration the fault is held; every Chaos Mesh object also expires by
	// itself a grace period after it.
	Duration config.Duration `json:"duration"`
	// Topic the ledger writes to; it must exist, placed like the
	// production topics it stands for.
	// +kubebuilder:validation:MinLength=1
	Topic string `json:"topic"`
	// Producer is the ledger workload.
	// +optional
	Producer ProducerSpec `json:"producer,omitempty"`
	// Consumers runs a consumer group of the drill's own on the ledger
	// (in the operator's pod, like the producers) and measures the read
	// side: read RTO, rebalances, records read again or skipped.
	// +optional
	Consumers *ConsumerSpec `json:"consumers,omitempty"`
	// Transactional writes the ledger in transactions (Java only) and
	// reads it read_committed: exactly-once is checked.
	// +optional
	Transactional bool `json:"transactional,omitempty"`
	// Steady is how long the ledger writes before the fault (default 10s).
	// +optional
	Steady *config.Duration `json:"steady,omitempty"`
	// Force runs on an unhealthy cluster.
	// +optional
	Force bool `json:"force,omitempty"`
}

// LocalRef names an object of the same namespace.
type LocalRef struct {
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
}

// ProducerSpec is the ledger workload of a drill. The operator runs it
// itself (in its own pod), on the real client library.
type ProducerSpec struct {
	// Library the ledger writes with (default franz-go: the operator's
	// image need not hold a JDK).
	// +optional
	Library config.Library `json:"library,omitempty"`
	// Version of the library (Java: any kafka-clients release).
	// +optional
	Version string `json:"version,omitempty"`
	// ConfigMapRef holds the producer's properties.
	// +optional
	ConfigMapRef *ConfigMapKeyRef `json:"configMapRef,omitempty"`
	// DC the producers run in. The ledger runs inside the operator, so
	// this must be the DC the operator runs in (its --dc); the drill is
	// refused when it names another. Empty: wherever the operator runs.
	// +optional
	DC string `json:"dc,omitempty"`
	// Rate in records per second over all producers (default 1000).
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100000
	Rate int32 `json:"rate,omitempty"`
	// Producers is the number of producer instances (default 4).
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=64
	Producers int32 `json:"producers,omitempty"`
}

// ConsumerSpec is the drill's consumer group. Its members run in the
// operator's pod; the group's id is the drill's own, hashed to the
// coordinator of the group.id in the properties when there is one.
type ConsumerSpec struct {
	// Members of the group.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=64
	Members int32 `json:"members"`
	// Library the members read with: java or franz-go (default franz-go:
	// the operator's image need not hold a JDK).
	// +optional
	// +kubebuilder:validation:Enum=java;franz-go
	Library config.Library `json:"library,omitempty"`
	// Version of the library (Java: any kafka-clients release).
	// +optional
	Version string `json:"version,omitempty"`
	// ConfigMapRef holds the consumer's properties.
	// +optional
	ConfigMapRef *ConfigMapKeyRef `json:"configMapRef,omitempty"`
}

// Condition types of a FailoverDrill.
const (
	// Succeeded: Unknown while the drill runs; True when every goal was
	// met and the fault healed; False otherwise, with the reason.
	ConditionSucceeded = "Succeeded"
	// PreflightPassed: the cluster was healthy and the right one.
	ConditionPreflightPassed = "PreflightPassed"
	// FaultInjected: the Chaos Mesh objects were created and Chaos Mesh
	// reported the fault in place.
	ConditionFaultInjected = "FaultInjected"
	// RecoveryVerified: the fault is gone and Kafka says so: every
	// replica of the topic back in sync.
	ConditionRecoveryVerified = "RecoveryVerified"
)

// DrillPhase is the step a drill is in (the drill runner's phases, plus
// Pending before it starts).
// +kubebuilder:validation:Enum=Pending;Preflight;Predicting;Steady;Injecting;Holding;Healing;WaitingISR;ReadingBack;Done
type DrillPhase string

// DrillPhasePending: waiting to start (another drill of the cluster runs).
const DrillPhasePending DrillPhase = "Pending"

// DrillVerdict is a drill's outcome.
// +kubebuilder:validation:Enum=Pass;Fail;Inconclusive;Aborted
type DrillVerdict string

// The verdicts of a drill.
const (
	// DrillPass: goals met and healed.
	DrillPass DrillVerdict = "Pass"
	// DrillFail: a goal was missed, or the fault was not healed.
	DrillFail DrillVerdict = "Fail"
	// DrillInconclusive: the operator restarted mid-drill; the fault was
	// healed but the ledger died with the old process.
	DrillInconclusive DrillVerdict = "Inconclusive"
	// DrillAborted: the drill stopped before completing; FailedStep says
	// where.
	DrillAborted DrillVerdict = "Aborted"
)

// FailoverDrillStatus is where a drill is and what it found.
type FailoverDrillStatus struct {
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// +optional
	Phase DrillPhase `json:"phase,omitempty"`
	// DrillID labels the drill's Chaos Mesh objects.
	// +optional
	DrillID string `json:"drillID,omitempty"`
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty"`
	// InjectedTime is when the injection started.
	// +optional
	InjectedTime *metav1.Time `json:"injectedTime,omitempty"`
	// +optional
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`
	// +optional
	Verdict DrillVerdict `json:"verdict,omitempty"`
	// FailedStep is the phase an aborted or failed drill stopped in.
	// +optional
	FailedStep string `json:"failedStep,omitempty"`
	// Message says in one line what happened last.
	// +optional
	Message string `json:"message,omitempty"`
	// Predicted is check's prediction for the drill's scenario.
	// +optional
	Predicted *Figures `json:"predicted,omitempty"`
	// Observed is what the ledger saw.
	// +optional
	Observed *Figures `json:"observed,omitempty"`
	// Agreement of prediction and observation: agree, disagree,
	// not-observed, no-prediction or no-scenario.
	// +optional
	Agreement string `json:"agreement,omitempty"`
	// ChaosObjects the drill created (kind/name).
	// +optional
	ChaosObjects []string `json:"chaosObjects,omitempty"`
	// Orphaned names faults that could not be removed; the finalizer
	// stays until they are.
	// +optional
	Orphaned []string `json:"orphaned,omitempty"`
	// ResultConfigMap holds the full drill result (result.json).
	// +optional
	ResultConfigMap string `json:"resultConfigMap,omitempty"`
}

// Figures are a drill's RTO and RPO, predicted or observed.
type Figures struct {
	// RTO: empty when writes did not (or are not predicted to) resume.
	// +optional
	RTO string `json:"rto,omitempty"`
	// AckedLost is the number of acknowledged records lost (observed),
	// or of partitions that may lose some (predicted).
	// +optional
	AckedLost int64 `json:"ackedLost"`
	// +optional
	Duplicates int64 `json:"duplicates,omitempty"`
	// ReadRTO is the consumer group's read RTO (predicted: a range when
	// it depends on what was in flight); empty without a group, or when
	// reads did not (are not predicted to) resume.
	// +optional
	ReadRTO string `json:"readRto,omitempty"`
	// ReadAgain and Skipped are the records the group read twice and
	// skipped (observed).
	// +optional
	ReadAgain int64 `json:"readAgain,omitempty"`
	// +optional
	Skipped int64 `json:"skipped,omitempty"`
}

// FailoverDrill is one drill of a StretchCluster: a DC fault through Chaos
// Mesh with the ledger measuring RTO and RPO.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=fd,categories=stretchctl
// +kubebuilder:printcolumn:name="Cluster",type=string,JSONPath=`.spec.clusterRef.name`
// +kubebuilder:printcolumn:name="Fault",type=string,JSONPath=`.spec.fault`
// +kubebuilder:printcolumn:name="DC",type=string,JSONPath=`.spec.dc`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Verdict",type=string,JSONPath=`.status.verdict`
// +kubebuilder:printcolumn:name="Observed RTO",type=string,JSONPath=`.status.observed.rto`
// +kubebuilder:printcolumn:name="Predicted RTO",type=string,JSONPath=`.status.predicted.rto`
// +kubebuilder:printcolumn:name="Lost",type=integer,JSONPath=`.status.observed.ackedLost`
// +kubebuilder:printcolumn:name="Read RTO",type=string,JSONPath=`.status.observed.readRto`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type FailoverDrill struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   FailoverDrillSpec   `json:"spec,omitempty"`
	Status FailoverDrillStatus `json:"status,omitempty"`
}

// FailoverDrillList is a list of FailoverDrills.
//
// +kubebuilder:object:root=true
type FailoverDrillList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []FailoverDrill `json:"items"`
}

func init() {
	SchemeBuilder.Register(&FailoverDrill{}, &FailoverDrillList{})
}
