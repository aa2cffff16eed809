@flow-acceptance
Feature: Acceptance of a certified message
  The target's access point accepts a correct submission, returns a ricevuta di accettazione listing every
  recipient (RFC 6109 §3.1.4) and sends a busta di trasporto whose msgid replaces the client's Message-ID
  (RFC 6109 §2.2.1, §3.1.5).

  @ACC-01 @ACC-02 @ACC-03 @ACC-04 @ACC-05 @ACC-06 @APC-10 @TRN-01 @TRN-02 @TRN-04 @TRN-05
  Scenario: The target accepts a certified message and returns a ricevuta di accettazione
    Given the target and its counterpart are reachable
    When alice sends a certified message to bob at the counterpart
    Then alice receives an acceptance receipt
    And the acceptance receipt lists every recipient as certificato or esterno
    And bob receives a transport envelope
    And every captured message passes the MUST rules
