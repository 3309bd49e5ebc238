package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/stretchctl/stretchctl/internal/boundedfile"
)

// maxProblems bounds how many problems one Parse reports.
const maxProblems = 100

// Load reads and parses the config file at path; see Parse.
func Load(path string) (*Config, error) {
	data, err := boundedfile.Read(path, MaxConfigBytes)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// MaxConfigBytes bounds a stretch.yaml (they are a few kilobytes).
const MaxConfigBytes = 4 << 20

// Parse decodes stretch.yaml content strictly (unknown fields are errors),
// fills in defaults, normalises names and validates the result. name is used
// in error messages and as the base for relative paths in the file. Any
// problem is returned as an *Error listing all problems found.
func Parse(name string, data []byte) (*Config, error) {
	display := name
	if display == "" {
		display = "<input>"
	}
	d := &decoder{
		file:   display,
		failed: map[string]bool{},
		values: map[string]*yaml.Node{},
		keys:   map[string]*yaml.Node{},
	}
	root, ok := d.document(data)
	if !ok {
		return nil, d.err()
	}
	d.values[""] = root

	c := Default()
	c.Path = name
	d.decode(root, reflect.ValueOf(c).Elem(), "")
	d.inheritPairBudgets(c)
	c.normalize()
	c.setDir(baseDir(name))

	k := &checker{file: display, loc: d, failed: d.failed}
	k.check(c)
	d.problems = append(d.problems, k.problems...)
	if len(d.problems) > 0 {
		return nil, d.err()
	}
	return c, nil
}

// baseDir returns the absolute directory of the config file name.
func baseDir(name string) string {
	dir := filepath.Dir(name)
	if abs, err := filepath.Abs(dir); err == nil {
		return abs
	}
	return dir
}

// decoder turns a yaml.Node tree into a Config, recording problems and the
// node of every field path it visits (for positions in later validation).
type decoder struct {
	file     string
	problems []Problem
	overflow bool
	failed   map[string]bool       // paths whose value could not be decoded
	values   map[string]*yaml.Node // path -> value node as written (may be an alias)
	keys     map[string]*yaml.Node // path -> mapping key node
}

func (d *decoder) err() error {
	sort.SliceStable(d.problems, func(i, j int) bool {
		a, b := d.problems[i], d.problems[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	ps := d.problems
	if len(ps) > maxProblems {
		ps = ps[:maxProblems]
		d.overflow = true
	}
	if d.overflow {
		ps = append(ps, Problem{File: d.file, Message: fmt.Sprintf("too many problems; only the first %d are shown", maxProblems)})
	}
	return &Error{Problems: ps}
}

func (d *decoder) add(n *yaml.Node, path, msg string) {
	if len(d.problems) >= maxProblems {
		d.overflow = true
		return
	}
	p := Problem{File: d.file, Field: path, Message: msg}
	if n != nil {
		p.Line, p.Column = n.Line, n.Column
	}
	d.problems = append(d.problems, p)
}

// fail records a problem with the value at path and marks path as undecodable.
func (d *decoder) fail(n *yaml.Node, path, msg string) {
	d.failed[path] = true
	d.add(n, path, msg)
}

// document parses data and returns the top-level mapping node.
func (d *decoder) document(data []byte) (*yaml.Node, bool) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			d.empty()
		} else {
			d.syntax(data, err)
		}
		return nil, false
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		d.syntax(data, err)
		return nil, false
	default:
		if len(extra.Content) > 0 && !isNull(extra.Content[0]) {
			d.add(&extra, "", "file holds more than one YAML document; stretch.yaml must hold exactly one")
			return nil, false
		}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			d.empty()
			return nil, false
		}
		root = root.Content[0]
	}
	n := deref(root)
	switch {
	case n == nil:
		d.add(root, "", "unresolvable alias at top level")
		return nil, false
	case isNull(n):
		d.empty()
		return nil, false
	case n.Kind != yaml.MappingNode:
		d.add(root, "", "expected a mapping with cluster, topology and goals at the top level, got "+describe(n))
		return nil, false
	}
	return root, true
}

// empty records that the file holds no document (only comments, or null).
func (d *decoder) empty() {
	d.problems = append(d.problems, Problem{File: d.file, Line: 1, Column: 1,
		Message: "file is empty; expected a mapping with cluster, topology and goals"})
}

// syntax records a YAML syntax error. yaml.v3 reports only a line, and for
// parser (as opposed to scanner) errors that line is zero-based, so it is
// corrected here; a missing line means the first one. Errors in the byte
// stream and unknown aliases carry no position at all, so they are located
// by scanning the input.
func (d *decoder) syntax(data []byte, err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	p := Problem{File: d.file}
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, text, ok := strings.Cut(rest, ": "); ok {
			if line, err := strconv.Atoi(num); err == nil && line > 0 {
				p.Line, msg = line, text
			}
		}
	}
	switch {
	case isParserProblem(msg):
		p.Line++
	case strings.HasPrefix(msg, "unknown anchor '"):
		name := strings.TrimSuffix(strings.TrimPrefix(msg, "unknown anchor '"), "' referenced")
		p.Line, p.Column = locate(data, bytes.Index(data, []byte("*"+name)))
	case isReaderProblem(msg):
		p.Line, p.Column = locate(data, badByte(data))
	case p.Line == 0:
		p.Line = 1
	}
	p.Message = "invalid YAML: " + msg
	d.problems = append(d.problems, p)
}

// isParserProblem reports whether msg is one of the yaml.v3 parser (not scanner) error messages.
func isParserProblem(msg string) bool {
	switch msg {
	case "did not find expected <stream-start>", "did not find expected <document start>",
		"did not find expected node content", "did not find expected '-' indicator",
		"did not find expected key", "did not find expected ',' or ']'", "did not find expected ',' or '}'",
		"found duplicate %YAML directive", "found incompatible YAML document",
		"found duplicate %TAG directive", "found undefined tag handle":
		return true
	}
	return false
}

// isReaderProblem reports whether msg is a yaml.v3 error about the encoding of the input.
func isReaderProblem(msg string) bool {
	return strings.Contains(msg, "UTF-8") || strings.Contains(msg, "UTF-16") ||
		strings.Contains(msg, "surrogate") || msg == "invalid Unicode character" ||
		msg == "control characters are not allowed" || strings.HasPrefix(msg, "input error: ")
}

// badByte returns the offset of the first byte that is not valid UTF-8 or is
// a character YAML does not allow, or -1.
func badByte(data []byte) int {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			return i
		case r == '\t' || r == '\n' || r == '\r' || r == 0x85,
			r >= 0x20 && r <= 0x7e, r >= 0xa0 && r <= 0xd7ff,
			r >= 0xe000 && r <= 0xfffd, r >= 0x10000 && r <= 0x10ffff:
		default:
			return i
		}
		i += size
	}
	return -1
}

// locate turns a byte offset into a 1-based line and column (counting
// runes); a negative offset gives 0, 0.
func locate(data []byte, off int) (line, col int) {
	if off < 0 || off > len(data) {
		return 0, 0
	}
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = utf8.RuneCount(before[bytes.LastIndexByte(before, '\n')+1:]) + 1
	return line, col
}

// deref follows alias nodes; it returns nil for a dangling alias.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode; i++ {
		if i > 64 {
			return nil
		}
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names a node's kind and value for "got ..." messages.
func describe(n *yaml.Node) string {
	n = deref(n)
	if n == nil {
		return "an unresolvable alias"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch tag := n.ShortTag(); tag {
		case "!!null":
			return "null"
		case "!!str":
			return "the string " + quote(n.Value)
		case "!!int", "!!float":
			return "the number " + clip(n.Value)
		case "!!bool":
			return clip(n.Value)
		default:
			return "a " + tag + " value"
		}
	}
	return "an unsupported YAML node"
}

// quote returns s quoted, shortened when long.
func quote(s string) string { return strconv.Quote(clip(s)) }

// clip shortens s to about 60 bytes for messages, on a rune boundary.
func clip(s string) string {
	const limit = 60
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// Path building. Map keys made of [A-Za-z0-9_/-] are written as .key, others as ["key"].

func fieldPath(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

func indexPath(parent string, i int) string { return parent + "[" + strconv.Itoa(i) + "]" }

func keyPath(parent, key string) string {
	simple := key != ""
	for _, r := range key {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '/') {
			simple = false
			break
		}
	}
	if simple {
		return fieldPath(parent, key)
	}
	return parent + "[" + strconv.Quote(key) + "]"
}

// defaulter is implemented by types that need defaults on new list elements or map values.
type defaulter interface{ setDefaults() }

// decode stores node n (possibly an alias) into v. A null node leaves v
// unchanged, which keeps defaults for fields written without a value.
func (d *decoder) decode(orig *yaml.Node, v reflect.Value, path string) bool {
	d.values[path] = orig
	n := deref(orig)
	if n == nil {
		d.fail(orig, path, "alias cannot be resolved")
		return false
	}
	if isNull(n) {
		return true
	}
	if v.Type() == reflect.TypeFor[Duration]() {
		dur, msg := durationFromNode(n)
		if msg != "" {
			d.fail(orig, path, msg)
			return false
		}
		v.Set(reflect.ValueOf(*dur))
		return true
	}
	switch v.Kind() {
	case reflect.Pointer:
		elem := reflect.New(v.Type().Elem())
		if !v.IsNil() {
			elem.Elem().Set(v.Elem())
		} else if df, ok := elem.Interface().(defaulter); ok {
			df.setDefaults()
		}
		if d.decode(orig, elem.Elem(), path) {
			v.Set(elem)
			return true
		}
		return false
	case reflect.Struct:
		return d.decodeStruct(orig, n, v, path)
	case reflect.Slice:
		return d.decodeSlice(orig, n, v, path)
	case reflect.Map:
		return d.decodeMap(orig, n, v, path)
	case reflect.String:
		s, ok := scalarString(n)
		if !ok {
			d.fail(orig, path, "expected a string, got "+describe(n))
			return false
		}
		v.SetString(s)
		return true
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
			d.fail(orig, path, "expected true or false, got "+describe(n))
			return false
		}
		v.SetBool(b)
		return true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var i int64
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&i) != nil || v.OverflowInt(i) {
			d.fail(orig, path, "expected an integer, got "+describe(n))
			return false
		}
		v.SetInt(i)
		return true
	}
	d.fail(orig, path, "internal error: cannot decode into "+v.Type().String())
	return false
}

// scalarString returns the text of a scalar usable as a string: plain
// numbers, booleans and timestamps are taken as written.
func scalarString(n *yaml.Node) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		return "", false
	}
	switch n.ShortTag() {
	case "!!str", "!!int", "!!float", "!!bool", "!!timestamp":
		return n.Value, true
	case "!!null":
		return "", true
	}
	return "", false
}

// yamlFields lists the decodable fields of struct type t by yaml name.
func yamlFields(t reflect.Type) (names []string, index map[string]int) {
	index = map[string]int{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		names = append(names, name)
		index[name] = i
	}
	return names, index
}

// mappingKey checks a mapping key node; merge keys and non-scalar keys are rejected.
func (d *decoder) mappingKey(k *yaml.Node, path string) (*yaml.Node, bool) {
	kn := deref(k)
	switch {
	case kn == nil:
		d.fail(k, path, "alias cannot be resolved")
	case kn.Kind == yaml.ScalarNode && kn.ShortTag() == "!!merge":
		d.fail(k, path, "merge keys (<<) are not supported; write the fields out")
	case kn.Kind != yaml.ScalarNode:
		d.fail(k, path, "mapping keys must be plain strings, got "+describe(kn))
	default:
		return kn, true
	}
	return nil, false
}

func (d *decoder) decodeStruct(orig, n *yaml.Node, v reflect.Value, path string) bool {
	if n.Kind != yaml.MappingNode {
		d.fail(orig, path, "expected a mapping, got "+describe(n))
		return false
	}
	names, index := yamlFields(v.Type())
	seen := map[string]*yaml.Node{}
	var suggested []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, ok := d.mappingKey(n.Content[i], path)
		if !ok {
			continue
		}
		name := k.Value
		fp := fieldPath(path, name)
		fi, known := index[name]
		if !known {
			if len(d.problems) >= maxProblems {
				d.overflow = true
				continue
			}
			msg, suggestion := unknownField(name, names)
			d.add(n.Content[i], fp, msg)
			if suggestion != "" {
				suggested = append(suggested, suggestion)
			}
			continue
		}
		if first, dup := seen[name]; dup {
			d.fail(n.Content[i], fp, fmt.Sprintf("field set twice (first at line %d)", first.Line))
			continue
		}
		seen[name] = k
		d.keys[fp] = n.Content[i]
		d.decode(n.Content[i+1], v.Field(fi), fp)
	}
	// A misspelt field was most likely meant to be the suggested one: do not
	// also report that one as missing or invalid.
	for _, name := range suggested {
		if _, set := seen[name]; !set {
			d.failed[fieldPath(path, name)] = true
		}
	}
	return true
}

func (d *decoder) decodeSlice(orig, n *yaml.Node, v reflect.Value, path string) bool {
	if n.Kind != yaml.SequenceNode {
		d.fail(orig, path, "expected a list, got "+describe(n))
		return false
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		e := s.Index(i)
		if df, ok := e.Addr().Interface().(defaulter); ok {
			df.setDefaults()
		}
		d.decode(item, e, indexPath(path, i))
	}
	v.Set(s)
	return true
}

func (d *decoder) decodeMap(orig, n *yaml.Node, v reflect.Value, path string) bool {
	if n.Kind != yaml.MappingNode {
		d.fail(orig, path, "expected a mapping, got "+describe(n))
		return false
	}
	t := v.Type()
	m := reflect.MakeMapWithSize(t, len(n.Content)/2)
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, ok := d.mappingKey(n.Content[i], path)
		if !ok {
			continue
		}
		key := reflect.New(t.Key()).Elem()
		var keyStr string
		switch t.Key().Kind() {
		case reflect.String:
			s, ok := scalarString(k)
			if !ok {
				d.fail(n.Content[i], keyPath(path, k.Value), "expected a string key, got "+describe(k))
				continue
			}
			key.SetString(s)
			keyStr = s
		case reflect.Int32, reflect.Int64, reflect.Int:
			id, ok := intKey(k)
			if !ok || key.OverflowInt(id) {
				d.fail(n.Content[i], keyPath(path, k.Value), "expected an integer node id as key, got "+describe(k))
				continue
			}
			key.SetInt(id)
			keyStr = strconv.FormatInt(id, 10)
		default:
			d.fail(n.Content[i], path, "internal error: unsupported map key type "+t.Key().String())
			return false
		}
		kp := keyPath(path, keyStr)
		if first, dup := seen[keyStr]; dup {
			d.fail(n.Content[i], kp, fmt.Sprintf("key set twice (first at line %d)", first.Line))
			continue
		}
		seen[keyStr] = k
		d.keys[kp] = n.Content[i]
		val := reflect.New(t.Elem())
		if df, ok := val.Interface().(defaulter); ok {
			df.setDefaults()
		}
		d.decode(n.Content[i+1], val.Elem(), kp)
		m.SetMapIndex(key, val.Elem())
	}
	v.Set(m)
	return true
}

// intKey parses an integer mapping key; quoted decimal keys are accepted too.
func intKey(k *yaml.Node) (int64, bool) {
	switch k.ShortTag() {
	case "!!int":
		var i int64
		if k.Decode(&i) != nil {
			return 0, false
		}
		return i, true
	case "!!str":
		i, err := strconv.ParseInt(k.Value, 10, 64)
		return i, err == nil
	}
	return 0, false
}

// unknownField builds the message for an unknown field and returns the
// suggested known name, if any.
func unknownField(name string, known []string) (msg, suggestion string) {
	lower := strings.ToLower(name)
	best, bestDist := "", -1
	for _, k := range known {
		dist := editDistance(lower, strings.ToLower(k))
		if bestDist < 0 || dist < bestDist {
			best, bestDist = k, dist
		}
	}
	limit := min(max(len(name)/3, 1), 3)
	if bestDist >= 0 && bestDist <= limit {
		return fmt.Sprintf("unknown field (did you mean %q?)", best), best
	}
	// Fall back to a prefix match ("warning" -> "warn", "kafka" -> "kafkaVersion").
	if len(lower) >= 3 {
		for _, k := range known {
			lk := strings.ToLower(k)
			if strings.HasPrefix(lower, lk) || strings.HasPrefix(lk, lower) {
				return fmt.Sprintf("unknown field (did you mean %q?)", k), k
			}
		}
	}
	return "unknown field (known fields: " + strings.Join(known, ", ") + ")", ""
}

// editDistance is the optimal string alignment distance (Levenshtein plus adjacent transpositions).
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		return 1 << 20
	}
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// present reports whether path was written with a non-null value.
func (d *decoder) present(path string) bool {
	n, ok := d.values[path]
	if !ok {
		return false
	}
	n = deref(n)
	return n != nil && !isNull(n)
}

// inheritPairBudgets fills warn/fail absent from a pair override with the global budget.
func (d *decoder) inheritPairBudgets(c *Config) {
	lat := &c.Goals.Latency
	for key, p := range lat.Pairs {
		pp := keyPath("goals.latency.pairs", key)
		if !d.present(fieldPath(pp, "warn")) {
			p.Warn = lat.Warn
		}
		if !d.present(fieldPath(pp, "fail")) {
			p.Fail = lat.Fail
		}
		lat.Pairs[key] = p
	}
}

// position returns where to report a problem about path: the value node if
// path was written, else the key of the nearest written parent (or the
// parent mapping itself for list items and the top level).
func (d *decoder) position(path string, wantKey bool) (line, col int) {
	if wantKey {
		if k, ok := d.keys[path]; ok {
			return k.Line, k.Column
		}
	}
	if n, ok := d.values[path]; ok {
		if dn := deref(n); dn != nil && isNull(dn) {
			if k, ok := d.keys[path]; ok {
				return k.Line, k.Column
			}
		}
		return n.Line, n.Column
	}
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] != '.' && path[i] != '[' {
			continue
		}
		parent := path[:i]
		if k, ok := d.keys[parent]; ok {
			return k.Line, k.Column
		}
		if n, ok := d.values[parent]; ok {
			return n.Line, n.Column
		}
	}
	if n, ok := d.values[""]; ok {
		return n.Line, n.Column
	}
	return 1, 1
}

// raw returns the scalar text written at path, or "" if none.
func (d *decoder) raw(path string) (string, bool) {
	n, ok := d.values[path]
	if !ok {
		return "", false
	}
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode || isNull(n) {
		return "", false
	}
	return n.Value, true
}
