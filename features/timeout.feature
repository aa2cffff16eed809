@flow-timeout
Feature: Timeout notices at 12 h and 24 h
  When the recipient's provider sends neither presa in carico nor consegna within 12 hours the sender gets a
  preavviso; when no consegna comes within 24 hours, the notice of failure, and nothing after (RFC 6109
  §3.1.6 cases a, b, c; §2.1.1.1.2). The recipient is a user of gamma, the scriptable peer, which answers only
  what each case says; the target's clock is advanced through its admin API (gamma's moves with it). These
  scenarios run alone.

  @exclusive @TIM-01 @TIM-04 @TIM-05 @TIM-06 @TIM-07
  Scenario: Case a: taken in charge, never delivered
    When alice sends a certified message to carol at gamma
    Then alice receives an acceptance receipt
    And carol at gamma receives a transport envelope
    When gamma takes charge of the envelope for carol at gamma
    Then the target's service mailbox receives a take-charge receipt
    When the target's clock advances by 13 hours
    And the target's clock advances by 12 hours
    Then alice receives a 24 h timeout notice
    And alice has received 1 timeout notice in all
    And every captured message passes the MUST rules
    And the transaction passes the MUST rules

  @exclusive @TIM-01 @TIM-02 @TIM-03 @TIM-05 @TIM-06 @TIM-07
  Scenario: Case b: neither taken in charge nor delivered within 12 h, delivered within 24 h
    When alice sends a certified message to carol at gamma
    Then alice receives an acceptance receipt
    And carol at gamma receives a transport envelope
    When the target's clock advances by 13 hours
    Then alice receives a 12 h timeout notice
    When gamma delivers the envelope to carol at gamma
    Then alice receives a delivery receipt
    When the target's clock advances by 12 hours
    Then alice has received 1 timeout notice in all
    And every captured message passes the MUST rules
    And the transaction passes the MUST rules

  @exclusive @TIM-01 @TIM-02 @TIM-03 @TIM-04 @TIM-05 @TIM-06 @TIM-07
  Scenario: Case c: neither taken in charge nor delivered within 24 h
    When alice sends a certified message to carol at gamma
    Then alice receives an acceptance receipt
    And carol at gamma receives a transport envelope
    When the target's clock advances by 13 hours
    Then alice receives a 12 h timeout notice
    When the target's clock advances by 12 hours
    Then alice receives a 24 h timeout notice
    And alice has received 2 timeout notices in all
    And every captured message passes the MUST rules
    And the transaction passes the MUST rules
