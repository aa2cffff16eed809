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
