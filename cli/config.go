package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stretchctl/stretchctl/config"
)

// defaultConfigPath is where commands look for stretch.yaml without --config.
func defaultConfigPath() string {
	if p := os.Getenv("STRETCHCTL_CONFIG"); p != "" {
		return p
	}
	return "stretch.yaml"
}

// loadConfig reads a stretch.yaml; every problem becomes exit code 2 with
// its file, line, column and field.
func loadConfig(path string) (*config.Config, error) {
	c, err := config.Load(path)
	if err != nil {
		var cerr *config.Error
		if errors.As(err, &cerr) {
			return nil, exitErr(ExitAssess, fmt.Errorf("invalid config:\n%w", err))
		}
		return nil, exitErr(ExitAssess, fmt.Errorf("read config: %w", err))
	}
	return c, nil
}

func newConfigCmd(io IO) *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Validate stretch.yaml or show it with defaults filled in",
		Long: `stretch.yaml is read by every command: how to connect (cluster), where
brokers and controllers sit (topology), the RTO/RPO and latency goals (goals),
client .properties files (clients) and suppressed findings (ignore).
` + "`stretchctl lab up`" + ` writes one for the lab.`,
	}
	cmd.PersistentFlags().StringVarP(&path, "config", "c", defaultConfigPath(), "stretch.yaml to read")
	cmd.AddCommand(&cobra.Command{
		Use:   "validate",
		Short: "Check stretch.yaml and the files it names; every problem is shown with file:line:column or its field (exit 2)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := loadConfig(path)
			if err != nil {
				return err
			}
			if missing := c.MissingFiles(); len(missing) > 0 {
				return exitErr(ExitAssess, fmt.Errorf("%s: files it names cannot be read:\n  %s", path, strings.Join(missing, "\n  ")))
			}
			fmt.Fprintf(io.Out, "%s is valid: %d bootstrap servers, DCs %v, RPO %d, RTO %v\n",
				path, len(c.Cluster.Bootstrap), c.Topology.DCs, c.Goals.RPO, c.Goals.RTO)
			return nil
		},
	}, &cobra.Command{
		Use:   "show",
		Short: "Print stretch.yaml with every default filled in",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := loadConfig(path)
			if err != nil {
				return err
			}
			b, err := c.Marshal()
			if err != nil {
				return err
			}
			_, err = io.Out.Write(b)
			return err
		},
	})
	return cmd
}
