@flow-virus
Feature: A virus in a submission
  The access point scans every submission; a virus gives an avviso di non accettazione per virus with errore
  virus (RFC 6109 §3.1.3), the original is kept and nothing is sent on. A virus the sender's provider did not
  find and the receiving provider does (§3.2.3–4): the receiver keeps the envelope, sends an avviso di
  rilevazione virus to the sender's provider, which tells its user with an avviso di mancata consegna per virus.
  Between two providers under test (@interop) the receiving one "finds" it in the envelopes for its
  outcome-simulation mailbox infetto (capability simulated-virus): no antivirus misses a test virus honestly.

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

  @interop @counterpart-needs-simulated-virus @VIR-01 @VIR-02 @VIR-03 @VIR-04 @VIR-05 @VIR-06 @VIR-07
  Scenario: The counterpart finds a virus in transit in an envelope from the target
    When alice sends a certified message to infetto at the counterpart
    Then alice receives an acceptance receipt
    And the target's service mailbox receives a virus detection notice
    And alice receives a non-delivery notice for virus for infetto at the counterpart
    And infetto has received nothing about the message
    And every captured message passes the MUST rules
    And the transaction passes the MUST rules
