@flow-index
Feature: The target's record in the index of PEC providers
  Every provider has a record in the index (RFC 6109 §4.5): DN providerName=<name>,o=postacert, its signing
  certificates and their SHA-1 hashes, its mailReceipt and managedDomains; it publishes its records as an LDIF
  signed in a DER PKCS#7 .p7m (§4.5.6). The suite reads both as any provider would and grades them.

  @IDX-01 @IDX-02 @IDX-03 @IDX-04 @IDX-05 @IDX-06 @IDX-07 @IDX-08 @IDX-12
  Scenario: The target's record in the index is well formed
    Then the target's record in the index passes the IDX rules

  @IDX-09 @IDX-10
  Scenario: The target publishes its records as a signed LDIF
    Then the target's signed LDIF passes the IDX rules
