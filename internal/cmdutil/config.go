package cmdutil

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
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

// yamlParserProblems are the messages of go-yaml v3's parser errors (its
// parserc.go), as opposed to its scanner errors. go-yaml numbers the lines
// of parser errors from 0 and those of scanner errors from 1, and gives
// only the message, so the message tells them apart. A parser error whose
// construct opens on the first line is numbered by where the problem is,
// which can be the end of the file: hence the clamp to the last line.
var yamlParserProblems = map[string]bool{
	"did not find expected <stream-start>":   true,
	"did not find expected <document start>": true,
	"did not find expected node content":     true,
	"did not find expected '-' indicator":    true,
	"did not find expected key":              true,
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"found undefined tag handle":             true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found duplicate %TAG directive":         true,
}

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
			if yamlParserProblems[msg] {
				lines := strings.Count(strings.TrimSuffix(string(data), "\n"), "\n") + 1
				ce.Line = min(ce.Line+1, lines)
			}
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
		if first, ok := cf.Lines[key]; ok {
			// YAML forbids it, and go-yaml's Node keeps both: the later
			// one would win silently over the one the user may be editing.
			return nil, WithHint(&ConfigError{Path: path, Line: kn.Line, Err: fmt.Errorf("key %q is already set on line %d", key, first)},
				"keep one of the two lines")
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

// ReadConfigFile finds the config file (FindConfigFile) and parses it
// (ParseConfigFile); nil when there is none.
func ReadConfigFile(explicit string, env Env, known []string, renamed map[string]string) (*ConfigFile, error) {
	if explicit == "" {
		explicit = env.ConfigFile()
	}
	path, err := FindConfigFile(explicit, env)
	if err != nil || path == "" {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, WithHint(&ConfigError{Path: path, Err: errors.Unwrap(err)}, "check --config")
	}
	return ParseConfigFile(path, b, known, renamed)
}

// FindConfigFile resolves --config, else ./ddbops.yaml, else
// $XDG_CONFIG_HOME/ddbops/config.yaml (~/.config when unset). An explicit
// file must exist; the implicit ones are optional.
func FindConfigFile(explicit string, env Env) (string, error) {
	if explicit != "" {
		if _, err := os.Stat(explicit); err != nil {
			return "", &ConfigError{Path: explicit, Err: errors.Unwrap(err)}
		}
		return explicit, nil
	}
	if _, err := os.Stat("ddbops.yaml"); err == nil {
		return "ddbops.yaml", nil
	}
	dir := env.XDGConfigHome()
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", nil
		}
		dir = filepath.Join(home, ".config")
	}
	p := filepath.Join(dir, "ddbops", "config.yaml")
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	return "", nil
}

// Sources say where the settings a user gave explicitly came from: a flag,
// an environment variable or a line of the config file. A key without a
// source has its embedded default.
type Sources struct {
	of    map[string]string // key → "--memory", "$DDBOPS_MEMORY", "ddbops.yaml line 3"
	file  string
	lines map[string]int
}

// NewSources starts with the keys of cf (nil: no config file).
func NewSources(cf *ConfigFile) *Sources {
	s := &Sources{of: map[string]string{}, lines: map[string]int{}}
	if cf != nil {
		s.file, s.lines = cf.Path, cf.Lines
		for k, line := range cf.Lines {
			s.of[k] = fmt.Sprintf("%s line %d", cf.Path, line)
		}
	}
	return s
}

// Set records that key came from source ("--memory", "$DDBOPS_MEMORY").
func (s *Sources) Set(key, source string) { s.of[key] = source }

// Of names where key's value came from, "" for the embedded default.
func (s *Sources) Of(key string) string {
	if s == nil {
		return ""
	}
	return s.of[key]
}

// Invalid is the usage error of a bad value of key: err as the config
// file's (a *ConfigError naming its line, without a command's usage line)
// when it came from there, else usage(source) naming the environment
// variable or flag ("the default" for none).
func (s *Sources) Invalid(key string, err error, usage func(source string) error) error {
	src := s.Of(key)
	if s != nil && s.file != "" && src == fmt.Sprintf("%s line %d", s.file, s.lines[key]) {
		return &ConfigError{Path: s.file, Line: s.lines[key], Err: err}
	}
	if src == "" {
		src = "the default"
	}
	return usage(src)
}
