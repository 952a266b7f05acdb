package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
)

// rawConn is a minimal HTTP/1.1 keep-alive client for one connection. Go's net/http client
// costs more CPU than the servers it would measure on two cores; this one writes prepared bytes
// and reads just the status line, headers and Content-Length body.
type rawConn struct {
	c    net.Conn
	r    *bufio.Reader
	host string
	req  []byte
}

func dialRaw(base string) (*rawConn, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		return nil, err
	}
	return &rawConn{c: c, r: bufio.NewReaderSize(c, 4096), host: u.Host, req: make([]byte, 0, 1024)}, nil
}

// postView sends one beacon from visitor v and returns the status code.
func (rc *rawConn) postView(body []byte, v int64) (int, error) {
	b := rc.req[:0]
	b = append(b, "POST /api/view HTTP/1.1\r\nHost: "...)
	b = append(b, rc.host...)
	b = append(b, "\r\nUser-Agent: "+benchUA+"\r\nContent-Type: text/plain;charset=UTF-8\r\nX-Forwarded-For: 10."...)
	b = strconv.AppendInt(b, v>>16&255, 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, v>>8&255, 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, v&255, 10)
	b = append(b, "\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, "\r\n\r\n"...)
	b = append(b, body...)
	rc.req = b
	if _, err := rc.c.Write(b); err != nil {
		return 0, err
	}
	return rc.readResponse()
}

var errChunked = errors.New("chunked responses are not expected")

func (rc *rawConn) readResponse() (int, error) {
	line, err := rc.r.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, err
	}
	length := 0
	for {
		h, err := rc.r.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		if len(h) <= 2 {
			break
		}
		if k, v, ok := bytes.Cut(h, []byte(":")); ok {
			switch {
			case bytes.EqualFold(k, []byte("Content-Length")):
				length, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
			case bytes.EqualFold(k, []byte("Transfer-Encoding")):
				return 0, errChunked
			}
		}
	}
	if _, err := rc.r.Discard(length); err != nil {
		return 0, err
	}
	return status, nil
}

func (rc *rawConn) close() { rc.c.Close() }
