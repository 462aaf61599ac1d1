package pgstore

import (
	"encoding/binary"
	"slices"
	"strings"
	"testing"
)

// encodeTextArray is PostgreSQL's binary send format of a one-dimensional
// text[] holding elems.
func encodeTextArray(elems []string) []byte {
	b := binary.BigEndian.AppendUint32(nil, 1) // dimensions
	b = binary.BigEndian.AppendUint32(b, 0)    // no NULLs
	b = binary.BigEndian.AppendUint32(b, 25)   // element type: text
	b = binary.BigEndian.AppendUint32(b, uint32(len(elems)))
	b = binary.BigEndian.AppendUint32(b, 1) // lower bound
	for _, e := range elems {
		b = binary.BigEndian.AppendUint32(b, uint32(len(e)))
		b = append(b, e...)
	}
	return b
}

// FuzzEachArrayElement: a well-formed array decodes to its elements, and no
// input, however malformed, makes decoding panic or read past its end.
func FuzzEachArrayElement(f *testing.F) {
	f.Add("internal\x00hybrid", []byte{0, 0, 0, 1, 0, 0, 0, 0})
	f.Add("", []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 25})
	f.Add("usb", []byte{0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 25, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 0, 0, 0, 9})
	f.Fuzz(func(t *testing.T, joined string, raw []byte) {
		want := strings.Split(joined, "\x00")
		var got []string
		if err := eachArrayElement(encodeTextArray(want), func(b []byte) { got = append(got, string(b)) }); err != nil {
			t.Fatalf("decode %q: %v", want, err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("decoded %q, want %q", got, want)
		}
		_ = eachArrayElement(raw, func([]byte) {})
		_, _ = decodeTime(raw)
	})
}
