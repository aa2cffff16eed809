package provider

import (
	"fmt"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/reference/queue"
)

func TestFailureNotice(t *testing.T) {
	reply := func(code int, enh smtp.EnhancedCode, msg string) error {
		return fmt.Errorf("%w: %w", queue.ErrPermanent, &smtp.SMTPError{Code: code, EnhancedCode: enh, Message: msg})
	}
	for _, c := range []struct {
		err    error
		errore pec.Errore
		prefix string
	}{
		{reply(550, smtp.EnhancedCode{5, 1, 1}, "user unknown"), pec.ErroreNoDest, "5.1.1 - Alpha - "},
		{reply(550, smtp.EnhancedCode{5, 1, 2}, "no such domain"), pec.ErroreNoDominio, "5.1.2 - Alpha - "},
		{reply(554, smtp.NoEnhancedCode, "go away"), pec.ErroreAltro, "5.0.0 - Alpha - "},
		{fmt.Errorf("%w for nowhere.test", queue.ErrNoRoute), pec.ErroreNoDominio, "5.1.2 - Alpha - dominio di destinazione non raggiungibile: nowhere.test"},
		{fmt.Errorf("%w after 24h: timeout", queue.ErrExpired), pec.ErroreAltro, "4.4.7 - Alpha - "},
		{reply(550, smtp.EnhancedCode{5, 7, 1}, "spam\x00\r\n"+strings.Repeat("z", 500)), pec.ErroreAltro, "5.7.1 - Alpha - "},
	} {
		errore, esteso := failureNotice(c.err, "carol@nowhere.test", "Alpha")
		if errore != c.errore || !strings.HasPrefix(esteso, c.prefix) || len(esteso) > 320 ||
			strings.ContainsAny(esteso, "\x00\r\n") {
			t.Errorf("%v: %s %q", c.err, errore, esteso)
		}
	}
}
