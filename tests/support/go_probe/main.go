// The Go side of the differential tests (tests/upstream/test_go_differential.py): reads one
// JSON request per line, answers with what Go's own standard library says, one JSON line each.
// Strings travel as base64 because Go strings are bytes, not text.
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/netip"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

type request struct {
	Op string `json:"op"`
	In string `json:"in"`
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func answer(op string, in string) map[string]any {
	out := map[string]any{}
	switch op {
	case "parse":
		u, err := url.Parse(in)
		if err != nil {
			out["err"] = b64(err.Error())
			return out
		}
		out["scheme"], out["opaque"], out["host"] = b64(u.Scheme), b64(u.Opaque), b64(u.Host)
		out["path"], out["raw_query"], out["fragment"] = b64(u.Path), b64(u.RawQuery), b64(u.Fragment)
		if u.User != nil {
			password, set := u.User.Password()
			out["user"] = []any{b64(u.User.Username()), b64(password), set}
		}
		values := u.Query()
		keys := make([]string, 0, len(values))
		for k := range values {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		query := []any{}
		for _, k := range keys {
			encoded := []string{}
			for _, v := range values[k] {
				encoded = append(encoded, b64(v))
			}
			query = append(query, []any{b64(k), encoded})
		}
		out["query"] = query
	case "atoi":
		n, err := strconv.Atoi(in)
		if err != nil {
			out["err"] = b64(err.Error())
		} else {
			out["value"] = strconv.Itoa(n)
		}
	case "quote":
		out["value"] = b64(strconv.Quote(in))
	case "duration":
		d, err := time.ParseDuration(in)
		if err != nil {
			out["err"] = b64(err.Error())
		} else {
			out["value"] = strconv.FormatInt(int64(d), 10)
		}
	case "split":
		host, port, err := net.SplitHostPort(in)
		if err != nil {
			out["err"] = b64(err.Error())
		} else {
			out["host"], out["port"] = b64(host), b64(port)
		}
	case "join":
		host, port, _ := strings.Cut(in, "\x00")
		out["value"] = b64(net.JoinHostPort(host, port))
	case "blank":
		out["value"] = strings.TrimSpace(in) == ""
	case "addr":
		a, err := netip.ParseAddr(in)
		if err != nil {
			out["err"] = b64(err.Error())
		} else {
			out["is4"] = a.Is4()
		}
	}
	return out
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<24)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var req request
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			panic(err)
		}
		raw, err := base64.StdEncoding.DecodeString(req.In)
		if err != nil {
			panic(err)
		}
		if err := out.Encode(answer(req.Op, string(raw))); err != nil {
			panic(err)
		}
	}
}
