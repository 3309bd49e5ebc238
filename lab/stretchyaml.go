package lab

import (
	"fmt"
	"os"
	"strconv"

	"github.com/stretchctl/stretchctl/config"
)

// Config returns a stretch.yaml configuration for the lab: its brokers,
// its DCs, which DC each KRaft voter sits in, and default goals.
func (st *State) Config() *config.Config {
	c := config.Default()
	c.Cluster.Name = "lab-" + st.ClusterID[:8]
	c.Cluster.Bootstrap = st.BootstrapServers()
	c.Cluster.KafkaVersion = st.KafkaVersion
	// A secured lab: the tool's own principal, which holds only the ACLs
	// of access.Required; files named relative to stretch.yaml.
	tool := st.clusterAs(asTool, "")
	c.Cluster.TLS, c.Cluster.SASL = tool.TLS, tool.SASL
	c.Topology.DCs = append([]string(nil), st.Layout.DCs...)
	c.Topology.Controllers = map[string]string{}
	for _, v := range st.Layout.Voters() {
		c.Topology.Controllers[strconv.Itoa(int(v.ID))] = v.DC
		c.Cluster.Controllers = append(c.Cluster.Controllers, v.ControllerAddr())
	}
	return c
}

// writeConfig writes the lab's stretch.yaml and checks that it parses.
func writeConfig(path string, st *State) error {
	b, err := st.Config().Marshal()
	if err != nil {
		return err
	}
	header := fmt.Sprintf("# stretch.yaml for the stretchctl lab in %s (%s, Kafka %s).\n# Written by `stretchctl lab up`; removed by `stretchctl lab down`.\n", st.Dir, st.Topology, st.KafkaVersion)
	b = append([]byte(header), b...)
	if _, err := config.Parse(path, b); err != nil {
		return fmt.Errorf("generated config does not validate: %w", err)
	}
	return os.WriteFile(path, b, 0o644)
}
