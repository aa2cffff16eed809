package scenarios

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// copyEvidence copies every dir's evidence/<scenario>/ folder into
// out/evidence/: each scenario ran in one shard, so no folder comes twice.
func copyEvidence(out string, dirs []string) error {
	for _, d := range dirs {
		src := filepath.Join(d, "evidence")
		entries, err := os.ReadDir(src)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("%w: %v", ErrMerge, err)
		}
		for _, e := range entries {
			dst := filepath.Join(out, "evidence", e.Name())
			if _, err := os.Stat(dst); err == nil {
				return fmt.Errorf("%w: evidence/%s comes from two inputs (%s and an earlier one)", ErrMerge, e.Name(), d)
			}
			if err := copyTree(filepath.Join(src, e.Name()), dst); err != nil {
				return fmt.Errorf("%w: %v", ErrMerge, err)
			}
		}
	}
	return nil
}

// copyTree copies the files under src to dst.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		return copyFile(path, target)
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	return errors.Join(err, out.Close())
}

// renumberPeer copies what gamma received in each input, peer/<nnn>.eml
// with its <nnn>.json, into out/peer/ numbered on from one input to the
// next, so that every file keeps a unique number.
func renumberPeer(out string, dirs []string) error {
	n := 0
	for _, d := range dirs {
		emls, _ := filepath.Glob(filepath.Join(d, "peer", "*.eml"))
		sort.Strings(emls)
		for _, eml := range emls {
			n++
			if n == 1 {
				if err := os.MkdirAll(filepath.Join(out, "peer"), 0o755); err != nil {
					return fmt.Errorf("%w: %v", ErrMerge, err)
				}
			}
			base := filepath.Join(out, "peer", fmt.Sprintf("%03d", n))
			err := copyFile(eml, base+".eml")
			if meta := strings.TrimSuffix(eml, ".eml") + ".json"; err == nil {
				if _, statErr := os.Stat(meta); statErr == nil {
					err = copyFile(meta, base+".json")
				}
			}
			if err != nil {
				return fmt.Errorf("%w: %v", ErrMerge, err)
			}
		}
	}
	return nil
}

func writeXML(path string, v any) error {
	data, err := xml.MarshalIndent(v, "", "  ")
	if err == nil {
		err = os.WriteFile(path, append([]byte(xml.Header), append(data, '\n')...), 0o644)
	}
	if err != nil {
		return fmt.Errorf("%w: %v", ErrHarness, err)
	}
	return nil
}

func number(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

// mergeCucumber joins the inputs' cucumber.json: one feature per feature
// file, with the scenarios of every shard in the order of their lines.
func mergeCucumber(out string, dirs []string) error {
	var joined []map[string]any
	byURI := map[string]map[string]any{}
	for _, d := range dirs {
		data, err := os.ReadFile(filepath.Join(d, "cucumber.json"))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		var in []map[string]any
		if err == nil {
			err = json.Unmarshal(data, &in)
		}
		if err != nil {
			return fmt.Errorf("%w: %s/cucumber.json: %v", ErrMerge, d, err)
		}
		for _, f := range in {
			uri, _ := f["uri"].(string)
			uri = featureOf(uri) // a shard's uri carries the line it selected
			f["uri"] = uri
			if have := byURI[uri]; have != nil {
				have["elements"] = append(elements(have), elements(f)...)
				continue
			}
			byURI[uri] = f
			joined = append(joined, f)
		}
	}
	if joined == nil {
		return nil
	}
	for _, f := range joined {
		els := elements(f)
		sort.SliceStable(els, func(i, j int) bool { return number(fmt.Sprint(els[i]["line"])) < number(fmt.Sprint(els[j]["line"])) })
		f["elements"] = els
	}
	sort.SliceStable(joined, func(i, j int) bool { return joined[i]["uri"].(string) < joined[j]["uri"].(string) })
	return writeJSONFile(filepath.Join(out, "cucumber.json"), joined)
}

func elements(f map[string]any) []map[string]any {
	var out []map[string]any
	switch els := f["elements"].(type) {
	case []any:
		for _, e := range els {
			if m, ok := e.(map[string]any); ok {
				out = append(out, m)
			}
		}
	case []map[string]any:
		out = els
	}
	return out
}
