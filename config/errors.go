package config

import (
	"strconv"
	"strings"
)

// Problem is one thing wrong with a config file, positioned at the YAML node it concerns.
type Problem struct {
	File    string // file name as given to Load or Parse
	Line    int    // 1-based line, 0 when unknown
	Column  int    // 1-based column, 0 when unknown
	Field   string // dotted field path such as goals.rto or clients[0].file; empty for file-level problems
	Message string
}

// String formats the problem as "file:line:col: field: message", leaving out unknown parts.
func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			b.WriteString(":" + strconv.Itoa(p.Line))
			if p.Column > 0 {
				b.WriteString(":" + strconv.Itoa(p.Column))
			}
		}
		b.WriteString(": ")
	}
	if p.Field != "" {
		b.WriteString(p.Field + ": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Error is returned by Load, Parse and Validate for an invalid config; it lists every problem found, in file order.
type Error struct {
	Problems []Problem
}

// Error returns the problems one per line.
func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}
