package web

import (
	"io"
	"net"
	"testing"
)

// A server that answers without reading what the client sent, and closes,
// still gets its answer through: no reset discards it.
func TestLingeringCloseKeepsTheAnswer(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := Lingering(raw)
	defer ln.Close()
	closed := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			closed <- err
			return
		}
		// Like a 413 from the headers: answer, read nothing, close.
		if _, err := c.Write([]byte("413 answer")); err != nil {
			closed <- err
			return
		}
		closed <- c.Close()
	}()
	c, err := net.Dial("tcp", raw.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	body := make([]byte, 64<<10)
	if _, err := c.Write(body); err != nil {
		t.Fatal(err)
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	// More of the body after the server closed: a plain close would have
	// answered the unread bytes with a reset already.
	if _, err := c.Write(body); err != nil {
		t.Fatalf("writing after the server's close: %v", err)
	}
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "413 answer" {
		t.Fatalf("read %q, %v; want the answer and EOF", got, err)
	}
}
