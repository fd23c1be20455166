package web

import (
	"io"
	"net"
	"time"
)

// Lingering close: how long and how much a closed connection still reads.
const (
	lingerTimeout = time.Second
	lingerBytes   = 1 << 20
)

// Lingering wraps ln so that closing a connection first ends its sending
// side, then reads and drops what the client still sends, briefly, before
// closing it. The server refuses an oversized body from its headers and
// closes without reading it; a plain close with unread bytes makes the
// kernel reset the connection, and the client loses the 413 it was sent.
func Lingering(ln net.Listener) net.Listener { return lingerListener{ln} }

type lingerListener struct{ net.Listener }

func (l lingerListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok && err == nil {
		return lingerConn{tc}, nil
	}
	return c, err
}

type lingerConn struct{ *net.TCPConn }

// Close sends FIN at once and releases the socket once the client has
// closed its side, sent lingerBytes more, or lingerTimeout has passed.
func (c lingerConn) Close() error {
	if err := c.CloseWrite(); err != nil {
		return c.TCPConn.Close()
	}
	go func() {
		c.SetReadDeadline(time.Now().Add(lingerTimeout))
		io.CopyN(io.Discard, c.TCPConn, lingerBytes)
		c.TCPConn.Close()
	}()
	return nil
}
