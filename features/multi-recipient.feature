@flow-multi-recipient @interop
Feature: Recipients at several providers and outside PEC, in To and Cc
  One accettazione lists every recipient (RFC 6109 §3.1.4); each provider takes charge of its own recipients
  (§3.2.1); each PEC recipient gets the envelope and the sender one avvenuta consegna per recipient, sintetica
  for Cc recipients (§3.3.2).

  @ACC-03 @PIC-03 @CON-01 @CON-05 @needs-sends-to-ordinary-mail
  Scenario: Two PEC providers and an external domain, To and Cc
    When alice sends a certified message to bob at the counterpart and carol at the external domain with bob at the target and dave at the external domain in Cc
    Then alice receives an acceptance receipt
    And the acceptance receipt lists every recipient as certificato or esterno
    And bob at the counterpart receives a transport envelope
    And bob at the target receives a transport envelope
    And carol receives a transport envelope
    And dave receives a transport envelope
    And the target's service mailbox receives a take-charge receipt from the counterpart
    And the target's service mailbox receives a take-charge receipt from the target
    And alice receives a delivery receipt of type "completa" for bob at the counterpart
    And alice receives a delivery receipt of type "sintetica" for bob at the target
    And every captured message passes the MUST rules
    And the transaction passes the MUST rules
