package notify

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/wneessen/go-mail"
)

// DKIM is how a mail from a workspace's own domain is signed.
type DKIM struct {
	Domain, Selector string
	Signer           crypto.Signer
}

// dkimHeaders are the header fields a signature covers: what a reader
// sees and what threads the mail.
var dkimHeaders = []string{"From", "To", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
	"List-Unsubscribe", "List-Unsubscribe-Post", "List-Id", "MIME-Version", "Content-Type"}

// NewDKIMKey makes an RSA 2048 key (what every receiver verifies) as
// PKCS#8 PEM.
func NewDKIMKey() (string, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), nil
}

// ParseDKIMKey reads a key made by NewDKIMKey.
func ParseDKIMKey(pemKey string) (crypto.Signer, error) {
	block, _ := pem.Decode([]byte(pemKey))
	if block == nil {
		return nil, errors.New("dkim key: no PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("dkim key: %w", err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, errors.New("dkim key: not a signing key")
	}
	return s, nil
}

// DKIMRecord is the TXT record value to publish at
// <selector>._domainkey.<domain> for key.
func DKIMRecord(key crypto.Signer) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return "", err
	}
	return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der), nil
}

// signDKIM renders out, signs the bytes and adds the signature header:
// go-mail renders a message the same way every time (its multipart
// boundaries are kept), so the bytes sent are the bytes signed.
func signDKIM(out *mail.Msg, d *DKIM) error {
	var raw bytes.Buffer
	if _, err := out.WriteTo(&raw); err != nil {
		return fmt.Errorf("render mail for dkim: %w", err)
	}
	rendered := raw.Bytes()
	var signed bytes.Buffer
	err := dkim.Sign(&signed, bytes.NewReader(rendered), &dkim.SignOptions{Domain: d.Domain, Selector: d.Selector, Signer: d.Signer,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed, BodyCanonicalization: dkim.CanonicalizationRelaxed,
		HeaderKeys: dkimHeaders})
	if err != nil {
		return fmt.Errorf("dkim sign: %w", err)
	}
	// The signer wrote the signature field, then the message as it was.
	field, ok := strings.CutSuffix(signed.String(), string(rendered))
	value, found := strings.CutPrefix(strings.TrimSuffix(field, "\r\n"), "DKIM-Signature: ")
	if !ok || !found {
		return errors.New("dkim sign: no signature header in the output")
	}
	// go-mail writes a header on one line; relaxed canonicalization
	// makes the unfolded field verify the same.
	out.SetGenHeaderPreformatted("DKIM-Signature", strings.ReplaceAll(value, "\r\n", ""))
	return nil
}
