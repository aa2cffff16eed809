package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The CI and Kubernetes examples of docs/ are checked here as far as an
// offline machine can (no kubectl, no GitHub): each file parses as YAML, has
// the fields its engine documents with the values sharding needs, the
// shard count agrees everywhere, and every pecspec command line in them
// parses with the CLI's own flags.

// yamlDocs reads every YAML document of a file as generic maps.
func yamlDocs(t *testing.T, file string) []map[string]any {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var docs []map[string]any
	dec := yaml.NewDecoder(f)
	for {
		var d map[string]any
		if err := dec.Decode(&d); err != nil {
			if errors.Is(err, io.EOF) {
				return docs
			}
			t.Fatalf("%s: %v", file, err)
		}
		docs = append(docs, d)
	}
}

// at walks a path of keys (string) and indexes (int) into a YAML value.
func at(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

var pecspecCmd = regexp.MustCompile(`pecspec(?:/bin/pecspec)? (run|matrix|report merge|lab up)((?: [^|;&\n]*)?)`)

// checkCommands parses every pecspec command line of script with the CLI's
// flag parsers, shell variables given the values in vars.
func checkCommands(t *testing.T, where, script string, vars map[string]string) int {
	t.Helper()
	n := 0
	for _, m := range pecspecCmd.FindAllStringSubmatch(script, -1) {
		line := m[2]
		for k, v := range vars {
			line = strings.ReplaceAll(line, k, v)
		}
		args := strings.Fields(strings.ReplaceAll(line, `"`, ""))
		var err error
		switch m[1] {
		case "run":
			_, err = parseRun(args)
		case "matrix":
			_, err = parseMatrix(args)
		case "report merge":
			if len(args) == 0 {
				t.Errorf("%s: report merge without directories", where)
			}
		case "lab up":
			if !slices.Contains(args, "--enrol") || !slices.Contains(args, "--dir") {
				t.Errorf("%s: lab up %v: want --enrol and --dir", where, args)
			}
		}
		if err != nil {
			t.Errorf("%s: pecspec %s%s: %v", where, m[1], m[2], err)
		}
		n++
	}
	return n
}

// TestGitHubActionsExample: docs/ci/github-actions.yml is a workflow whose
// suite job runs one shard per strategy.matrix entry, uploads each shard's
// reports even when it fails, and whose report job needs it, downloads them
// all and merges them.
func TestGitHubActionsExample(t *testing.T) {
	docs := yamlDocs(t, filepath.Join("..", "..", "docs", "ci", "github-actions.yml"))
	if len(docs) != 1 {
		t.Fatalf("%d documents, want 1", len(docs))
	}
	w := docs[0]
	if str(w["name"]) == "" || w["on"] == nil || at(w, "jobs") == nil {
		t.Fatalf("not a workflow: name %v, on %v, jobs %v", w["name"], w["on"], w["jobs"])
	}
	shards, err := strconv.Atoi(str(at(w, "env", "SHARDS")))
	if err != nil || shards < 2 {
		t.Fatalf("env.SHARDS %v: %v", at(w, "env", "SHARDS"), err)
	}
	suite, report := at(w, "jobs", "suite"), at(w, "jobs", "report")
	list, _ := at(suite, "strategy", "matrix", "shard").([]any)
	for i, v := range list {
		if n, ok := v.(int); !ok || n != i+1 {
			t.Errorf("strategy.matrix.shard[%d] = %v, want %d", i, v, i+1)
		}
	}
	if len(list) != shards || at(suite, "strategy", "fail-fast") != false || str(at(suite, "runs-on")) == "" {
		t.Errorf("suite: %d shards for SHARDS=%d, fail-fast %v, runs-on %v", len(list), shards, at(suite, "strategy", "fail-fast"), at(suite, "runs-on"))
	}
	vars := map[string]string{"${{ matrix.shard }}": "1", "$SHARDS": strconv.Itoa(shards), "$target": "--target reference",
		"$expect": "", "$PUT_FILE": "acme.yaml"}
	steps := stepsOf(t, suite)
	upload := findStep(steps, "actions/upload-artifact@")
	if upload == nil || str(upload["if"]) != "always()" || !strings.Contains(str(at(upload, "with", "name")), "${{ matrix.shard }}") {
		t.Errorf("suite: upload step %v: want if always() and a name per shard", upload)
	}
	if n := checkCommands(t, "suite", runScripts(steps), vars); n < 2 {
		t.Errorf("suite: %d pecspec commands, want lab up and run", n)
	}
	if !strings.Contains(runScripts(steps), "--shard ${{ matrix.shard }}/$SHARDS") {
		t.Errorf("suite: no pecspec run --shard ${{ matrix.shard }}/$SHARDS")
	}
	if str(at(report, "needs")) != "suite" || str(at(report, "if")) != "always()" {
		t.Errorf("report: needs %v, if %v; want suite and always()", at(report, "needs"), at(report, "if"))
	}
	rsteps := stepsOf(t, report)
	download := findStep(rsteps, "actions/download-artifact@")
	if download == nil || !strings.HasPrefix(str(at(download, "with", "pattern")), "pecspec-shard-") ||
		!strings.Contains(str(at(upload, "with", "name")), strings.TrimSuffix(str(at(download, "with", "pattern")), "*")) {
		t.Errorf("report: download step %v does not take the shards' artifacts %v", download, at(upload, "with", "name"))
	}
	if findStep(rsteps, "actions/upload-artifact@") == nil || !strings.Contains(runScripts(rsteps), "report merge") {
		t.Errorf("report: no merge or no upload of the merged reports")
	}
	checkCommands(t, "report", runScripts(rsteps), vars)
}

func stepsOf(t *testing.T, job any) []map[string]any {
	t.Helper()
	raw, _ := at(job, "steps").([]any)
	var out []map[string]any
	for _, s := range raw {
		m, ok := s.(map[string]any)
		if !ok || (m["uses"] == nil && m["run"] == nil) {
			t.Errorf("step %v has neither uses nor run", s)
			continue
		}
		out = append(out, m)
	}
	return out
}

func findStep(steps []map[string]any, uses string) map[string]any {
	for _, s := range steps {
		if strings.HasPrefix(str(s["uses"]), uses) {
			return s
		}
	}
	return nil
}

func runScripts(steps []map[string]any) string {
	var b strings.Builder
	for _, s := range steps {
		b.WriteString(str(s["run"]) + "\n")
	}
	return b.String()
}

// TestKubernetesExamples: docs/k8s/ holds an Indexed Job whose pods run one
// shard each from JOB_COMPLETION_INDEX, a merge Job, and the volume both
// mount (ReadWriteMany: pods on several nodes).
func TestKubernetesExamples(t *testing.T) {
	dir := filepath.Join("..", "..", "docs", "k8s")
	byKind := map[string]map[string]any{}
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	for _, f := range files {
		for _, d := range yamlDocs(t, f) {
			if str(d["apiVersion"]) == "" || str(d["kind"]) == "" || str(at(d, "metadata", "name")) == "" {
				t.Errorf("%s: a document without apiVersion, kind and metadata.name", f)
			}
			byKind[str(d["kind"])+"/"+str(at(d, "metadata", "name"))] = d
		}
	}
	shards, merge, pvc := byKind["Job/pecspec-shards"], byKind["Job/pecspec-merge"], byKind["PersistentVolumeClaim/pecspec-results"]
	if shards == nil || merge == nil || pvc == nil {
		t.Fatalf("docs/k8s: want Job/pecspec-shards, Job/pecspec-merge and PersistentVolumeClaim/pecspec-results; have %v", keys(byKind))
	}
	for _, job := range []map[string]any{shards, merge} {
		if str(job["apiVersion"]) != "batch/v1" || str(at(job, "spec", "template", "spec", "restartPolicy")) != "Never" {
			t.Errorf("%s: apiVersion %v, restartPolicy %v; want batch/v1 and Never", at(job, "metadata", "name"),
				job["apiVersion"], at(job, "spec", "template", "spec", "restartPolicy"))
		}
		if claim := str(at(job, "spec", "template", "spec", "volumes", 0, "persistentVolumeClaim", "claimName")); claim != "pecspec-results" {
			t.Errorf("%s: its first volume is claim %q, want pecspec-results", at(job, "metadata", "name"), claim)
		}
	}
	completions, _ := at(shards, "spec", "completions").(int)
	parallelism, _ := at(shards, "spec", "parallelism").(int)
	if str(at(shards, "spec", "completionMode")) != "Indexed" || completions < 2 || parallelism < 1 || parallelism > completions {
		t.Errorf("shards: completionMode %v, completions %v, parallelism %v", at(shards, "spec", "completionMode"), completions, parallelism)
	}
	c := at(shards, "spec", "template", "spec", "containers", 0)
	if env := str(at(c, "env", 0, "value")); str(at(c, "env", 0, "name")) != "SHARDS" || env != strconv.Itoa(completions) {
		t.Errorf("shards: env %v, want SHARDS = completions (%d)", at(c, "env"), completions)
	}
	script := str(at(c, "args", 0))
	if !strings.Contains(script, "JOB_COMPLETION_INDEX") || !strings.Contains(script, `--shard "$i/$SHARDS"`) {
		t.Errorf("shards: the script does not take its shard from JOB_COMPLETION_INDEX:\n%s", script)
	}
	if str(at(c, "volumeMounts", 0, "mountPath")) != "/results" || !strings.Contains(script, "/results/shard-$i") {
		t.Errorf("shards: reports not written to the shared volume")
	}
	vars := map[string]string{"$i": "1", "$SHARDS": strconv.Itoa(completions)}
	if checkCommands(t, "shards", script, vars) != 1 {
		t.Errorf("shards: want one pecspec command")
	}
	mscript := str(at(merge, "spec", "template", "spec", "containers", 0, "args", 0))
	if !strings.Contains(mscript, "report merge") || !strings.Contains(mscript, "/results/shard-*") {
		t.Errorf("merge: %q does not merge the shards' reports", mscript)
	}
	modes, _ := at(pvc, "spec", "accessModes").([]any)
	if !slices.Contains(modes, any("ReadWriteMany")) || str(at(pvc, "spec", "resources", "requests", "storage")) == "" {
		t.Errorf("pvc: accessModes %v, storage %v", modes, at(pvc, "spec", "resources", "requests", "storage"))
	}
}

func keys(m map[string]map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
