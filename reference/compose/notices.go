package compose

// The texts of the notices that tell the sender something went wrong. Each
// carries the data items its RFC 6109 model lists (pec-rules A23) and states
// f.Error verbatim, which is also the daticert errore-esteso (NAC-04, VIR-04).

func (f Facts) about(lead string) string {
	return f.when() + " " + lead + "\n" +
		quoted(f.Subject) + " proveniente da " + quoted(f.Sender) + "\n"
}

func (f Facts) toOne() string { return "ed indirizzato a " + quoted(f.Recipient) + "\n" }

// TextNonAccettazione is the body of the avviso di non accettazione (RFC 6109
// §3.1.2); with virus set, of the avviso di non accettazione per virus (§3.1.3).
func TextNonAccettazione(f Facts, virus bool) string {
	title, problem := "Avviso di non accettazione",
		"è stato rilevato un problema che ne impedisce l'accettazione a causa di: "
	if virus {
		title, problem = "Avviso di non accettazione per virus",
			"è stato rilevato un problema di sicurezza: "
	}
	return title + "\n\n" + f.about("nel messaggio") + "ed indirizzato a:\n" + f.list(false) +
		problem + f.Error + "\n" +
		"Il messaggio non è stato accettato.\n" + f.idLine()
}

// TextPreavviso is the body of the avviso di mancata consegna per superamento
// dei tempi massimi (RFC 6109 §3.1.6): after 12 hours it announces a second
// notice, after 24 it declares the transaction failed (TIM-07). The 12 h text
// never speaks of 24 hours, so the two are told apart.
func TextPreavviso(f Facts, hours int) string {
	s := "Avviso di mancata consegna per superamento dei tempi massimi\n\n" + f.about("il messaggio") + f.toOne()
	if hours < 24 {
		return s + "non è stato consegnato nelle prime 12 ore dalla sua spedizione.\n" +
			"Pur non escludendo che il messaggio possa essere consegnato in seguito, si ritiene utile\n" +
			"considerare che l'invio potrebbe non avere esito positivo.\n" +
			"Il sistema invierà un ulteriore avviso se nelle successive dodici ore non\n" +
			"riceverà conferma della consegna dal destinatario.\n" + f.idLine()
	}
	return s + "non è stato consegnato entro 24 ore dalla sua spedizione.\n" +
		"La transazione è da considerarsi conclusa con esito negativo.\n" + f.idLine()
}

// TextRilevazioneVirus is the body of the avviso di rilevazione virus (RFC 6109
// §3.2.3): for one recipient, with the detected content.
func TextRilevazioneVirus(f Facts) string {
	return "Avviso di rilevazione virus\n\n" + f.about("nel messaggio") + f.toOne() +
		"è stato rilevato un problema di sicurezza: " + f.Error + "\n" + f.idLine()
}

// TextErroreConsegnaVirus is the body of the avviso di mancata consegna per
// virus (RFC 6109 §3.2.4).
func TextErroreConsegnaVirus(f Facts) string {
	return "Avviso di mancata consegna per virus\n\n" + f.about("nel messaggio") + f.toOne() +
		"è stato rilevato un problema di sicurezza: " + f.Error + "\n" +
		"Il messaggio non è stato consegnato.\n" + f.idLine()
}
