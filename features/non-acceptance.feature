@flow-non-acceptance
Feature: Non-acceptance of a submission with a formal fault
  The access point checks every submission (RFC 6109 §3.1.1). A formal fault gives an avviso di non
  accettazione (§3.1.2) to the sender and nothing to the recipients; a submission without authentication,
  without TLS or in another user's name is refused at protocol level (§5.2, §5.3).

  @NAC-01 @NAC-02 @NAC-03 @NAC-04 @NAC-05
  @ACC-10
  Scenario Outline: A submission <fault> is not accepted
    When alice submits a message to bob at the counterpart <fault>
    Then alice receives a non-acceptance notice
    And bob has received nothing about the message
    And every captured message passes the MUST rules
    And the transaction passes the MUST rules

    @APC-03
    Examples: missing From
      | fault                 |
      | without a From header |

    @APC-04
    Examples: missing To
      | fault               |
      | without a To header |

    @APC-05
    Examples: From and MAIL FROM differ
      | fault                             |
      | whose From differs from MAIL FROM |

    @APC-06
    Examples: RCPT TO and To or Cc differ
      | fault                            |
      | with a recipient not in To or Cc |

    @APC-07
    Examples: Bcc
      | fault             |
      | with a Bcc header |

    @APC-08
    Examples: size limit
      | fault                                     |
      | whose size times recipients exceeds 30 MB |

  Scenario Outline: A submission <how> is refused
    When alice submits a message to bob at the counterpart <how>
    Then the submission is refused

    @APC-01
    Examples: no authentication
      | how                    |
      | without authenticating |

    @APC-02
    Examples: no TLS
      | how                           |
      | over a connection without TLS |

    @APC-11
    Examples: spoofed sender
      | how                                     |
      | in the name of another user of the target |
