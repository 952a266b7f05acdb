package session

import "time"

// ID derives the id from an address already formatted, as the specification writes it: the
// tests hold IDAddr to the formula through it.
func (d *Deriver) ID(ip, userAgent string, t time.Time) ID {
	var buf [512]byte
	return d.sum(append(buf[:0], ip...), userAgent, t)
}
