package strictyaml

import "testing"

type endpoint struct {
	Host string `yaml:"host"`
	Port int    `yaml:"port"`
}

type file struct {
	Name       string     `yaml:"name"`
	Submission endpoint   `yaml:"submission"`
	Accounts   []endpoint `yaml:"accounts"`
	On         bool       `yaml:"on"`
}

func TestDecode(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"name: x\nsubmision: {host: a}\n", `line 2: unknown key "submision"`},
		{"name: x\nsubmission: {hots: a, port: 1}\n", `line 2: unknown key "hots"`},
		{"accounts:\n - {host: a, prot: 3}\n", `line 2: unknown key "prot"`},
		{"submission: {port: abc}\n", "line 1: the string `abc` where a number is expected"},
		{"accounts: {host: a}\n", "line 1: a mapping where a list is expected"},
		{"- a\n", "line 1: a list where a mapping is expected"},
		{"name: [\n", "line 1: did not find expected node content"},
		{"name: x\nfoo: 1\nbar: 2\n", `line 2: unknown key "foo"; line 3: unknown key "bar"`},
	} {
		var f file
		err := Decode([]byte(tc.in), &f)
		if err == nil || err.Error() != tc.want {
			t.Errorf("Decode(%q) = %v, want %s", tc.in, err, tc.want)
		}
	}
	var f file
	if err := Decode([]byte("name: x\nsubmission: {host: h, port: 25}\n"), &f); err != nil || f.Submission.Port != 25 {
		t.Errorf("a good file: %+v, %v", f, err)
	}
	if err := Decode(nil, &f); err != nil {
		t.Errorf("an empty file: %v", err)
	}
}
