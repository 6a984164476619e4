package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stormwatch/stormwatch/internal/store/storetest"
)

// TestDeployNginxConfigIsValid checks the shipped deploy/nginx.conf with
// the real nginx (nginx -t), its paths moved into a temporary directory.
func TestDeployNginxConfigIsValid(t *testing.T) {
	if _, err := exec.LookPath("nginx"); err != nil {
		storetest.RequireReal(t, "nginx (apt-get install nginx-light)")
	}
	dir := t.TempDir()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "status.example.com"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cert := write("c.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	keyFile := write("k.pem", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}))
	raw, err := os.ReadFile("../../deploy/nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	site := strings.NewReplacer("/var/cache/nginx/stormwatch", filepath.Join(dir, "cache"),
		"/etc/ssl/status.example.com.pem", cert, "/etc/ssl/status.example.com.key", keyFile).Replace(string(raw))
	siteFile := write("site.conf", []byte(site))
	conf := write("nginx.conf", []byte("pid "+filepath.Join(dir, "pid")+"; error_log "+filepath.Join(dir, "err")+
		"; events {} http { include "+siteFile+"; }\n"))
	if out, err := exec.Command("nginx", "-t", "-c", conf).CombinedOutput(); err != nil {
		t.Fatalf("nginx -t: %v\n%s", err, out)
	}
}
