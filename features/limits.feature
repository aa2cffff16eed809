@flow-limits @slow
Feature: The target at the limits it declares
  Providers publish the service levels they commit to; Aruba's are messages up to 50 MB and up to 500
  recipients. The target file declares the target's own limits (max_message_bytes, max_recipients), the
  published ones when it declares none. At its limits the target accepts the message, sends the envelope and
  every receipt, within the step timeout (--timeout); above its size limit it refuses the message with an avviso
  di non accettazione or an SMTP error, never dropping it in silence (RFC 6109 §3.1.1–2). Every message is
  graded. The scenarios use the target's numbered bulk accounts (bulk_accounts in the target file). They are
  slow: a run leaves them out unless its --tags selects them (pecspec run --tags @flow-limits).

  @ACC-01 @TRN-01 @CON-01
  Scenario: A message of the target's maximum size is accepted, delivered and fully receipted
    When bulk1 sends a certified message of the target's maximum size to bulk1 at the counterpart
    Then bulk1 receives an acceptance receipt
    And bulk1 at the counterpart receives a transport envelope
    And the target's service mailbox receives a take-charge receipt
    And bulk1 receives a delivery receipt for bulk1 at the counterpart
    And every captured message passes the MUST rules
    And the transaction passes the MUST rules

  @ACC-01 @TRN-01 @CON-01 @CON-05 @PIC-03 @needs-sends-to-ordinary-mail
  Scenario: A message to the target's maximum number of recipients is accepted, delivered and fully receipted
    When bulk3 sends a certified message to the target's maximum number of recipients across the target, the counterpart and the external domain, a fifth of them in Cc
    Then bulk3 receives an acceptance receipt
    And the acceptance receipt lists every recipient as certificato or esterno
    And every recipient receives a transport envelope
    And the target's service mailbox receives a take-charge receipt from the counterpart
    And the target's service mailbox receives a take-charge receipt from the target
    And bulk3 receives a delivery receipt for every recipient at a PEC provider
    And every captured message passes the MUST rules
    And the transaction passes the MUST rules

  @APC-08
  Scenario: A message above the target's maximum size is refused, not dropped
    When bulk2 submits a message above the target's maximum size to bulk2 at the counterpart
    Then bulk2 is told the message is too large
    And bulk2 at the counterpart has received nothing about the message
