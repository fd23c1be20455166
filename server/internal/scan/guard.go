package scan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// RefusedError says why the scanner would not go somewhere.
type RefusedError struct {
	URL    string
	Reason string
}

func (e *RefusedError) Error() string { return "refused " + e.URL + ": " + e.Reason }

// blocked are the address ranges a scan must not reach unless told to:
// they lead into the machine or network the scanner runs in, not to the
// public site. Loopback, RFC 1918/4193 private and link-local (which holds
// the cloud metadata address 169.254.169.254) are checked with netip's
// predicates; these are the rest.
var blocked = func() []netip.Prefix {
	var ps []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",          // "this network"
		"100.64.0.0/10",      // carrier-grade NAT; Alibaba's metadata 100.100.100.200
		"192.0.0.0/24",       // IETF protocol assignments
		"198.18.0.0/15",      // benchmarking
		"240.0.0.0/4",        // reserved, and broadcast
		"64:ff9b::/96",       // NAT64: may embed any IPv4 address
		"64:ff9b:1::/48",     // local-use NAT64
		"2002::/16",          // 6to4: may embed any IPv4 address
		"fd00:ec2::254/128",  // AWS metadata over IPv6 (within fc00::/7 too)
		"2001:db8::/32",      // documentation
		"100::/64",           // discard
		"::ffff:0:0/96",      // IPv4-mapped (unmapped before the check)
		"fec0::/10",          // deprecated site-local
		"ff00::/8",           // multicast
		"224.0.0.0/4",        // multicast
		"169.254.169.254/32", // metadata (link-local, named for the reader)
	} {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	return ps
}()

// publicAddr reports whether a is a public unicast address.
func publicAddr(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsUnspecified() || a.IsMulticast() || a.IsInterfaceLocalMulticast() {
		return false
	}
	for _, p := range blocked {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// Guard decides where the browser may go: pages only on the site's allowed
// origins, and any connection only to public addresses (unless
// AllowPrivate), checked on the address actually dialled, so DNS answers
// that change between check and use (rebinding) cannot get around it.
type Guard struct {
	Origins      map[string]bool // scheme://host[:port] pages may be on
	AllowPrivate bool
	Resolver     *net.Resolver
	// Lookup, when set, resolves names instead of Resolver; its answers
	// are checked all the same.
	Lookup func(ctx context.Context, host string) ([]netip.Addr, error)
}

// Origin is scheme://host[:port] of u, with default ports dropped.
func Origin(u *url.URL) string {
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	port := u.Port()
	if (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		port = ""
	}
	if port != "" {
		host += ":" + port
	}
	return strings.ToLower(u.Scheme) + "://" + host
}

// CheckPage refuses a page URL outside the site's allowed origins, or on a
// host that resolves to a non-public address.
func (g *Guard) CheckPage(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &RefusedError{raw, "not an absolute http(s) URL"}
	}
	if u.User != nil {
		return &RefusedError{raw, "URLs with credentials are not scanned"}
	}
	if !g.Origins[Origin(u)] {
		return &RefusedError{raw, "origin " + Origin(u) + " is not one of the site's allowed origins"}
	}
	_, err = g.resolve(ctx, u.Hostname())
	if err != nil {
		return &RefusedError{raw, err.Error()}
	}
	return nil
}

// resolve returns host's addresses, refusing if any is not public: a name
// that answers with a private address as well is not trusted at all.
func (g *Guard) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		addrs = []netip.Addr{a}
	} else if g.Lookup != nil {
		if addrs, err = g.Lookup(ctx, host); err != nil {
			return nil, fmt.Errorf("cannot resolve %s: %w", host, err)
		}
	} else {
		r := g.Resolver
		if r == nil {
			r = net.DefaultResolver
		}
		if addrs, err = r.LookupNetIP(ctx, "ip", host); err != nil {
			return nil, fmt.Errorf("cannot resolve %s: %w", host, err)
		}
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("%s has no address", host)
	}
	if !g.AllowPrivate {
		for _, a := range addrs {
			if !publicAddr(a) {
				return nil, fmt.Errorf("%s resolves to %s, a loopback, private, link-local or metadata address (use --allow-private for a local test site)", host, a.Unmap())
			}
		}
	}
	return addrs, nil
}

// dial connects to host:port on an address that passed the check.
func (g *Guard) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	addrs, err := g.resolve(ctx, host)
	if err != nil {
		return nil, err
	}
	d := net.Dialer{Timeout: 10 * time.Second}
	var errs []error
	for _, a := range addrs {
		c, err := d.DialContext(ctx, network, net.JoinHostPort(a.Unmap().String(), port))
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// proxy is the HTTP proxy Chromium must use for every request: it dials
// only through the guard and counts every byte against the scan's budget.
type proxy struct {
	g         *Guard
	budget    atomic.Int64 // bytes left
	used      atomic.Int64
	transport *http.Transport
	srv       *http.Server
	ln        net.Listener

	mu      sync.Mutex
	refused []Refusal
}

var errBudget = errors.New("the scan's byte limit is reached")

func newProxy(g *Guard, maxBytes int64) (*proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &proxy{g: g, ln: ln}
	p.budget.Store(maxBytes)
	p.transport = &http.Transport{DialContext: g.dial, Proxy: nil, MaxIdleConns: 32, IdleConnTimeout: 30 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second, DisableCompression: true}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go p.srv.Serve(ln)
	return p, nil
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) close() {
	p.srv.Close()
	p.transport.CloseIdleConnections()
}

func (p *proxy) refuse(u, reason string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range p.refused {
		if r.URL == u {
			return
		}
	}
	if len(p.refused) < 200 {
		p.refused = append(p.refused, Refusal{URL: u, Reason: reason})
	}
}

func (p *proxy) refusals() []Refusal {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Refusal(nil), p.refused...)
}

// take counts n bytes; false once the budget is spent.
func (p *proxy) take(n int) bool {
	p.used.Add(int64(n))
	return p.budget.Add(-int64(n)) >= 0
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p.budget.Load() <= 0 {
		p.refuse(r.Host, errBudget.Error())
		http.Error(w, errBudget.Error(), http.StatusForbidden)
		return
	}
	if r.Method == http.MethodConnect {
		p.tunnel(w, r)
		return
	}
	if r.URL.Scheme != "http" || r.URL.Host == "" {
		http.Error(w, "not a proxy request", http.StatusBadRequest)
		return
	}
	out := r.Clone(r.Context())
	out.RequestURI = ""
	for _, h := range []string{"Proxy-Connection", "Proxy-Authorization", "Connection", "Keep-Alive", "Te", "Trailer", "Upgrade"} {
		out.Header.Del(h)
	}
	res, err := p.transport.RoundTrip(out)
	if err != nil {
		p.refuse(r.URL.String(), err.Error())
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer res.Body.Close()
	for _, h := range []string{"Connection", "Keep-Alive", "Proxy-Connection", "Trailer", "Upgrade"} {
		res.Header.Del(h)
	}
	for k, vs := range res.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(res.StatusCode)
	buf := make([]byte, 32<<10)
	for {
		n, err := res.Body.Read(buf)
		if n > 0 {
			if !p.take(n) {
				p.refuse(r.URL.String(), errBudget.Error())
				return
			}
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// tunnel serves CONNECT (HTTPS, WebSockets over TLS): the target address is
// checked; the encrypted bytes are counted.
func (p *proxy) tunnel(w http.ResponseWriter, r *http.Request) {
	up, err := p.g.dial(r.Context(), "tcp", r.Host)
	if err != nil {
		p.refuse("https://"+r.Host, err.Error())
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		up.Close()
		http.Error(w, "no hijacking", http.StatusInternalServerError)
		return
	}
	down, rw, err := hj.Hijack()
	if err != nil {
		up.Close()
		return
	}
	if _, err := down.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n")); err != nil {
		up.Close()
		down.Close()
		return
	}
	var once sync.Once
	done := func() { once.Do(func() { up.Close(); down.Close() }) }
	go func() { p.copy(up, rw, done) }()
	p.copy(down, up, done)
}

func (p *proxy) copy(dst io.Writer, src io.Reader, done func()) {
	defer done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !p.take(n) {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
