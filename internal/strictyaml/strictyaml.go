// Package strictyaml decodes the harness's hand-written YAML files (target,
// enrolment and expect files) strictly: a key the struct does not know is an
// error naming the key and its line, never silently ignored — a misspelt
// `submision:` must not read as a missing submission endpoint.
package strictyaml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Decode decodes data into v, refusing unknown keys. An empty document
// leaves v as it is. The error is one line per problem, each naming the
// line of the file: `line 2: unknown key "submision"`.
func Decode(data []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(v)
	if err == nil || errors.Is(err, io.EOF) {
		return nil
	}
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
	}
	msgs := make([]string, len(te.Errors))
	for i, m := range te.Errors {
		msgs[i] = friendly(m)
	}
	return errors.New(strings.Join(msgs, "; "))
}

// yaml.v3 says `line 2: field submision not found in type probe.Target` and
// `line 1: cannot unmarshal !!str `abc` into int`: say what a user wrote.
var (
	unknownField = regexp.MustCompile(`^(line \d+): field (.+) not found in type \S+$`)
	wrongType    = regexp.MustCompile(`^(line \d+): cannot unmarshal !!(\w+) (.*?)\s*into (\S+)$`)
)

func friendly(m string) string {
	if g := unknownField.FindStringSubmatch(m); g != nil {
		return fmt.Sprintf("%s: unknown key %q", g[1], g[2])
	}
	if g := wrongType.FindStringSubmatch(m); g != nil {
		return strings.Join(strings.Fields(fmt.Sprintf("%s: %s %s where %s is expected", g[1], kind(g[2]), g[3], goKind(g[4]))), " ")
	}
	return m
}

func kind(tag string) string {
	switch tag {
	case "seq":
		return "a list"
	case "map":
		return "a mapping"
	case "str":
		return "the string"
	}
	return "the " + tag
}

// goKind names a Go destination type in YAML terms.
func goKind(t string) string {
	switch {
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map["):
		return "a mapping"
	case strings.HasPrefix(t, "int") || strings.HasPrefix(t, "uint"):
		return "a number"
	case t == "bool":
		return "true or false"
	case t == "string":
		return "a string"
	}
	return "a mapping" // a struct
}
