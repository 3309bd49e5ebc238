package access

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// TestRequiredIsLeastPrivilege: nothing that changes the cluster beyond
// the tool's own topics, no Alter on the cluster (it would allow creating
// ACLs and moving replicas), and a reason for every ACL.
func TestRequiredIsLeastPrivilege(t *testing.T) {
	for _, a := range Required() {
		if len(a.Operations) == 0 || a.Why == "" {
			t.Errorf("%+v: no operation or no reason", a)
		}
		if a.Resource == Cluster && slices.Contains(a.Operations, Alter) {
			t.Errorf("Alter on the cluster is required: %+v", a)
		}
		for _, op := range []Operation{Create, Alter} {
			if slices.Contains(a.Operations, op) && !(a.Resource == Topic && a.Name == InternalPrefix && a.Pattern == Prefixed) {
				t.Errorf("%s on %s %q: only the tool's own topics may be created or altered", op, a.Resource, a.Name)
			}
		}
		if a.Name == "*" && slices.ContainsFunc(a.Operations, func(op Operation) bool { return op != Describe && op != DescribeConfigs }) {
			t.Errorf("%+v: more than describing on every %s", a, a.Resource)
		}
	}
}

func TestCommands(t *testing.T) {
	got := Commands([]ACL{
		{Cluster, "kafka-cluster", Literal, []Operation{Describe}, "x"},
		{TransactionalID, Prefix, Prefixed, []Operation{Write, Describe}, "y"},
	}, "User:svc", "b:9093", "admin.properties")
	want := []string{
		"kafka-acls.sh --bootstrap-server b:9093 --command-config admin.properties --add --allow-principal User:svc --operation Describe --cluster",
		"kafka-acls.sh --bootstrap-server b:9093 --command-config admin.properties --add --allow-principal User:svc --operation Write --operation Describe --transactional-id 'stretchctl-' --resource-pattern-type prefixed",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Commands:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestREADMEListsTheACLs keeps the README's ACL section true to Required.
func TestREADMEListsTheACLs(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range Commands(Required(), "User:stretchctl", "BROKER:9093", "admin.properties") {
		if !strings.Contains(string(b), c) {
			t.Errorf("README.md lacks:\n%s\n(run `stretchctl acls --format commands` and paste its output)", c)
		}
	}
}
