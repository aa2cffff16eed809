package probe

import (
	"fmt"
	"strings"
)

// BulkAccounts describe numbered test mailboxes of one domain that share a
// password: <prefix>001@<domain> … <prefix><count>@<domain> (at least three
// digits, zero-padded). A provider declares them in its target file for the
// 500-recipient scenario (@flow-limits) and for load from many accounts; the
// lab creates carico001…carico200 in every domain it serves.
type BulkAccounts struct {
	Prefix   string `yaml:"prefix"`
	Count    int    `yaml:"count"`
	Password string `yaml:"password"`
}

// Account returns bulk account n (1 ≤ n ≤ Count) of domain.
func (b *BulkAccounts) Account(domain string, n int) (Account, error) {
	if b == nil || n < 1 || n > b.Count {
		return Account{}, fmt.Errorf("%w: no bulk account %d (the target file declares %d)", ErrTarget, n, b.len())
	}
	return Account{Address: fmt.Sprintf("%s%03d@%s", b.Prefix, n, domain), Password: b.Password}, nil
}

func (b *BulkAccounts) len() int {
	if b == nil {
		return 0
	}
	return b.Count
}

// Check reports a declaration that cannot make addresses.
func (b *BulkAccounts) Check(owner string) error {
	if b == nil {
		return nil
	}
	if b.Prefix == "" || strings.ContainsAny(b.Prefix, "@ \t") || b.Count < 1 {
		return fmt.Errorf("%w: %s: bulk_accounts needs a prefix (no @ or space) and a count ≥ 1", ErrTarget, owner)
	}
	return nil
}

// The published service levels a provider commits to (Aruba's, in the
// project's sources): what Limits assumes when the target file declares none.
const (
	PublishedMaxMessageBytes = 50 << 20
	PublishedMaxRecipients   = 500
)

// Limits are the largest message and the most recipients the target
// declares, or the published levels.
func (t *Target) Limits() (maxBytes int64, maxRecipients int) {
	maxBytes, maxRecipients = t.MaxMessageBytes, t.MaxRecipients
	if maxBytes <= 0 {
		maxBytes = PublishedMaxMessageBytes
	}
	if maxRecipients <= 0 {
		maxRecipients = PublishedMaxRecipients
	}
	return maxBytes, maxRecipients
}
