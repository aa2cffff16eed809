@flow-non-delivery @interop
Feature: Non-delivery to a mailbox that does not exist
  The receiving provider takes charge of the envelope, cannot deliver it to an unknown mailbox and the sender
  gets an avviso di mancata consegna with errore no-dest (RFC 6109 §3.3.3).

  @ERR-01 @ERR-02 @ERR-03 @ERR-04
  Scenario: A message to an unknown mailbox gives an avviso di mancata consegna
    Given the target and its counterpart are reachable
    When alice sends a certified message to nobody at the counterpart
    Then alice receives an acceptance receipt
    And the target's service mailbox receives a take-charge receipt
    And alice receives a non-delivery notice for nobody at the counterpart
    And every captured message passes the MUST rules
    And the transaction passes the MUST rules
