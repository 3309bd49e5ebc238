package config

import (
	"fmt"
	"os"
	"strings"
)

// MissingFiles lists the files the config names that cannot be read —
// client files, TLS files, the SASL password file — each with its field
// and why. Parse does not look at them (a config is valid without the
// files being there, as in a CRD); `config validate` does.
func (c *Config) MissingFiles() []string {
	var out []string
	check := func(field, path string) {
		if path == "" {
			return
		}
		fi, err := os.Stat(path)
		switch {
		case err != nil:
			out = append(out, fmt.Sprintf("%s: %v", field, err))
		case !fi.Mode().IsRegular():
			out = append(out, fmt.Sprintf("%s: %s is not a regular file", field, path))
		}
	}
	if t := c.Cluster.TLS; t != nil {
		check("cluster.tls.caFile", t.CAPath())
		check("cluster.tls.certFile", t.CertPath())
		check("cluster.tls.keyFile", t.KeyPath())
	}
	if s := c.Cluster.SASL; s != nil && s.PasswordFile != "" {
		check("cluster.sasl.passwordFile", resolve(s.dir, s.PasswordFile))
	}
	if s := c.Cluster.SASL; s != nil && s.PasswordEnv != "" {
		if _, ok := os.LookupEnv(s.PasswordEnv); !ok {
			out = append(out, fmt.Sprintf("cluster.sasl.passwordEnv: $%s is not set", strings.TrimPrefix(s.PasswordEnv, "$")))
		}
	}
	for i, cl := range c.Clients {
		check(fmt.Sprintf("clients[%d].file", i), cl.Path())
	}
	return out
}
