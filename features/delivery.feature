@flow-delivery @interop
Feature: Delivery of a certified message between two providers
  A user of the target provider sends a certified message to a user of another provider. The target accepts it
  and returns a ricevuta di accettazione (RFC6109 §3.1.4), sends a busta di trasporto (RFC6109 §3.1.5); the
  receiving provider returns a ricevuta di presa in carico to the target's service mailbox (RFC6109 §3.2.1),
  delivers the envelope and returns a ricevuta di avvenuta consegna to the sender (RFC6109 §3.3.2).
  Every captured message is graded against pec-rules §9, and the four together as one transaction.

  @GEN-01 @GEN-02 @GEN-03 @GEN-10 @GEN-11 @GEN-12 @GEN-14 @GEN-15 @GEN-16 @GEN-17 @GEN-18
  @SIG-01 @SIG-02 @SIG-03 @SIG-04 @SIG-05 @SIG-06 @SIG-08 @SIG-11 @CRT-02 @CRT-04 @CRT-05 @CRT-06 @CRT-07 @CRT-08
  @DAT-01 @DAT-02 @DAT-03 @DAT-04 @DAT-05 @DAT-07 @DAT-08 @DAT-09 @DAT-10 @DAT-11 @DAT-12 @DAT-13 @DAT-14 @DAT-19 @DAT-20
  @ACC-01 @ACC-02 @ACC-03 @ACC-04 @ACC-06 @ACC-07 @ACC-08 @ACC-09
  @TRN-01 @TRN-02 @TRN-04 @TRN-05 @TRN-06 @TRN-07 @TRN-08 @TRN-10 @TRN-11 @TRN-12 @TRN-13 @TRN-14
  @PIC-01 @PIC-03 @PIC-04 @PIC-05 @PIC-07 @CON-01 @CON-02 @CON-03 @CON-04 @CON-09 @CON-10
  @GEN-04 @GEN-05 @GEN-06 @GEN-07 @SIG-07 @CON-08 @ACC-05 @CRT-01 @SIG-09 @DAT-06 @DAT-15 @DAT-16 @DAT-17 @GEN-08 @GEN-09 @GEN-19 @TIM-10 @VIR-08 @TRN-03 @TRN-09 @TRN-16
  Scenario: A certified message is accepted, taken in charge and delivered with a complete receipt
    Given the target and its counterpart are reachable
    When alice sends a certified message to bob at the counterpart
    Then alice receives an acceptance receipt
    And bob receives a transport envelope
    And the target's service mailbox receives a take-charge receipt
    And alice receives a delivery receipt of type "completa"
    And every captured message passes the MUST rules
    And the transaction passes the MUST rules

  Scenario Outline: The sender asks for a <type> delivery receipt
    When alice sends a certified message to bob at the counterpart with receipt type "<type>"
    Then alice receives an acceptance receipt
    And bob receives a transport envelope
    And alice receives a delivery receipt of type "<type>"
    And every captured message passes the MUST rules

    @CON-04
    Examples: complete receipt, the original included
      | type     |
      | completa |

    @BRV-02 @BRV-04
    Examples: short receipt, attachments replaced by their hashes
      | type  |
      | breve |

    @CON-06
    Examples: synthetic receipt, daticert only
      | type      |
      | sintetica |

  @CON-05 @CON-06
  Scenario Outline: A Cc recipient gets a sintetica receipt whatever the sender asked (<type>)
    When alice sends a certified message to bob at the counterpart with alice at the counterpart in Cc with receipt type "<type>"
    Then alice receives an acceptance receipt
    And alice receives a delivery receipt of type "<type>" for bob at the counterpart
    And alice receives a delivery receipt of type "sintetica" for alice at the counterpart
    And bob receives a transport envelope
    And alice at the counterpart receives a transport envelope
    And the target's service mailbox receives a take-charge receipt
    And every captured message passes the MUST rules
    And the transaction passes the MUST rules

    Examples:
      | type      |
      | completa  |
      | breve     |
      | sintetica |

  @BRV-01 @BRV-02 @BRV-03 @BRV-04
  Scenario: A breve receipt replaces the attachments of the original by their hashes
    When alice sends a certified message with an attachment to bob at the counterpart with receipt type "breve"
    Then alice receives an acceptance receipt
    And bob receives a transport envelope
    And the target's service mailbox receives a take-charge receipt
    And alice receives a delivery receipt of type "breve"
    And every captured message passes the MUST rules
    And the transaction passes the MUST rules

  @CON-07
  Scenario: A recipient in both To and Cc is treated as primary
    When alice sends a certified message to bob at the counterpart with bob at the counterpart in Cc
    Then alice receives an acceptance receipt
    And bob receives a transport envelope
    And the target's service mailbox receives a take-charge receipt
    And alice receives a delivery receipt of type "completa"
    And every captured message passes the MUST rules
    And the transaction passes the MUST rules

  @BRV-05
  Scenario: A breve receipt keeps the signature of an S/MIME-signed original
    When alice sends a certified message signed with S/MIME to bob at the counterpart with receipt type "breve"
    Then alice receives an acceptance receipt
    And bob receives a transport envelope
    And the target's service mailbox receives a take-charge receipt
    And alice receives a delivery receipt of type "breve"
    And every captured message passes the MUST rules
    And the transaction passes the MUST rules

  @BRV-06
  Scenario: A breve receipt leaves an opaque S/MIME original intact
    When alice sends a certified message signed with S/MIME in opaque form to bob at the counterpart with receipt type "breve"
    Then alice receives an acceptance receipt
    And bob receives a transport envelope
    And the target's service mailbox receives a take-charge receipt
    And alice receives a delivery receipt of type "breve"
    And every captured message passes the MUST rules
    And the transaction passes the MUST rules
