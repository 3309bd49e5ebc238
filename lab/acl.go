package lab

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/stretchctl/stretchctl/access"
	"github.com/stretchctl/stretchctl/probe"
)

// grantToolACLs gives the tool's principal the ACLs of access.Required,
// and nothing else, as the nodes' own (super) user.
func (l *Lab) grantToolACLs(ctx context.Context, st *State) error {
	opts, err := probe.FranzConnection(st.clusterAs(asNodes, st.Dir), probe.Options{})
	if err != nil {
		return err
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	for _, a := range access.Required() {
		b, err := aclBuilder(a, "User:"+ToolUser)
		if err != nil {
			return err
		}
		results, err := adm.CreateACLs(ctx, b)
		if err != nil {
			return fmt.Errorf("grant %s ACLs on %s %q: %w", ToolUser, a.Resource, a.Name, err)
		}
		for _, r := range results {
			if r.Err != nil {
				return fmt.Errorf("grant %s %v on %s %q: %w %s", ToolUser, r.Operation, a.Resource, a.Name, r.Err, r.ErrMessage)
			}
		}
	}
	l.progress("granted %s its %d ACLs (stretchctl acls lists them)", "User:"+ToolUser, len(access.Required()))
	return nil
}

// aclBuilder turns one access.ACL into franz-go's ACL builder.
func aclBuilder(a access.ACL, principal string) (*kadm.ACLBuilder, error) {
	b := kadm.NewACLs().Allow(principal)
	switch a.Resource {
	case access.Cluster:
		b.Clusters()
	case access.Topic:
		b.Topics(a.Name)
	case access.Group:
		b.Groups(a.Name)
	case access.TransactionalID:
		b.TransactionalIDs(a.Name)
	default:
		return nil, fmt.Errorf("ACL on unknown resource type %q", a.Resource)
	}
	if a.Pattern == access.Prefixed {
		b.ResourcePatternType(kadm.ACLPatternPrefixed)
	}
	ops := map[access.Operation]kadm.ACLOperation{
		access.Describe: kadm.OpDescribe, access.DescribeConfigs: kadm.OpDescribeConfigs, access.Create: kadm.OpCreate,
		access.Alter: kadm.OpAlter, access.Read: kadm.OpRead, access.Write: kadm.OpWrite,
	}
	var list []kadm.ACLOperation
	for _, op := range a.Operations {
		k, ok := ops[op]
		if !ok {
			return nil, errors.New("ACL with unknown operation " + string(op))
		}
		list = append(list, k)
	}
	return b.Operations(list...), nil
}
