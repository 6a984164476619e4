package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stormwatch/stormwatch/internal/proctest"
	"github.com/stormwatch/stormwatch/internal/store/storetest"
)

var (
	pebbleOnce sync.Once
	pebbleDir  string
	pebbleErr  error
)

// acmeLab is a real ACME CA (Pebble, Let's Encrypt's test server) with
// its DNS server (pebble-challtestsrv), both pinned in go.mod's tool block
// and listening on loopback only: every name resolves there, to 127.0.0.1.
type acmeLab struct {
	directory string // ACME directory URL
	caFile    string // PEM roots to trust when talking to Pebble
	dns       string // host:port of the DNS server
	dnsAdmin  string // its management API
	pebbleAPI string // Pebble's management API (issuance roots)
	client    *http.Client
}

// startACMELab starts Pebble, validating challenges on httpPort and
// tlsPort of 127.0.0.1.
func startACMELab(t *testing.T, httpPort, tlsPort int) *acmeLab {
	t.Helper()
	pebbleOnce.Do(func() {
		pebbleDir = filepath.Join(filepath.Dir(binary), "pebble-bin")
		for _, tool := range []string{"pebble", "pebble-challtestsrv"} {
			out, err := exec.Command("go", "build", "-o", filepath.Join(pebbleDir, tool), "github.com/letsencrypt/pebble/v2/cmd/"+tool).CombinedOutput()
			if err != nil {
				pebbleErr = fmt.Errorf("build %s: %v\n%s", tool, err, out)
				return
			}
		}
	})
	if pebbleErr != nil {
		t.Fatal(pebbleErr)
	}
	dir := t.TempDir()
	lab := &acmeLab{dns: freePort(t), dnsAdmin: freePort(t)}
	listen, mgmt := freePort(t), freePort(t)
	lab.directory, lab.pebbleAPI = "https://"+listen+"/dir", "https://"+mgmt
	caPEM, certPEM, keyPEM := localCA(t)
	lab.caFile = filepath.Join(dir, "ca.pem")
	for name, data := range map[string][]byte{"ca.pem": caPEM, "cert.pem": certPEM, "key.pem": keyPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg, _ := json.Marshal(map[string]any{"pebble": map[string]any{
		"listenAddress": listen, "managementListenAddress": mgmt,
		"certificate": filepath.Join(dir, "cert.pem"), "privateKey": filepath.Join(dir, "key.pem"),
		"httpPort": httpPort, "tlsPort": tlsPort, "ocspResponderURL": "", "externalAccountBindingRequired": false,
	}})
	if err := os.WriteFile(filepath.Join(dir, "pebble.json"), cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	dnsSrv := exec.Command(filepath.Join(pebbleDir, "pebble-challtestsrv"), "-dnsserver", lab.dns, "-management", lab.dnsAdmin,
		"-http01", "", "-https01", "", "-doh", "", "-tlsalpn01", "", "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "")
	pebble := exec.Command(filepath.Join(pebbleDir, "pebble"), "-config", filepath.Join(dir, "pebble.json"), "-dnsserver", lab.dns)
	pebble.Env = append(os.Environ(), "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0", "PEBBLE_AUTHZREUSE=0")
	logs := &proctest.Output{}
	for _, cmd := range []*exec.Cmd{dnsSrv, pebble} {
		cmd.Stdout, cmd.Stderr = logs, logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	lab.client = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := lab.client.Get(lab.directory)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("pebble did not start: %v\n%s", err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return lab
}

// dnsSet adds a record at the lab's DNS server (set-cname, set-txt, …).
func (l *acmeLab) dnsSet(t *testing.T, op string, body map[string]string) {
	t.Helper()
	raw, _ := json.Marshal(body)
	res, err := http.Post("http://"+l.dnsAdmin+"/"+op, "application/json", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("%s: %d", op, res.StatusCode)
	}
}

// issuanceRoots are the roots Pebble signs certificates with (fresh at
// every start), for a client that checks the served chain.
func (l *acmeLab) issuanceRoots(t *testing.T) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	for i := 0; ; i++ {
		res, err := l.client.Get(l.pebbleAPI + "/roots/" + strconv.Itoa(i))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			break
		}
		pool.AppendCertsFromPEM(body)
	}
	return pool
}

// localCA makes a CA and a certificate for localhost/127.0.0.1 signed by
// it, for Pebble's own HTTPS listeners.
func localCA(t *testing.T) (caPEM, certPEM, keyPEM []byte) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "stormwatch test CA"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

// fetchTLS connects to addr asking for host by SNI, checks the chain
// against roots, and GETs path; it returns the status, body and the
// served certificate's serial number.
func fetchTLS(addr, host, path string, roots *x509.CertPool) (int, string, string, error) {
	var serial string
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: host, VerifyConnection: func(cs tls.ConnectionState) error {
			serial = cs.PeerCertificates[0].SerialNumber.String()
			return nil
		}},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	res, err := c.Get("https://" + host + path)
	if err != nil {
		return 0, "", "", err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body), serial, nil
}

// TestCustomDomainWithACME: a workspace adds status.example.com, proves it
// with a CNAME, and its page is served over HTTPS with a certificate from
// a real ACME CA (Pebble), stored in PostgreSQL; a second replica on the
// same database serves the same certificate without issuing again; a name
// that is not verified gets no certificate; a removed domain stops at once.
func TestCustomDomainWithACME(t *testing.T) {
	dsn := storetest.FreshSchema(t)
	httpAddr, httpsAddr := freePort(t), freePort(t)
	_, httpPort, _ := net.SplitHostPort(httpAddr)
	_, tlsPort, _ := net.SplitHostPort(httpsAddr)
	hp, _ := strconv.Atoi(httpPort)
	tp, _ := strconv.Atoi(tlsPort)
	lab := startACMELab(t, hp, tp)

	db, key := acmeOn(t, "--database-url", dsn)
	tlsFlags := func(httpA, httpsA string) []string {
		return append(append([]string{}, db...), "--base-url", "http://127.0.0.1:0", "--tls", "--http-addr", httpA, "--https-addr", httpsA,
			"--acme-ca", lab.directory, "--acme-ca-root", lab.caFile, "--acme-email", "ops@example.com",
			"--dns-resolver", lab.dns, "--cname-target", "pages.stormwatch.example", "--hsts", "24h")
	}
	one := startServe(t, tlsFlags(httpAddr, httpsAddr)...)

	// Unverified at first: the answer names the record to create.
	code, dom := call(t, "POST", one.url+"/api/v1/domains", key, `{"hostname":"status.example.com"}`)
	if code != 201 || dom["verified"] != false || dom["cname"].(map[string]any)["value"] != "pages.stormwatch.example" {
		t.Fatalf("add domain: %d %v", code, dom)
	}
	id := dom["id"].(string)
	code, dom = call(t, "POST", one.url+"/api/v1/domains/"+id+"/verify", key, "")
	if code != 200 || dom["verified"] != false || !strings.Contains(dom["check_error"].(string), "pages.stormwatch.example") {
		t.Fatalf("verify before DNS: %d %v", code, dom)
	}
	// An unverified name gets no certificate, and nothing is asked of the CA.
	roots := lab.issuanceRoots(t)
	if _, _, _, err := fetchTLS(httpsAddr, "status.example.com", "/", roots); err == nil {
		t.Fatal("an unverified domain was served over HTTPS")
	}
	if _, _, _, err := fetchTLS(httpsAddr, "evil.example.net", "/", roots); err == nil {
		t.Fatal("a name nobody added was served over HTTPS")
	}

	// The CNAME appears; the check sees it.
	lab.dnsSet(t, "set-cname", map[string]string{"host": "status.example.com.", "target": "pages.stormwatch.example."})
	code, dom = call(t, "POST", one.url+"/api/v1/domains/"+id+"/verify", key, "")
	if code != 200 || dom["verified"] != true || dom["verified_by"] != "cname" {
		t.Fatalf("verify after DNS: %d %v", code, dom)
	}

	// The first visit obtains the certificate from Pebble (HTTP-01 or
	// TLS-ALPN-01 on this replica's ports) and serves the page with it.
	start := time.Now()
	status, body, serial, err := fetchTLS(httpsAddr, "status.example.com", "/", roots)
	if err != nil || status != 200 || !strings.Contains(body, "Acme Games") {
		t.Fatalf("first HTTPS visit: %d %v\n%s\nserver log:\n%s", status, err, body, one.stderr)
	}
	t.Logf("certificate obtained and page served in %v", time.Since(start).Round(time.Millisecond))
	code, dom = call(t, "GET", one.url+"/api/v1/domains/"+id, key, "")
	if cert, _ := dom["certificate"].(map[string]any); code != 200 || cert == nil || !strings.Contains(cert["issuer"].(string), "Pebble") {
		t.Errorf("domain after issuance: %d %v", code, dom)
	}

	// Plain HTTP redirects to HTTPS; HTTPS answers carry HSTS.
	req, _ := http.NewRequest("GET", "http://"+httpAddr+"/history", nil)
	req.Host = "status.example.com"
	res, err := (&http.Transport{}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusPermanentRedirect || res.Header.Get("Location") != "https://status.example.com:"+tlsPort+"/history" {
		t.Errorf("http answered %d to %q", res.StatusCode, res.Header.Get("Location"))
	}

	// A second replica on the same database serves the same certificate
	// (same serial) and asks the CA for nothing.
	twoHTTP, twoHTTPS := freePort(t), freePort(t)
	two := startServe(t, tlsFlags(twoHTTP, twoHTTPS)...)
	status, body, serial2, err := fetchTLS(twoHTTPS, "status.example.com", "/", roots)
	if err != nil || status != 200 || !strings.Contains(body, "Acme Games") {
		t.Fatalf("second replica: %d %v\n%s", status, err, two.stderr)
	}
	if serial2 != serial {
		t.Errorf("second replica served serial %s, first %s: it issued again", serial2, serial)
	}
	if strings.Contains(two.stderr.String(), "certificate obtained successfully") {
		t.Errorf("the second replica obtained a certificate:\n%s", two.stderr)
	}

	// Apex domains prove control with the TXT token instead.
	code, apex := call(t, "POST", one.url+"/api/v1/domains", key, `{"hostname":"example.org"}`)
	if code != 201 {
		t.Fatalf("add apex: %d %v", code, apex)
	}
	txt := apex["txt"].(map[string]any)
	lab.dnsSet(t, "set-txt", map[string]string{"host": txt["name"].(string) + ".", "value": txt["value"].(string)})
	if code, apex = call(t, "POST", one.url+"/api/v1/domains/"+apex["id"].(string)+"/verify", key, ""); code != 200 || apex["verified_by"] != "txt" {
		t.Errorf("apex by TXT: %d %v", code, apex)
	}

	// Removing the domain stops serving it at once, on every replica.
	if code, _ := call(t, "DELETE", one.url+"/api/v1/domains/"+id, key, ""); code != 204 {
		t.Fatalf("delete domain: %d", code)
	}
	for _, addr := range []string{httpsAddr, twoHTTPS} {
		if _, _, _, err := fetchTLS(addr, "status.example.com", "/", roots); err == nil {
			t.Errorf("%s still serves a removed domain", addr)
		}
	}
	// Over plain HTTP too (the replicas' --addr, as a proxy in front
	// would reach them), on the replica that served it a moment ago.
	for _, s := range []*server{one, two} {
		req, _ := http.NewRequest("GET", s.url+"/", nil)
		req.Host = "status.example.com"
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if strings.Contains(string(body), "Acme Games") {
			t.Errorf("%s still serves the page on a removed domain (%d)", s.url, res.StatusCode)
		}
	}
}
