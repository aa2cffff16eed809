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

// DIR/put/ (DIR/put/<name>/ when several are enrolled) holds everything the
// provider under test configures to join the lab, and lab.yaml says which
// file is what (a provider's scripts can read
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

// writePUTTrust writes what the instances read at start: the CA bundle
// with every PUT's CAs (DIR/put/ca.pem, and a copy in each PUT's
// directory), and each PUT's signed LDIF when the lab has it.
func (l *Lab) writePUTTrust() error {
	if len(l.PUTs) == 0 {
		return nil
	}
	bundle := append([]byte(nil), l.CA.CertPEM...)
	for _, p := range l.PUTs {
		bundle = append(bundle, p.trustPEM...)
	}
	if err := os.MkdirAll(filepath.Dir(l.bundleFile()), 0o700); err != nil {
		return fmt.Errorf("%w: %v", ErrLab, err)
	}
	if err := writeFiles(filepath.Dir(l.bundleFile()), map[string][]byte{putTrust: bundle}); err != nil {
		return err
	}
	for _, p := range l.PUTs {
		if err := os.MkdirAll(l.putPath(p, putIndexDir), 0o700); err != nil {
			return fmt.Errorf("%w: %v", ErrLab, err)
		}
		files := map[string][]byte{putTrust: bundle}
		if p.ldif != nil {
			files[putLDIFP7M] = p.ldif
		}
		if err := writeFiles(l.putPath(p, ""), files); err != nil {
			return err
		}
	}
	return nil
}

// trustFile is the CA bundle the instances trust: the lab CA, and the PUTs'
// CAs when some are enrolled.
func (l *Lab) trustFile() string {
	if len(l.PUTs) > 0 {
		return l.bundleFile()
	}
	return l.CAFile()
}

// writePUT writes each PUT's directory and target file once the lab runs.
func (l *Lab) writePUT() error {
	if len(l.PUTs) == 0 {
		return nil
	}
	idx, err := l.indexFiles()
	if err != nil {
		return err
	}
	for _, p := range l.PUTs {
		if err := writeFiles(l.putPath(p, putIndexDir), idx); err != nil {
			return err
		}
		if err := l.writePUTDir(p); err != nil {
			return err
		}
		t := l.putTarget(p)
		if err := saveYAML(l.TargetFileOf(p.Name), t); err != nil {
			return err
		}
		if len(l.PUTs) == 1 {
			if err := saveYAML(l.TargetFileOf(PUTTarget), t); err != nil {
				return err
			}
		}
	}
	return nil
}

// writePUTDir writes DIR/put/ (or DIR/put/<name>/): everything p configures.
func (l *Lab) writePUTDir(p *PUT) error {
	crl, err := os.ReadFile(filepath.Join(l.Dir, "ca.crl"))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrLab, err)
	}
	files := map[string][]byte{putCRL: crl, putSigner: CertPEM(p.Cert),
		putLDIF: index.ProviderLDIF(p.entry()), putTransport: l.transportMap(p)}
	optional := map[string][]byte{putSignerKey: p.keyPEM, putTLS: p.tlsPEM, putTLSKey: p.tlsKey}
	for name, data := range optional {
		if data != nil {
			files[name] = data
		}
	}
	for name, data := range p.crls {
		files[name] = data
	}
	if err := writeFiles(l.putPath(p, ""), files); err != nil {
		return err
	}
	if err := saveYAML(l.putPath(p, putRoutes), l.labRoutes()); err != nil {
		return err
	}
	if err := saveYAML(l.putPath(p, putView), l.putView(p)); err != nil {
		return err
	}
	return writeFiles(l.putPath(p, ""), map[string][]byte{putChecklist: []byte(l.Checklist(p))})
}

// indexFiles are the files of a PUT's index/: each lab provider's own
// signed LDIF, and one LDIF of every provider (lab and PUTs) as index.ldif
// and as index.ldif.p7m, signed by the lab's index (a certificate of the lab
// CA), for a provider that loads its index from one file.
func (l *Lab) indexFiles() (map[string][]byte, error) {
	files := map[string][]byte{}
	for _, o := range l.listed() {
		data, err := os.ReadFile(l.LDIFFile(o.Name))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrLab, err)
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
		return nil, fmt.Errorf("%w: %v", ErrLab, err)
	}
	cert, err := l.CA.IssueSigning(IndexName, "indice@"+IndexDomain, key.Public(), nowFunc())
	if err != nil {
		return nil, fmt.Errorf("%w: index certificate: %v", ErrLab, err)
	}
	if files["index.ldif.p7m"], err = index.SignLDIF(all, cert, key); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrLab, err)
	}
	return files, nil
}

// The lab's index, which signs the combined LDIF.
const (
	IndexName   = "pecspec lab index"
	IndexDomain = "lab.pecspec.test"
)

// PUTTarget names the target file of the only PUT: DIR/target-put.yaml
// (when several are enrolled, each has DIR/target-<name>.yaml only).
const PUTTarget = "put"

// labView is put/lab.yaml: what the PUT configures, every path relative to
// put/.
type labView struct {
	LabDir    string            `yaml:"lab_dir"`
	Target    string            `yaml:"target"` // the complete target file
	DNS       string            `yaml:"dns"`    // host:port, UDP and TCP: MX and A records of every domain
	MXPort    int               `yaml:"mx_port"`
	LabMX     map[string]string `yaml:"lab_mx"` // every other domain of the lab → host:port of its MX
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

func (l *Lab) putView(p *PUT) *labView {
	target, _ := filepath.Rel(l.putPath(p, ""), l.TargetFileOf(p.Name))
	v := &labView{LabDir: l.Dir, Target: target, DNS: l.DNS.Addr,
		MXPort: l.layout.mxPort, LabMX: map[string]string{}, Routes: putRoutes, Transport: putTransport,
		Trust: putTrust, CRL: putCRL, Signing: certView{Certificate: putSigner}, Record: putLDIF,
		Index: indexView{LDAPURL: l.LDAPURL, Base: "o=postacert", LDIF: filepath.Join(putIndexDir, "index.ldif"),
			LDIFP7M: filepath.Join(putIndexDir, "index.ldif.p7m")}}
	for d, a := range l.labRoutes() {
		if !containsFold(p.Domains, d) {
			v.LabMX[d] = a
		}
	}
	for _, o := range l.listed() {
		v.Index.Providers = append(v.Index.Providers, filepath.Join(putIndexDir, o.Name+".ldif.p7m"))
	}
	if p.keyPEM != nil {
		v.Signing.Key = putSignerKey
	}
	if p.tlsPEM != nil {
		v.TLS = &certView{Certificate: putTLS}
		if p.tlsKey != nil {
			v.TLS.Key = putTLSKey
		}
	}
	if p.ldif != nil {
		v.Published = putLDIFP7M
	}
	return v
}
