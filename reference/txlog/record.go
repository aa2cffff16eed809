// Package txlog is the provider's registro (RFC 6109 §2.3, pec-rules §6): an
// append-only log of every PEC event with the fields §2.3 lists (LOG-01),
// each carrying the same instant as the receipt or envelope it records
// (RFC 6109 §4.1, LOG-03), kept unmodified (LOG-02).
//
// Records are msgpack, framed by a 4-byte big-endian length, and chained: each
// carries the SHA-256 of its predecessor and its own hash over its encoded
// fields, so editing, removing or reordering any record breaks the chain.
// Removing records at the end leaves a valid chain; the head file (last
// sequence number and hash, rewritten after every durable append) catches that.
package txlog

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

// Event names what happened (RFC 6109 §2.3: "tipo di evento").
type Event string

// The events the reference records, one per operation of RFC 6109 §2.2.
const (
	EventAccettazione       Event = "accettazione"      // access point accepted; the envelope is the related msg
	EventNonAccettazione    Event = "non-accettazione"  // formal fault or virus at acceptance
	EventPresaInCarico      Event = "presa-in-carico"   // reception point took an envelope in charge
	EventRicezioneAvviso    Event = "ricezione-avviso"  // a correct receipt or notice arrived from a provider
	EventAnomalia           Event = "anomalia"          // delivered in a busta di anomalia
	EventRifiuto            Event = "rifiuto"           // ordinary mail refused by a mailbox policy
	EventRilevazioneVirus   Event = "rilevazione-virus" // virus inside a correct envelope
	EventConsegna           Event = "consegna"          // delivery point stored the envelope
	EventMancataConsegna    Event = "mancata-consegna"  // delivery point could not
	EventPreavviso          Event = "preavviso-errore"  // 12 h / 24 h notice (RFC 6109 §3.1.6)
	EventMancataConsegnaVir Event = "mancata-consegna-virus"
)

// Record is one registro entry. The first group is RFC 6109 §2.3's list; the
// second the extra fields seen in real providers' logs (pec-rules §6 [ULIB]).
type Record struct {
	Seq        uint64    `msgpack:"seq"`
	Time       time.Time `msgpack:"time"`   // the transaction's one instant (LOG-03)
	Event      Event     `msgpack:"event"`  // tipo di evento
	MsgID      string    `msgpack:"msgid"`  // identificativo of the original (PEC msgid)
	Sender     string    `msgpack:"sender"` // mittente of the original
	Recipients []string  `msgpack:"rcpt"`   // destinatari of the original
	Subject    string    `msgpack:"subject"`
	Related    []string  `msgpack:"related,omitempty"` // Message-IDs of the messages this event generated (received, for EventRicezioneAvviso)
	Provider   string    `msgpack:"provider"`          // the sending provider (gestore mittente)

	Tipo         string `msgpack:"tipo,omitempty"`          // daticert tipo of the generated message
	Errore       string `msgpack:"errore,omitempty"`        // daticert errore
	ErroreEsteso string `msgpack:"errore_esteso,omitempty"` // daticert errore-esteso
	TipoRicevuta string `msgpack:"tipo_ricevuta,omitempty"` // completa / breve / sintetica
	Consegna     string `msgpack:"consegna,omitempty"`      // the mailbox the event concerns
	Virus        string `msgpack:"virus,omitempty"`         // signature name

	// Key names the output of a replayable reception this record is (package
	// once): a record whose key the registro holds is not written twice.
	Key string `msgpack:"key,omitempty"`

	Prev string `msgpack:"prev"` // hex SHA-256 of the previous record ("" for the first)
	Hash string `msgpack:"hash"` // hex SHA-256 over this record with Hash empty
}

// seal fills Prev, Seq and Hash and returns the encoded record.
func (r *Record) seal(seq uint64, prev string) ([]byte, error) {
	r.Seq, r.Prev, r.Hash = seq, prev, ""
	r.Time = r.Time.UTC()
	h, err := r.digest()
	if err != nil {
		return nil, err
	}
	r.Hash = h
	return msgpack.Marshal(r)
}

// digest is the hex SHA-256 of the record encoded with Hash empty.
func (r Record) digest() (string, error) {
	r.Hash = ""
	b, err := msgpack.Marshal(&r)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// Concerns reports whether user (lower case) is the record's sender or one
// of its recipients: what an export for one user selects.
func (r *Record) Concerns(user string) bool {
	if equalFold(r.Sender, user) || equalFold(r.Consegna, user) {
		return true
	}
	for _, a := range r.Recipients {
		if equalFold(a, user) {
			return true
		}
	}
	return false
}
