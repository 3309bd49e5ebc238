package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/stretchctl/stretchctl/access"
)

func newACLsCmd(io IO) *cobra.Command {
	var format, principal, bootstrap, adminConfig string
	optional := false
	cmd := &cobra.Command{
		Use:   "acls",
		Short: "List the Kafka ACLs stretchctl needs, or print the kafka-acls commands that grant them",
		Long: `List the ACLs a principal needs to run every stretchctl command (snapshot,
check, probe and its agents, drills with consumer groups and transactions)
on a cluster with an authorizer, and nothing more: no Alter on the cluster
(--optional lists it: it would let the probe elect leaders, and also create
ACLs).

--format commands prints one kafka-acls.sh command per ACL, for the principal
(--principal) and the cluster (--bootstrap) given, run with an admin's client
properties (--command-config). The lab grants exactly these ACLs to
User:stretchctl when it runs with --security ssl or sasl_ssl.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			acls := access.Required()
			if optional {
				acls = append(acls, access.Optional()...)
			}
			switch format {
			case "text":
				tw := tabwriter.NewWriter(io.Out, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "RESOURCE\tNAME\tPATTERN\tOPERATIONS\tWHY")
				for _, a := range acls {
					ops := make([]string, len(a.Operations))
					for i, op := range a.Operations {
						ops[i] = string(op)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.Resource, a.Name, a.Pattern, strings.Join(ops, ","), a.Why)
				}
				return tw.Flush()
			case "json":
				enc := json.NewEncoder(io.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(acls)
			case "commands":
				if !strings.Contains(principal, ":") {
					return exitErr(ExitAssess, fmt.Errorf("--principal %q: want TYPE:NAME, e.g. User:stretchctl", principal))
				}
				for _, c := range access.Commands(acls, principal, bootstrap, adminConfig) {
					fmt.Fprintln(io.Out, c)
				}
				return nil
			}
			return exitErr(ExitAssess, fmt.Errorf("--format %q: want text, json or commands", format))
		},
	}
	f := cmd.Flags()
	f.StringVar(&format, "format", "text", "text, json or commands")
	f.BoolVar(&optional, "optional", false, "also list the optional ACLs")
	f.StringVar(&principal, "principal", "User:stretchctl", "principal to grant (with --format commands)")
	f.StringVar(&bootstrap, "bootstrap", "BROKER:9093", "bootstrap server (with --format commands)")
	f.StringVar(&adminConfig, "command-config", "admin.properties", "an admin's client properties (with --format commands)")
	return cmd
}
