// Command fastbaseline serves the files of a directory from memory with
// fasthttp, the purpose-built server Gatus uses through Fiber: the
// ceiling a split of the public GET paths off net/http could reach on
// this machine, measured beside nginx and bench/gobaseline by
// bench/public-page.sh for the server decision (BENCHMARKS.md).
//
//	go run ./bench/fastbaseline --dir www --addr 127.0.0.1:18093
package main

import (
	"flag"
	"log"
	"os"
	"path/filepath"

	"github.com/valyala/fasthttp"
)

func main() {
	dir := flag.String("dir", ".", "directory whose files are served")
	addr := flag.String("addr", "127.0.0.1:18093", "listen address")
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
	log.Fatal(fasthttp.ListenAndServe(*addr, func(ctx *fasthttp.RequestCtx) {
		if string(ctx.Request.Header.Peek("If-None-Match")) == `"x"` {
			ctx.SetStatusCode(fasthttp.StatusNotModified)
			return
		}
		name := string(ctx.Path())
		if gz, ok := files[name+".gz"]; ok && string(ctx.Request.Header.Peek("Accept-Encoding")) == "gzip" {
			ctx.Response.Header.Set("Content-Encoding", "gzip")
			ctx.SetBody(gz)
			return
		}
		b, ok := files[name]
		if !ok {
			ctx.SetStatusCode(fasthttp.StatusNotFound)
			return
		}
		ctx.SetBody(b)
	}))
}
