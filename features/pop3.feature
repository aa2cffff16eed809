@flow-delivery @needs-pop3
Feature: Mailboxes read over POP3S
  A provider's users read their mailbox over POP3S as well as IMAPS (the provider's access obligations: IMAPS,
  POP3S, SMTPS). The receipts in the sender's mailbox and the busta di trasporto in the recipient's are the same
  bytes over POP3 (UIDL, TOP, RETR; RFC 1939) as over IMAP, so a user's client of either kind keeps the signed
  messages intact (RFC6109 §3.3.2).

  @CON-01
  Scenario: The receipts and the delivered envelope read over POP3S are the IMAP copies
    Given the target and its counterpart are reachable
    When alice sends a certified message to bob at the counterpart
    Then alice receives an acceptance receipt
    And bob receives a transport envelope
    And alice receives a delivery receipt
    And alice reads the same messages over POP3 as over IMAP
    And bob reads the same messages over POP3 as over IMAP
    And every captured message passes the MUST rules
