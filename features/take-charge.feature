@flow-take-charge
Feature: Take-charge of an envelope from another provider
  The target as receiving provider: a correct busta di trasporto from the counterpart gets a ricevuta di presa
  in carico sent to the counterpart's mailReceipt (RFC 6109 §3.2.1), then the envelope is delivered and the
  ricevuta di avvenuta consegna goes to the sender (§3.3.2). The same between two providers under test
  (@interop: the target sends, the counterpart takes charge): one presa in carico covers every recipient the
  receiving provider has in the envelope.

  @PIC-01 @PIC-02 @PIC-03 @PIC-04 @PIC-05 @PIC-06 @PIC-07
  Scenario: The target takes charge of an envelope and delivers it
    Given the target and its counterpart are reachable
    When bob at the counterpart sends a certified message to alice at the target
    Then bob receives an acceptance receipt
    And alice receives a transport envelope
    And the counterpart's service mailbox receives a take-charge receipt from the target
    And bob receives a delivery receipt of type "completa"
    And every captured message passes the MUST rules
    And the transaction passes the MUST rules

  @PIC-01 @PIC-02 @PIC-04
  Scenario: The target takes charge of an envelope from gamma and delivers it
    When gamma sends a correct transport envelope from carol at gamma to alice at the target
    Then gamma's service mailbox receives a take-charge receipt
    And alice receives a transport envelope
    And carol at gamma receives a delivery receipt of type "completa"
    And every captured message passes the MUST rules
    And the transaction passes the MUST rules

  @interop @PIC-01 @PIC-02 @PIC-03 @PIC-04 @PIC-05 @PIC-07
  Scenario: The counterpart takes charge of an envelope from the target for two of its users
    When alice sends a certified message to bob at the counterpart and alice at the counterpart
    Then alice receives an acceptance receipt
    And the target's service mailbox receives a take-charge receipt from the counterpart
    And bob receives a transport envelope
    And alice at the counterpart receives a transport envelope
    And alice receives a delivery receipt of type "completa" for bob
    And alice receives a delivery receipt of type "completa" for alice at the counterpart
    And every captured message passes the MUST rules
    And the transaction passes the MUST rules
