package myaccount

import (
	"context"
	"slices"
)

// methodListAppender is implemented by a [Store] that can write a user's
// methods as the list's JSON itself, without handing out copies that the
// list would only read once: the memory store, whose methods never change
// once stored. It appends the methods' JSON objects, comma-separated, in
// ListMethods' order and with its filter, to b.
type methodListAppender interface {
	appendMethodList(ctx context.Context, b []byte, issuer, userID, typ string) ([]byte, error)
}

// appendMethodList implements methodListAppender. It holds the lock only to
// take the user's methods, which stay as they are (memoryStore), and the JSON
// an earlier list wrote of them, so that writing the rest holds up no other
// request. A method's JSON is kept until the method is replaced or deleted:
// it is written once, not on every list.
func (s *memoryStore) appendMethodList(ctx context.Context, b []byte, issuer, userID, typ string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return b, err
	}
	var room [32]listEntry // a user holds fewer methods than this, as a rule
	selected, written := room[:0], 0
	key := userKey{issuer, userID}
	s.mu.Lock()
	for _, m := range s.methods[key] {
		if typ == "" || m.Type == typ {
			selected = append(selected, listEntry{m, s.wire[m]})
		}
	}
	s.mu.Unlock()
	for i := range selected {
		e := &selected[i]
		if i > 0 {
			b = append(b, ',')
		}
		if e.wire != nil {
			b = append(b, e.wire...)
			continue
		}
		start := len(b)
		b = appendMethod(b, e.m)
		e.wire = slices.Clone(b[start:]) // b is the caller's, and reused
		written++
	}
	if written > 0 {
		s.keepWire(key, selected)
	}
	return b, nil
}

// listEntry is a method a list writes, and its JSON.
type listEntry struct {
	m    *Method
	wire []byte
}

// keepWire keeps the JSON a list wrote of the user's methods that are still
// stored: one replaced or deleted meanwhile is no longer there to be listed.
func (s *memoryStore) keepWire(key userKey, written []listEntry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.methods[key] {
		for _, e := range written {
			if e.m == m {
				s.wire[m] = e.wire
			}
		}
	}
}
