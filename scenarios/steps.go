package scenarios

import (
	"github.com/cucumber/godog"
)

// StepResult is one Gherkin step of a scenario as it ran: its keyword and
// text, and its status (passed, failed, skipped, undefined, pending; a step
// after a failed one is skipped).
type StepResult struct {
	Keyword string `json:"keyword"`
	Text    string `json:"text"`
	Status  string `json:"status"`
	id      string // godog's pickle step id
}

// stepsOf lists the scenario's steps, all skipped until they run, with the
// keywords the feature file gives them.
func (r *runner) stepsOf(s *godog.Scenario) []StepResult {
	var keywords []string
	for _, p := range r.pickles {
		if p.Feature == s.Uri && p.Name == s.Name && len(p.Keywords) == len(s.Steps) {
			keywords = p.Keywords
			break
		}
	}
	out := make([]StepResult, len(s.Steps))
	for i, st := range s.Steps {
		out[i] = StepResult{Text: st.Text, Status: "skipped", id: st.Id, Keyword: "*"}
		if keywords != nil && keywords[i] != "" {
			out[i].Keyword = keywords[i]
		}
	}
	return out
}

// setStep records the status of the step with godog's id.
func (res *ScenarioResult) setStep(id string, st godog.StepResultStatus) {
	for i := range res.Steps {
		if res.Steps[i].id == id {
			res.Steps[i].Status = st.String()
			return
		}
	}
}

// featureName is the title of the feature in file uri.
func (r *runner) featureName(uri string) string {
	for _, p := range r.pickles {
		if p.Feature == uri {
			return p.FeatureTitle
		}
	}
	return ""
}
