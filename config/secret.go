package config

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/stretchctl/stretchctl/internal/boundedfile"
)

// maxPasswordFile bounds how much of a password file is read.
const maxPasswordFile = 64 << 10

// Password reads the SASL password from PasswordFile (resolved against the
// config file's directory, trailing newlines trimmed) or from the environment
// variable PasswordEnv. Errors name the file or variable but never include
// any of its content.
func (s SASL) Password() (string, error) {
	switch {
	case s.PasswordFile != "" && s.PasswordEnv != "":
		return "", errors.New("sasl: set only one of passwordFile and passwordEnv")
	case s.PasswordFile != "":
		path := resolve(s.dir, s.PasswordFile)
		data, err := boundedfile.Read(path, maxPasswordFile)
		if err != nil {
			return "", fmt.Errorf("sasl: read password file: %w", err)
		}
		pw := strings.TrimRight(string(data), "\r\n")
		if pw == "" {
			return "", fmt.Errorf("sasl: password file %s is empty", path)
		}
		return pw, nil
	case s.PasswordEnv != "":
		pw, ok := os.LookupEnv(s.PasswordEnv)
		if !ok {
			return "", fmt.Errorf("sasl: environment variable %s is not set", s.PasswordEnv)
		}
		if pw == "" {
			return "", fmt.Errorf("sasl: environment variable %s is empty", s.PasswordEnv)
		}
		return pw, nil
	}
	return "", errors.New("sasl: neither passwordFile nor passwordEnv is set")
}

// String describes the SASL settings and where the password comes from, never the password.
func (s SASL) String() string {
	src := "not set"
	switch {
	case s.PasswordFile != "":
		src = "from file " + s.PasswordFile
	case s.PasswordEnv != "":
		src = "from env " + s.PasswordEnv
	}
	return fmt.Sprintf("SASL{mechanism: %s, username: %s, password: %s}", s.Mechanism, s.Username, src)
}

// GoString is String, so that %#v does not print unexpected fields either.
func (s SASL) GoString() string { return s.String() }
