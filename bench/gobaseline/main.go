// Command gobaseline serves the files of a directory from memory with Go's
// net/http and nothing else: the ceiling of any net/http server on this
// machine, measured beside nginx by bench/public-page.sh.
//
//	go run ./bench/gobaseline --dir www --addr 127.0.0.1:18092
package main

import (
	"flag"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
)

func main() {
	dir := flag.String("dir", ".", "directory whose files are served")
	addr := flag.String("addr", "127.0.0.1:18092", "listen address")
	flag.Parse()
	files := map[string][]byte{}
	entries, err := os.ReadDir(*dir)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(*dir, e.Name()))
		if err != nil {
			log.Fatal(err)
		}
		files["/"+e.Name()] = b
	}
	log.Fatal(http.ListenAndServe(*addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == `"x"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		name := r.URL.Path
		if gz, ok := files[name+".gz"]; ok && r.Header.Get("Accept-Encoding") == "gzip" {
			w.Header()["Content-Encoding"] = []string{"gzip"}
			w.Header()["Content-Length"] = []string{strconv.Itoa(len(gz))}
			_, _ = w.Write(gz)
			return
		}
		b, ok := files[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header()["Content-Length"] = []string{strconv.Itoa(len(b))}
		_, _ = w.Write(b)
	})))
}
