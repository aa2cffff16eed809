package lab

import (
	"fmt"

	"github.com/pecspec/pecspec/reference/mailbox"
	"github.com/pecspec/pecspec/reference/provider"
)

// Bulk accounts: every domain of the lab (alpha, beta, the external domain)
// has the mailboxes carico001 … carico200, with one password per lab, for the
// 500-recipient scenario of @flow-limits and for `pecspec load` from many
// accounts. The target files declare them (bulk_accounts) instead of
// listing them.
const (
	BulkPrefix = "carico"
	BulkCount  = 200
)

// bulk is the target-file declaration of the bulk accounts (probe.BulkAccounts).
type bulk struct {
	Prefix   string `yaml:"prefix"`
	Count    int    `yaml:"count"`
	Password string `yaml:"password"`
}

func (l *Lab) bulkPassword() string {
	if l.bulkPass == "" {
		l.bulkPass = secret()
	}
	return l.bulkPass
}

func (l *Lab) bulk() *bulk {
	return &bulk{Prefix: BulkPrefix, Count: BulkCount, Password: l.bulkPassword()}
}

// BulkAccounts are domain's bulk mailboxes.
func (l *Lab) BulkAccounts(domain string) []Account {
	out := make([]Account, 0, BulkCount)
	for n := 1; n <= BulkCount; n++ {
		out = append(out, Account{Address: fmt.Sprintf("%s%03d@%s", BulkPrefix, n, domain), Password: l.bulkPassword()})
	}
	return out
}

// bulkUsers are an instance's bulk mailboxes in its configuration.
func (l *Lab) bulkUsers(domain string) []provider.User {
	var out []provider.User
	for _, a := range l.BulkAccounts(domain) {
		out = append(out, provider.User{Address: a.Address, Password: a.Password})
	}
	return out
}

// addBulk creates the external domain's bulk mailboxes in st.
func (l *Lab) addBulk(st *mailbox.Store, domain string) error {
	for _, a := range l.BulkAccounts(domain) {
		if err := st.AddMailbox(a.Address); err != nil {
			return fmt.Errorf("%w: external: %v", ErrLab, err)
		}
	}
	return nil
}

// maxMessageBytes is the limit the instances apply and the target files
// declare: size × recipients (RFC 6109 §3.1.1), 30 MB unless raised.
func (l *Lab) maxMessageBytes() int64 {
	if l.maxTotal > 0 {
		return l.maxTotal
	}
	return 30 << 20
}
