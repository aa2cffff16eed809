package report

import "sort"

// Requirement is one rule of pec-rules §9, whether the grader judges it on
// messages (a Rule of the Catalogue) or a scenario checks it by driving the
// target (Scope "protocol", "index", "log" or "infra").
type Requirement struct {
	ID      string `json:"id"`
	Level   Level  `json:"level"`
	Section string `json:"section"`
	Title   string `json:"title"`
	// MessageLevel is true for the rules the grader judges on captured
	// messages or transactions (the Catalogue).
	MessageLevel bool   `json:"message_level"`
	Scope        string `json:"scope"`
}

// Requirements returns every rule of pec-rules §9, sorted by ID: the
// Catalogue and the rules outside it.
func Requirements() []Requirement {
	var out []Requirement
	for _, r := range Catalogue() {
		out = append(out, Requirement{ID: r.ID, Level: r.Level, Section: r.Section, Title: r.Title, MessageLevel: true, Scope: "message"})
	}
	for _, r := range procedural {
		out = append(out, Requirement{ID: r.id, Level: r.level, Section: r.section, Title: r.title, Scope: scopeOf(r.id)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func scopeOf(id string) string {
	switch id[:3] {
	case "APC":
		return "protocol"
	case "IDX":
		return "index"
	case "LOG":
		return "log"
	}
	return "infra"
}

// procedural are the rules of pec-rules §9 that no single message shows: how
// the access point answers a submission (APC), the index (IDX), the registro
// (LOG) and operations (OPS, TIM-08/09). Scenarios check them by driving
// the target; the table gives their level and section for the reports.
var procedural = []struct {
	id      string
	level   Level
	section string
	title   string
}{
	{"APC-01", Must, "RFC6109 §5.2", "Unauthenticated submission is refused"},
	{"APC-02", Must, "RFC6109 §5.3", "Submission over a non-secure channel is refused"},
	{"APC-03", Must, "RFC6109 §3.1.1", "Missing/invalid From: → non-accettazione"},
	{"APC-04", Must, "RFC6109 §3.1.1", "Missing/invalid To: → non-accettazione"},
	{"APC-05", Must, "RFC6109 §3.1.1", "MAIL FROM ≠ From address → non-accettazione"},
	{"APC-06", Must, "RFC6109 §3.1.1", "RCPT TO set ≠ To∪Cc set → non-accettazione"},
	{"APC-07", Must, "RFC6109 §3.1.1", "Non-empty Bcc: → non-accettazione"},
	{"APC-08", Must, "RFC6109 §3.1.1–2", "size × recipients above provider limit (30 MB reference) → non-accettazione (or SMTP error if far above)"},
	{"APC-09", Must, "RFC6109 §3.1.3; DPR68 art.12", "EICAR-style test virus → non-accettazione per virus"},
	{"APC-10", Must, "RFC6109 §2.2.1", "Client Message-ID replaced by PEC msgid in envelope and inner postacert.eml"},
	{"APC-11", Must, "RFC6109 §5.2", "Sender address congruent with the authenticated account (spoofed From refused)"},
	{"APC-12", Must, "RFC6109 §3.4; DM2005 art.6 c.5", "Same-domain sender/recipient still produces accettazione, busta, consegna"},
	{"TIM-08", Must, "RFC6109 §2.2.2", "SMTP queue lifetime for PEC traffic = 24 h"},
	{"TIM-09", Must, "DM2005 art.9 c.2", "All times within 1 s of UTC (compare Date/daticert with a trusted clock at capture)"},
	{"IDX-01", Must, "RFC6109 §4.5, §4.5.9", "Provider main record DN providerName=<name>,o=postacert, objectClass provider"},
	{"IDX-02", Must, "RFC6109 §4.5.9", "MUST attributes present: providerCertificateHash, providerCertificate, providerName, mailReceipt, managedDomains"},
	{"IDX-03", Must, "RFC6109 §4.5, §4.5.1", "Each providerCertificateHash = hex SHA-1 of a providerCertificate value (1:1)"},
	{"IDX-04", Must, "RFC6109 §4.5.3", "providerName single-valued and present in every record"},
	{"IDX-05", Must, "RFC6109 §4.5.4", "mailReceipt single-valued, bare addr-spec (dot-atom@dot-atom)"},
	{"IDX-06", Must, "RFC6109 §4.5.5", "managedDomains values are dot-atom domains"},
	{"IDX-07", Must, "RFC6109 §4.5.6", "LDIFLocationURL is https:// and single-valued (main record / root only)"},
	{"IDX-08", Must, "RFC6109 §4.5.6–7", "Secondary-environment records carry providerUnit and no LDIFLocationURL"},
	{"IDX-09", Must, "RFC6109 §4.5, §4.5.6", "Published LDIF is a DER PKCS#7 signed-data .p7m, UTF-8 LDIF inside, signature valid with the provider cert"},
	{"IDX-10", Must, "RFC6109 §4.5", "The LDIF of the main environment includes all the provider's records"},
	{"IDX-11", Must, "RFC6109 §4.5", "Certificate renewal: new cert added with validity overlapping the old one before expiry"},
	{"IDX-12", Must, "RFC6109 §2.2.1", "Every domain appearing as PEC sender domain of the provider's users is in managedDomains"},
	{"IDX-13", Must, "RFC6109 §2.2.1–2, schema EQUALITY", "Hash/domain comparisons performed case-insensitively"},
	{"LOG-01", Must, "RFC6109 §2.3", "Log record per operation with msgid, date/time, sender, recipients, subject, event type, related message IDs, sending provider"},
	{"LOG-02", Must, "RFC6109 §2.3", "Logs kept 30 months, unmodified"},
	{"LOG-03", Must, "RFC6109 §4.1", "Log timestamp == receipt/envelope timestamp of the same event"},
	{"OPS-01", Must, "RFC6109 §2.2.4; DPR68 art.12", "Virus-infected messages kept in a dedicated store for 30 months"},
	{"OPS-02", Must, "RFC6109 §5.3", "Incoming Point announces STARTTLS and also accepts plaintext SMTP"},
	{"OPS-03", Must, "RFC6109 §5.3", "MX hosts for PEC domains are all under provider control"},
	{"OPS-04", Must, "RFC6109 §5.4", "Antivirus installed and continuously updated"},
	{"OPS-05", Must, "RFC6109 §4.5", "Local index copy refreshed at least daily"},
	{"OPS-06", Should, "RFC6109 §5.1", "Private signing key in a hardware module"},
}
