package notify

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// SignWebhook returns the Standard Webhooks signature header value of a
// message: "v1," and the base64 HMAC-SHA256, keyed with the secret's
// decoded bytes, of "{id}.{unix seconds}.{body}". Receivers verify it with
// the specification's published libraries.
func SignWebhook(secret, id string, at time.Time, body []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return "", errors.New("webhook secret is not whsec_ followed by base64")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write([]byte(strconv.FormatInt(at.Unix(), 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// NewWebhookSecret makes a Standard Webhooks signing secret: whsec_ and
// 24 random bytes in base64.
func NewWebhookSecret() string {
	var b [24]byte
	_, _ = rand.Read(b[:]) // crypto/rand does not fail on supported platforms
	return "whsec_" + base64.StdEncoding.EncodeToString(b[:])
}
