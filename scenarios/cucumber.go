package scenarios

import (
	"encoding/json"
	"fmt"
	"os"
)

// cucumber.json is godog's, rewritten after the run to agree with the exit
// code like junit.xml: the failed step of a scenario whose failures were all
// expected is skipped, its message giving the expect file's reason; every
// stale expectation is a scenario of its own whose step failed.
func fixCucumber(path string, s *Summary) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrHarness, err)
	}
	var feats []map[string]any
	if err := json.Unmarshal(data, &feats); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrHarness, path, err)
	}
	reasons := expectedOnly(s)
	for _, f := range feats {
		els, _ := f["elements"].([]any)
		for _, el := range els {
			e, _ := el.(map[string]any)
			name, _ := e["name"].(string)
			if reason, ok := reasons[name]; ok {
				skipFailedSteps(e, "expected failure ("+reason+")")
			}
		}
	}
	if stale := staleFeature(s); stale != nil {
		feats = append(feats, stale)
	}
	out, err := json.MarshalIndent(feats, "", "    ")
	if err != nil {
		return fmt.Errorf("%w: %v", ErrHarness, err)
	}
	return writeFile(path, append(out, '\n'))
}

// expectedOnly maps each failed scenario all of whose failures were
// expected to the reason of its first.
func expectedOnly(s *Summary) map[string]string {
	out := map[string]string{}
	for _, f := range s.Outcome.Expected {
		if _, ok := out[f.Scenario]; !ok {
			out[f.Scenario] = f.Reason
		}
	}
	for _, f := range s.Outcome.Unexpected {
		delete(out, f.Scenario)
	}
	return out
}

func skipFailedSteps(e map[string]any, why string) {
	steps, _ := e["steps"].([]any)
	for _, st := range steps {
		step, _ := st.(map[string]any)
		res, _ := step["result"].(map[string]any)
		if res != nil && res["status"] == "failed" {
			msg, _ := res["error_message"].(string)
			res["status"], res["error_message"] = "skipped", why+": "+msg
		}
	}
}

// staleFeature lists the stale expectations as failed scenarios.
func staleFeature(s *Summary) map[string]any {
	if len(s.Outcome.Stale) == 0 {
		return nil
	}
	var els []any
	for i, e := range s.Outcome.Stale {
		els = append(els, map[string]any{
			"id": fmt.Sprintf("expectations;stale-%d", i+1), "keyword": "Scenario", "type": "scenario",
			"name": "stale: " + e.describe(), "line": 0,
			"steps": []any{map[string]any{"keyword": "Then ", "name": "the expected failure happens", "line": 0,
				"result": map[string]any{"status": "failed",
					"error_message": "the expected failure did not happen (reason given: " + e.Reason + ")"}}},
		})
	}
	return map[string]any{"uri": "expect", "id": "expectations", "keyword": "Feature", "name": expectationsSuite,
		"line": 0, "elements": els}
}
