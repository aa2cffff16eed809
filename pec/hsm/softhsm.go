package hsm

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// WriteSoftHSMConf writes a private SoftHSM2 configuration in dir (tokens in
// dir/tokens, file backend) and returns its path; use it as SOFTHSM2_CONF.
func WriteSoftHSMConf(dir string) (string, error) {
	tokens := filepath.Join(dir, "tokens")
	if err := os.MkdirAll(tokens, 0o700); err != nil {
		return "", fmt.Errorf("%w: %v", ErrHSM, err)
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	body := "directories.tokendir = " + tokens + "\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n"
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		return "", fmt.Errorf("%w: %v", ErrHSM, err)
	}
	return conf, nil
}

// InitSoftHSMToken initialises a new token in the first free slot with
// softhsm2-util.
func InitSoftHSMToken(conf, label, soPIN, pin string) error {
	cmd := exec.Command("softhsm2-util", "--init-token", "--free", "--label", label, "--so-pin", soPIN, "--pin", pin)
	cmd.Env = append(os.Environ(), "SOFTHSM2_CONF="+conf)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%w: softhsm2-util --init-token: %v: %s", ErrHSM, err, out)
	}
	return nil
}
