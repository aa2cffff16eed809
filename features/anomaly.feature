@flow-anomaly
Feature: Ordinary mail reaching a PEC mailbox
  Mail that is not a correct PEC envelope or notice from a listed provider is delivered in a busta di anomalia
  (RFC 6109 §3.2.2), with no receipt to anyone. Between two providers under test (@interop): the target's own
  envelope, altered in transit after the target signed it, must not pass the counterpart's signature check.

  @ANO-01 @ANO-02 @ANO-03 @ANO-04 @ANO-05
  @ANO-06 @ANO-07 @ANO-08 @needs-receives-ordinary-mail
  Scenario: An ordinary message from a non-PEC domain is delivered in a busta di anomalia
    When carol at the external domain sends an ordinary message to alice at the target
    Then alice receives an anomaly envelope
    And every captured message passes the MUST rules
    And the transaction passes the MUST rules

  @ANO-01 @ANO-02 @ANO-03 @ANO-04 @ANO-05 @ANO-06
  Scenario: A message signed by a listed provider that is not a correct envelope becomes a busta di anomalia
    When gamma sends a malformed transport envelope from carol at gamma to alice at the target
    Then alice receives an anomaly envelope
    And every captured message passes the MUST rules

  @ANO-01 @ANO-02 @ANO-03 @ANO-04 @ANO-05 @ANO-06
  Scenario: An envelope whose signature was tampered with becomes a busta di anomalia
    When gamma sends a tampered transport envelope from carol at gamma to alice at the target
    Then alice receives an anomaly envelope
    And every captured message passes the MUST rules

  @ANO-01 @ANO-02 @ANO-03 @ANO-04 @ANO-05 @ANO-06
  Scenario: An envelope signed by a provider that is not in the index becomes a busta di anomalia
    When a provider not in the index sends a transport envelope to alice at the target
    Then alice receives an anomaly envelope
    And every captured message passes the MUST rules

  @ANO-01 @ANO-02 @ANO-03 @ANO-04 @ANO-05 @ANO-06
  Scenario: A notice signed by a listed provider without certification data becomes a busta di anomalia
    When gamma sends a delivery receipt without certification data about a message from carol at gamma to alice at the target
    Then alice receives an anomaly envelope
    And every captured message passes the MUST rules

  @ANO-01 @OPS-02 @needs-receives-ordinary-mail
  Scenario: The MX announces STARTTLS and still takes ordinary mail in plaintext
    Given the target's MX offers STARTTLS
    When dave at the external domain sends an ordinary message without TLS to alice at the target
    Then alice receives an anomaly envelope
    And every captured message passes the MUST rules

  @interop @ANO-01 @ANO-02 @ANO-03 @ANO-04 @ANO-05 @ANO-06
  Scenario: The target's envelope altered in transit reaches the counterpart as a busta di anomalia
    When alice sends a certified message to bob at the counterpart
    Then bob receives a transport envelope
    When the envelope bob received is altered in transit and sent again to the counterpart
    Then bob receives an anomaly envelope
    And every captured message passes the MUST rules
