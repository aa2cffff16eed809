@flow-virus
Feature: A virus in a submission
  The access point scans every submission; a virus gives an avviso di non accettazione per virus with errore
  virus (RFC 6109 §3.1.3), the original is kept and nothing is sent on.

  @APC-09 @NAC-01 @NAC-02 @NAC-06 @NAC-07
  @ACC-10
  Scenario: A submission carrying the EICAR test file is not accepted
    When alice sends a certified message carrying a test virus to bob at the counterpart
    Then alice receives a non-acceptance notice for virus
    And bob has received nothing about the message
    And every captured message passes the MUST rules
    And the transaction passes the MUST rules

  @VIR-01 @VIR-02 @VIR-03 @VIR-04 @VIR-05
  Scenario: The target as receiver finds a virus in an envelope from gamma
    When gamma sends a transport envelope carrying a test virus from carol at gamma to alice at the target
    Then gamma's service mailbox receives a virus detection notice
    And alice has received nothing about the message
    And every captured message passes the MUST rules
    And the transaction passes the MUST rules

  @TRN-15 @VIR-06 @VIR-07
  Scenario: The target as sender is told of a virus found by the receiving provider
    When alice sends a certified message to carol at gamma
    Then alice receives an acceptance receipt
    And carol at gamma receives a transport envelope
    When gamma reports a virus in the envelope for carol at gamma
    Then the target's service mailbox receives a virus detection notice
    And alice receives a non-delivery notice for virus for carol at gamma
    And every captured message passes the MUST rules
    And the transaction passes the MUST rules
