@flow-external
Feature: External recipients
  A recipient outside the PEC system is listed as esterno in the ricevuta di accettazione and still receives
  the signed busta di trasporto (RFC 6109 §2.2.1, §3.1.4); no receipt comes for it.

  @ACC-03 @TRN-01 @TRN-02 @needs-sends-to-ordinary-mail
  Scenario: A certified message to an ordinary mail domain
    When alice sends a certified message to carol at the external domain
    Then alice receives an acceptance receipt
    And the acceptance receipt lists every recipient as certificato or esterno
    And carol receives a transport envelope
    And every captured message passes the MUST rules
