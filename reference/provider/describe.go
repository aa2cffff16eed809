package provider

// Sample is an annotated configuration, printed by `pecref config describe`.
const Sample = `# pecref: one reference PEC provider instance (the lab writes these).
name: alpha                                  # short label
provider_name: Reference Alpha               # providerName in the index; O/CN of the certificate
domains: [pec.alpha.test]                    # managedDomains; the first names PEC msgids
service_address: posta-certificata@pec.alpha.test   # From of every system message (RFC 6109 §2.2.6)
receipts_mailbox: ricevute@pec.alpha.test    # mailReceipt: presa in carico and virus notices land here
data_dir: /var/lib/pecref/alpha              # mail/ (Maildir: Dovecot serves it), queue/, spool/
listen:
  submission: 127.0.0.1:10465                # implicit TLS, AUTH PLAIN required
  mx: 127.0.0.1:10025                        # STARTTLS offered, plaintext accepted (RFC 6109 §5.3)
  admin: 127.0.0.1:10080                     # HTTP: /health, /clock, POST /clock/advance?by=12h
tls: {cert: tls.pem, key: tls.key}           # server certificate
trust: ca.pem                                # CAs of PEC signing certificates and of peers' TLS
hsm:                                         # the signing key lives in this PKCS#11 token (RFC 6109 §5.1)
  module: /usr/lib/softhsm/libsofthsm2.so
  softhsm_conf: softhsm2.conf                # private SoftHSM2 configuration (sets SOFTHSM2_CONF)
  token: alpha
  pin: "1234"
  key_label: pec-signing                     # key pair and certificate share this label
index: {url: "ldap://127.0.0.1:10389", base: "o=postacert"}
clamd: {socket: /run/clamd.sock}
routes: {pec.beta.test: "127.0.0.1:11025"}   # domain -> MX host:port; first, before DNS
dns: {server: "127.0.0.1:10000", mx_port: 10002}   # other domains by their MX records at this DNS server;
                                             # mx_port is the SMTP port of the hosts it names (default 25)
plain_domains: []                            # domains reachable without STARTTLS (ordinary mail)
users:
  - {address: alice@pec.alpha.test, password: "…"}
  - {address: ricevute@pec.alpha.test, password: "…"}
  - {address: piena@pec.alpha.test, password: "…", quota_bytes: 1}          # policy: always full
  - {address: solopec@pec.alpha.test, password: "…", refuse_ordinary: true} # policy: no ordinary mail
  - {address: infetto@pec.alpha.test, password: "…", simulated_virus: true} # lab only: envelopes for it count as infected
mail_owner: {uid: 64900, gid: 64900}         # owner of the Maildirs: Dovecot's mail user
admin_token: "…"
max_total_bytes: 31457280                    # size × recipients limit (RFC 6109 §3.1.1)
queue_lifetime: 24h                          # SMTP idleness limit (RFC 6109 §2.2.2, TIM-08)
queue_workers: 16                            # SMTP deliveries at once
notice_html: true                            # text/html alternative in system messages (RFC 6109 §4.3.1)
controllable_clock: true                     # lab only: the admin API may advance the clock
limits:                                      # per listener (submission, mx, admin); these are the defaults
  connections: 256                           # at once; over it SMTP gets 421 4.7.0, HTTP 503
  connections_per_ip: 64                     # at once from one address (IPv6: one /64)
  tls_handshake: 10s                         # implicit TLS: a client that never starts TLS is closed
  idle: 5m                                   # wait for a command, and for a whole DATA (RFC 5321 §4.5.3.2.7)
  auth_delay: 1s                             # before answering a failed AUTH, doubled per failure...
  auth_max_delay: 5s                         # ...up to this
  auth_failures_per_ip: 20                   # in auth_window, then the address gets 421 for the rest of it
  auth_failures_per_account: 5               # in auth_window, then the addresses that failed on it get 421
  auth_window: 15m
`
