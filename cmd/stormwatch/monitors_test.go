package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stormwatch/stormwatch/internal/netnstest"
	"github.com/stormwatch/stormwatch/internal/probe/probetest"
	"github.com/stormwatch/stormwatch/internal/proctest"
)

// TestMonitorsEndToEnd runs real targets and checks them from two real
// agents, one of them in a network namespace of its own (a second
// location), and from the server itself: each target that fails makes
// the rules publish an incident that resolves when it answers again; a
// check failing from one location of two publishes nothing by default;
// the page's uptime is measured.
func TestMonitorsEndToEnd(t *testing.T) {
	pair := netnstest.Veth(t)
	octet := 1 + rand.IntN(250)
	hostIP, peerIP := fmt.Sprintf("198.18.%d.1", octet), fmt.Sprintf("198.18.%d.2", octet)
	netnstest.Run(t, "ip", "addr", "add", hostIP+"/30", "dev", pair.Host)
	netnstest.Run(t, "ip", "netns", "exec", pair.NS, "ip", "addr", "add", peerIP+"/30", "dev", pair.Peer)
	netnstest.Run(t, "ip", "netns", "exec", pair.NS, "ip", "link", "set", "lo", "up")

	// The website fails for everyone, or only for the second location.
	var failAll, failPeer atomic.Bool
	web := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failAll.Load() || (failPeer.Load() && strings.HasPrefix(r.RemoteAddr, peerIP+":")) {
			http.Error(w, "overloaded", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("welcome"))
	})}
	webLn, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	go web.Serve(webLn)
	defer web.Close()
	webURL := fmt.Sprintf("http://%s:%d/", hostIP, webLn.Addr().(*net.TCPAddr).Port)

	// A game server's TCP port, closed and opened again on the same port.
	game, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gameAddr := game.Addr().String()
	acceptAll := func(ln net.Listener) {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}
	go acceptAll(game)
	dns := probetest.NewDNS(t, map[string]string{"play.example.test": "192.0.2.10"})

	db, key := acmeOn(t, "--data-dir", t.TempDir())
	s := startServe(t, append(db, "--addr", "0.0.0.0:0", "--resolve-after", "1s", "--allow-private-webhooks")...)
	port := s.url[strings.LastIndex(s.url, ":")+1:]
	s.url = "http://127.0.0.1:" + port
	for _, c := range []string{"web", "game", "dns"} {
		if code, body := call(t, "POST", s.url+"/api/v1/components", key, `{"name":"`+strings.ToUpper(c)+`","slug":"`+c+`"}`); code != 201 {
			t.Fatalf("component %s: %v", c, body)
		}
	}
	tokens := map[string]string{}
	for _, name := range []string{"fra-1", "nyc-1"} {
		code, node := call(t, "POST", s.url+"/api/v1/nodes", key, `{"name":"`+name+`"}`)
		if code != 201 {
			t.Fatalf("node: %v", node)
		}
		tokens[name] = node["token"].(string)
	}
	for _, body := range []string{
		`{"component":"web","name":"web http","type":"http","target":"` + webURL + `","body_match":"welcome","interval":"5s","timeout":"2s","failures":1,"nodes":["fra-1","nyc-1"]}`,
		`{"component":"game","name":"game tcp","type":"tcp","target":"` + gameAddr + `","interval":"5s","timeout":"2s","failures":1}`,
		`{"component":"dns","name":"dns a","type":"dns","target":"play.example.test","server":"` + dns.Addr + `","expect":"192.0.2.10","interval":"5s","timeout":"2s","failures":1}`,
	} {
		if code, chk := call(t, "POST", s.url+"/api/v1/checks", key, body); code != 201 {
			t.Fatalf("check: %v", chk)
		}
	}
	agent := func(name string, prefix ...string) {
		server := s.url
		if len(prefix) > 0 {
			server = "http://" + hostIP + ":" + port
		}
		args := append(prefix, binary, "agent", "--server", server, "--token", tokens[name], "--spool-dir", t.TempDir(), "--heartbeat", "1s")
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = cleanEnv()
		proctest.Start(t, "agent "+name, cmd)
	}
	agent("fra-1")
	agent("nyc-1", "ip", "netns", "exec", pair.NS)

	incidents := func(slug string) []map[string]any {
		_, list := call(t, "GET", s.url+"/api/v1/incidents", key, "")
		var out []map[string]any
		for _, it := range list["data"].([]any) {
			inc := it.(map[string]any)
			for _, c := range inc["components"].([]any) {
				if c.(map[string]any)["slug"] == slug {
					out = append(out, inc)
				}
			}
		}
		return out
	}
	await := func(what string, within time.Duration, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(within); !ok(); time.Sleep(200 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within %s\n%s", what, within, s.stderr)
			}
		}
	}
	locations := func(check string) map[string]bool {
		_, k := call(t, "GET", s.url+"/api/v1/checks/"+strings.ReplaceAll(check, " ", "%20"), key, "")
		out := map[string]bool{}
		for _, l := range k["state"].([]any) {
			out[l.(map[string]any)["location"].(string)] = l.(map[string]any)["up"].(bool)
		}
		return out
	}
	// Every target answers: every location says up, nothing is published.
	await("both agents and the server report up", 20*time.Second, func() bool {
		w, g, d := locations("web http"), locations("game tcp"), locations("dns a")
		return w["fra-1"] && w["nyc-1"] && g["server"] && d["server"]
	})
	// Metrics carry every check's state per location.
	res, err := http.Get(s.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`stormwatch_check_up\{check="chk_\w+",location="server",type="tcp"\} 1`),
		regexp.MustCompile(`stormwatch_check_up\{check="chk_\w+",location="node_\w+",type="http"\} 1`),
		regexp.MustCompile(`stormwatch_check_latency_seconds\{check="chk_\w+",location="server",type="dns"\} \d`),
		regexp.MustCompile(`stormwatch_leading\{job="monitors"\} 1`),
	} {
		if !want.Match(metrics) {
			t.Errorf("/metrics lacks %s:\n%s", want, grepLines(string(metrics), "stormwatch_check"))
		}
	}
	// The website fails from one location only: a local problem, which
	// the default rules do not publish.
	failPeer.Store(true)
	await("nyc-1 sees the website down", 15*time.Second, func() bool { l := locations("web http"); return !l["nyc-1"] && l["fra-1"] })
	time.Sleep(3 * time.Second)
	if n := len(incidents("web")); n != 0 {
		t.Fatalf("one location of two failing published %d incidents; the default rules publish nothing", n)
	}
	failPeer.Store(false)
	await("nyc-1 sees the website up again", 15*time.Second, func() bool { return locations("web http")["nyc-1"] })

	// Each target fails for everyone in turn, then comes back.
	phases := []struct {
		slug       string
		fail, heal func()
	}{
		{"web", func() { failAll.Store(true) }, func() { failAll.Store(false) }},
		{"game", func() { game.Close() }, func() {
			ln, err := net.Listen("tcp", gameAddr)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ln.Close() })
			go acceptAll(ln)
		}},
		{"dns", func() { dns.Set("play.example.test", "192.0.2.99") }, func() { dns.Set("play.example.test", "192.0.2.10") }},
	}
	for _, ph := range phases {
		ph.fail()
		var inc map[string]any
		await(ph.slug+" published", 20*time.Second, func() bool {
			list := incidents(ph.slug)
			if len(list) == 1 {
				inc = list[0]
			}
			return inc != nil
		})
		_, comp := call(t, "GET", s.url+"/api/v1/components/"+ph.slug, key, "")
		if inc["visibility"] != "public" || inc["title"] != "Service disruption affecting "+strings.ToUpper(ph.slug) || comp["status"] != "major_outage" {
			t.Fatalf("%s: incident %v, component %v", ph.slug, inc, comp["status"])
		}
		ph.heal()
		await(ph.slug+" resolved", 25*time.Second, func() bool { return incidents(ph.slug)[0]["status"] == "resolved" })
	}

	// Measured uptime: components made minutes ago with a few seconds
	// down show a little under 100 % today, not the share of their life.
	code, up := call(t, "GET", s.url+"/s/acme/api/v2/uptime.json", "", "")
	if code != 200 {
		t.Fatalf("uptime.json: %d", code)
	}
	for _, c := range up["components"].([]any) {
		comp := c.(map[string]any)
		daily := comp["daily"].([]any)
		today := daily[len(daily)-1].(float64)
		if comp["measured"] != true || today >= 100 || today < 99.9 {
			t.Fatalf("%s: measured %v, today %.4f%%, want measured and within [99.9, 100)", comp["slug"], comp["measured"], today)
		}
	}
	code, _ = call(t, "GET", s.url+"/s/acme/components/web", "", "")
	if code != 200 {
		t.Fatalf("component page: %d", code)
	}
}
