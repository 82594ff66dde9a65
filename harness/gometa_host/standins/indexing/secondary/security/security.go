// Package security is a TLS-off stand-in for Couchbase indexing's
// secondary/security package, written for the gometa conformance host.
//
// gometa's leader listener, follower dial and connection wrapping go through
// these functions. With encryption never initialised, the real package keeps
// the address as given, listens on IPv4 only unless told otherwise, dials
// plain TCP and hands connections back untouched; this file does the same.
package security

import (
	"fmt"
	"net"
	"sync/atomic"
)

var useIPv6 atomic.Bool

// SetIpv6 selects the listener family, mirroring the real package's flag.
func SetIpv6(on bool) { useIPv6.Store(on) }

// IsIpv6 reports the listener family flag.
func IsIpv6() bool { return useIPv6.Load() }

// splitJoin validates addr the way the real package does before any port
// remapping (which only happens with encryption on) and returns it rebuilt.
func splitJoin(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(host, port), nil
}

// MakeListener opens the plain TCP listener gometa's PeerListener accepts on.
func MakeListener(addr string) (net.Listener, error) {
	a, err := splitJoin(addr)
	if err != nil {
		return nil, err
	}
	network := "tcp4"
	if IsIpv6() {
		network = "tcp6"
	}
	return net.Listen(network, a)
}

// MakeTCPConn dials the leader for a follower or watcher.
func MakeTCPConn(addr string) (*net.TCPConn, error) {
	a, err := splitJoin(addr)
	if err != nil {
		return nil, err
	}
	c, err := net.Dial("tcp", a)
	if err != nil {
		return nil, err
	}
	tc, ok := c.(*net.TCPConn)
	if !ok {
		c.Close()
		return nil, fmt.Errorf("security stand-in: %T is not a TCP connection", c)
	}
	return tc, nil
}

// SecureConn would wrap conn in TLS; with TLS off it returns conn unchanged.
func SecureConn(conn net.Conn, hostname, port string) (net.Conn, error) {
	return conn, nil
}
