package domains

import (
	"errors"
	"net"
	"strings"
	"testing"
)

func TestJudge(t *testing.T) {
	const host, target, token = "status.example.com", "pages.stormwatch.test", "stormwatch-verify=abc"
	notFound := &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	tests := []struct {
		name    string
		l       lookup
		by      string
		problem string
	}{
		{"cname to target", lookup{canonical: "pages.stormwatch.test."}, "cname", ""},
		{"cname to target, other case", lookup{canonical: "Pages.Stormwatch.Test."}, "cname", ""},
		{"cname to where the target points", lookup{canonical: "lb-7.cloud.test.", targetCanonical: "lb-7.cloud.test."}, "cname", ""},
		{"txt token", lookup{canonical: host + ".", txt: []string{"v=spf1 -all", token}}, "txt", ""},
		{"txt token, no address", lookup{cnameErr: notFound, txt: []string{token}}, "txt", ""},
		{"nothing yet", lookup{cnameErr: notFound, txtErr: notFound}, "", "has no DNS record yet; create a CNAME to pages.stormwatch.test"},
		{"address record", lookup{canonical: host + "."}, "", "has no CNAME record"},
		{"elsewhere", lookup{canonical: "ghs.googlehosted.com."}, "", "points at ghs.googlehosted.com, not at pages.stormwatch.test"},
		{"wrong token", lookup{canonical: host + ".", txt: []string{"stormwatch-verify=other"}}, "", "does not hold the token"},
		{"lookup failed", lookup{cnameErr: errors.New("i/o timeout"), txtErr: errors.New("i/o timeout")}, "", "DNS lookup of status.example.com failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := judge(host, target, token, tt.l)
			if got.By != tt.by || !strings.Contains(got.Problem, tt.problem) || (tt.by != "" && got.Problem != "") {
				t.Errorf("judge = %+v, want by %q problem containing %q", got, tt.by, tt.problem)
			}
		})
	}
}

func TestTokenIsStablePerDomainAndKey(t *testing.T) {
	a, b := &Checker{Key: []byte("one")}, &Checker{Key: []byte("two")}
	again := &Checker{Key: []byte("one")} // another replica of the same installation
	if a.Token("dom_1") != again.Token("dom_1") || a.Token("dom_1") == a.Token("dom_2") || a.Token("dom_1") == b.Token("dom_1") {
		t.Error("tokens are not one per domain and installation")
	}
	if !strings.HasPrefix(a.Token("dom_1"), "stormwatch-verify=") {
		t.Errorf("token %q", a.Token("dom_1"))
	}
}
