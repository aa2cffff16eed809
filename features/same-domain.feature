@flow-same-domain
Feature: Sender and recipient at the same provider
  A message between two users of the target still goes through the whole flow: accettazione, busta di
  trasporto, presa in carico and avvenuta consegna (RFC 6109 §3.4).

  @APC-12
  Scenario: A certified message between two users of the target
    When alice sends a certified message to bob at the target
    Then alice receives an acceptance receipt
    And bob receives a transport envelope
    And the target's service mailbox receives a take-charge receipt
    And alice receives a delivery receipt of type "completa"
    And every captured message passes the MUST rules
    And the transaction passes the MUST rules
