package cmdutil

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ConfigError is a config file ddbops cannot use: a YAML syntax error, an
// unknown key, a value that does not parse. It is a usage error (exit 2)
// that names the file and line, and is not followed by a command's usage
// line (the command line was fine).
type ConfigError struct {
	Path string
	Line int // 0 = unknown
	Err  error
}

func (e *ConfigError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("config %s: line %d: %v", e.Path, e.Line, e.Err)
	}
	return fmt.Sprintf("config %s: %v", e.Path, e.Err)
}

func (e *ConfigError) Unwrap() error { return e.Err }

// yamlLine is the "yaml: line N: " prefix of go-yaml's syntax errors.
var yamlLine = regexp.MustCompile(`^yaml: (?:line (\d+): )?`)

// ConfigFile is a parsed config file: its values and the line of each key.
type ConfigFile struct {
	Path   string
	Values map[string]any
	Lines  map[string]int
}

// ParseConfigFile parses the YAML config file path holding data, checking
// every key against known: an unknown key is a *ConfigError naming its line,
// with the closest known key as a did-you-mean hint, and renamed maps old
// keys to a message saying what replaced them.
func ParseConfigFile(path string, data []byte, known []string, renamed map[string]string) (*ConfigFile, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		ce := &ConfigError{Path: path}
		msg := err.Error()
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			ce.Line, _ = strconv.Atoi(m[1])
			msg = msg[len(m[0]):]
		}
		ce.Err = fmt.Errorf("not valid YAML: %s", msg)
		return nil, WithHint(ce, "a config file is YAML: one \"key: value\" per line (docs/configuration.md)")
	}
	cf := &ConfigFile{Path: path, Values: map[string]any{}, Lines: map[string]int{}}
	if len(doc.Content) == 0 {
		return cf, nil // empty file
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, WithHint(&ConfigError{Path: path, Line: root.Line, Err: errors.New("not a mapping of keys to values")},
			"a config file is YAML: one \"key: value\" per line (docs/configuration.md)")
	}
	isKnown := map[string]bool{}
	for _, k := range known {
		isKnown[k] = true
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		kn, vn := root.Content[i], root.Content[i+1]
		key := kn.Value
		if !isKnown[key] {
			ce := &ConfigError{Path: path, Line: kn.Line, Err: fmt.Errorf("unknown key %q", key)}
			if msg, ok := renamed[key]; ok {
				return nil, WithHint(ce, msg)
			}
			if s := Suggest(key, known); s != "" {
				return nil, WithHint(ce, fmt.Sprintf("did you mean %q?", s))
			}
			return nil, WithHint(ce, "the keys are those of configs/ddbops.yaml (docs/configuration.md#keys)")
		}
		var v any
		if err := vn.Decode(&v); err != nil {
			return nil, &ConfigError{Path: path, Line: vn.Line, Err: fmt.Errorf("%s: %v", key, err)}
		}
		cf.Values[key], cf.Lines[key] = v, kn.Line
	}
	return cf, nil
}

// Suggest returns the candidate closest to word when it is a plausible
// typo of it (an edit distance of at most a third of its length, and at
// most 3), else "". Cobra does the same for command names; config keys
// and operations need it too.
func Suggest(word string, candidates []string) string {
	best, bestD := "", 4
	limit := max(1, min(3, len(word)/3))
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(word), c); d < bestD && d <= limit {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
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
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
