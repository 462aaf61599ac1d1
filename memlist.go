package myaccount

import "context"

// methodListAppender is implemented by a [Store] that can write a user's
// methods as the list's JSON itself, without handing out copies that the
// list would only read once: the memory store, whose methods never change
// once stored. It appends the methods' JSON objects, comma-separated, in
// ListMethods' order and with its filter, to b.
type methodListAppender interface {
	appendMethodList(ctx context.Context, b []byte, issuer, userID, typ string) ([]byte, error)
}

// appendMethodList implements methodListAppender. It holds the lock only to
// take the user's methods, which stay as they are (memoryStore), so that
// writing their JSON holds up no other request.
func (s *memoryStore) appendMethodList(ctx context.Context, b []byte, issuer, userID, typ string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return b, err
	}
	var room [32]*Method // a user holds fewer methods than this, as a rule
	selected := room[:0]
	s.mu.Lock()
	for _, m := range s.methods[userKey{issuer, userID}] {
		if typ == "" || m.Type == typ {
			selected = append(selected, m)
		}
	}
	s.mu.Unlock()
	for i, m := range selected {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendMethod(b, m)
	}
	return b, nil
}
