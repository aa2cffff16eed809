package lab

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/pecspec/pecspec/reference/index"
)

// DIR/put/ holds everything the provider under test configures to join the
// lab, and lab.yaml says which file is what (a provider's scripts can read
// it; the black-box test writes its pecref configuration from it alone).
const (
	putDir       = "put"
	putTrust     = "ca.pem"       // the lab CA and the PUT's own CAs
	putCRL       = "ca.crl"       // the lab CA's CRL
	putSigner    = "signer.pem"   // the PUT's signing certificate
	putSignerKey = "signer.key"   // its key, when the lab generated it
	putTLS       = "tls.pem"      // the PUT's TLS certificate, when the lab issued it
	putTLSKey    = "tls.key"      // its key, when the lab generated it
	putLDIF      = "put.ldif"     // the PUT's index record: sign it and publish it (RFC 6109 §4.5.6)
	putLDIFP7M   = "put.ldif.p7m" // the PUT's signed LDIF, when the lab has it
	putRoutes    = "routes.yaml"  // domain → host:port of every lab MX
	putTransport = "transport"    // the same as a Postfix transport map
	putView      = "lab.yaml"
	putChecklist = "CHECKLIST.txt"
	putIndexDir  = "index" // index.ldif, index.ldif.p7m, <provider>.ldif.p7m
)

// putPath is a file of DIR/put/.
func (l *Lab) putPath(name string) string { return filepath.Join(l.Dir, putDir, name) }

// writePUTTrust writes what the instances read at start: the CA bundle with
// the PUT's CAs, and the PUT's signed LDIF when the lab has it.
func (l *Lab) writePUTTrust() error {
	if err := os.MkdirAll(filepath.Join(l.Dir, putDir, putIndexDir), 0o700); err != nil {
		return fmt.Errorf("%w: %v", ErrLab, err)
	}
	files := map[string][]byte{putTrust: append(append([]byte(nil), l.CA.CertPEM...), l.PUT.trustPEM...)}
	if l.PUT.ldif != nil {
		files[putLDIFP7M] = l.PUT.ldif
	}
	return writeFiles(filepath.Join(l.Dir, putDir), files)
}

// trustFile is the CA bundle the instances trust: the lab CA, and the PUT's
// CAs when one is enrolled.
func (l *Lab) trustFile() string {
	if l.PUT != nil {
		return l.putPath(putTrust)
	}
	return l.CAFile()
}

// writePUT writes DIR/put/ and DIR/target-put.yaml once the lab runs.
func (l *Lab) writePUT() error {
	p := l.PUT
	if p == nil {
		return nil
	}
	crl, err := os.ReadFile(filepath.Join(l.Dir, "ca.crl"))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrLab, err)
	}
	files := map[string][]byte{putCRL: crl, putSigner: CertPEM(p.Cert),
		putLDIF: index.ProviderLDIF(p.entry()), putTransport: l.transportMap()}
	optional := map[string][]byte{putSignerKey: p.keyPEM, putTLS: p.tlsPEM, putTLSKey: p.tlsKey}
	for name, data := range optional {
		if data != nil {
			files[name] = data
		}
	}
	for name, data := range p.crls {
		files[name] = data
	}
	if err := writeFiles(filepath.Join(l.Dir, putDir), files); err != nil {
		return err
	}
	if err := saveYAML(l.putPath(putRoutes), l.labRoutes()); err != nil {
		return err
	}
	if err := l.writeIndexFiles(); err != nil {
		return err
	}
	if err := saveYAML(l.putPath(putView), l.putView()); err != nil {
		return err
	}
	if err := saveYAML(l.TargetFileOf(PUTTarget), l.putTarget()); err != nil {
		return err
	}
	return writeFiles(filepath.Join(l.Dir, putDir), map[string][]byte{putChecklist: []byte(l.Checklist())})
}

// writeIndexFiles writes put/index/: each lab provider's own signed LDIF, and
// one LDIF of every provider (lab and PUT) as index.ldif and as
// index.ldif.p7m, signed by the lab's index (a certificate of the lab CA),
// for a provider that loads its index from one file.
func (l *Lab) writeIndexFiles() error {
	dir := filepath.Join(l.Dir, putDir, putIndexDir)
	files := map[string][]byte{}
	for _, o := range l.listed() {
		data, err := os.ReadFile(l.LDIFFile(o.Name))
		if err != nil {
			return fmt.Errorf("%w: %v", ErrLab, err)
		}
		files[o.Name+".ldif.p7m"] = data
	}
	all := []byte(index.BaseLDIF())
	entries := l.entries()
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name < entries[j].Name })
	for _, e := range entries {
		all = append(append(all, '\n'), index.EntryLDIF(e)...)
	}
	files["index.ldif"] = all
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrLab, err)
	}
	cert, err := l.CA.IssueSigning(IndexName, "indice@"+IndexDomain, key.Public(), nowFunc())
	if err != nil {
		return fmt.Errorf("%w: index certificate: %v", ErrLab, err)
	}
	if files["index.ldif.p7m"], err = index.SignLDIF(all, cert, key); err != nil {
		return fmt.Errorf("%w: %v", ErrLab, err)
	}
	return writeFiles(dir, files)
}

// The lab's index, which signs the combined LDIF.
const (
	IndexName   = "pecspec lab index"
	IndexDomain = "lab.pecspec.test"
)

// PUTTarget names the PUT's target file: DIR/target-put.yaml.
const PUTTarget = "put"

// labView is put/lab.yaml: what the PUT configures, every path relative to
// put/.
type labView struct {
	LabDir    string            `yaml:"lab_dir"`
	Target    string            `yaml:"target"` // the complete target file
	DNS       string            `yaml:"dns"`    // host:port, UDP and TCP: MX and A records of every domain
	MXPort    int               `yaml:"mx_port"`
	LabMX     map[string]string `yaml:"lab_mx"` // every lab domain → host:port of its MX
	Routes    string            `yaml:"routes"`
	Transport string            `yaml:"transport"`
	Index     indexView         `yaml:"index"`
	Trust     string            `yaml:"trust"`
	CRL       string            `yaml:"crl"`
	Signing   certView          `yaml:"signing"`
	TLS       *certView         `yaml:"tls,omitempty"`
	Record    string            `yaml:"record"`              // the PUT's index record to sign and publish
	Published string            `yaml:"published,omitempty"` // its signed LDIF, when the lab made it
}

type indexView struct {
	LDAPURL   string   `yaml:"ldap_url"`
	Base      string   `yaml:"base"`
	LDIF      string   `yaml:"ldif"`
	LDIFP7M   string   `yaml:"ldif_p7m"`
	Providers []string `yaml:"providers"` // each lab provider's own signed LDIF
}

type certView struct {
	Certificate string `yaml:"certificate"`
	Key         string `yaml:"key,omitempty"`
}

func (l *Lab) putView() *labView {
	v := &labView{LabDir: l.Dir, Target: filepath.Join("..", "target-"+PUTTarget+".yaml"), DNS: l.DNS.Addr,
		MXPort: l.layout.mxPort, LabMX: map[string]string{}, Routes: putRoutes, Transport: putTransport,
		Trust: putTrust, CRL: putCRL, Signing: certView{Certificate: putSigner}, Record: putLDIF,
		Index: indexView{LDAPURL: l.LDAPURL, Base: "o=postacert", LDIF: filepath.Join(putIndexDir, "index.ldif"),
			LDIFP7M: filepath.Join(putIndexDir, "index.ldif.p7m")}}
	for d, a := range l.labRoutes() {
		if !containsFold(l.PUT.Domains, d) {
			v.LabMX[d] = a
		}
	}
	for _, o := range l.listed() {
		v.Index.Providers = append(v.Index.Providers, filepath.Join(putIndexDir, o.Name+".ldif.p7m"))
	}
	if l.PUT.keyPEM != nil {
		v.Signing.Key = putSignerKey
	}
	if l.PUT.tlsPEM != nil {
		v.TLS = &certView{Certificate: putTLS}
		if l.PUT.tlsKey != nil {
			v.TLS.Key = putTLSKey
		}
	}
	if l.PUT.ldif != nil {
		v.Published = putLDIFP7M
	}
	return v
}
