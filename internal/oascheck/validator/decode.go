package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// decodeJSON parses exactly one JSON value into map[string]any, []any, string,
// json.Number, bool or nil. Numbers stay json.Number so integers are exact. Unlike
// json.Unmarshal it rejects invalid UTF-8, duplicate object members and trailing data,
// none of which a conforming producer should send.
func decodeJSON(data []byte) (any, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("empty, want a JSON value")
	}
	if !utf8.Valid(data) {
		return nil, errors.New("not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec, "")
	if err != nil {
		return nil, err
	}
	if tok, err := dec.Token(); err != io.EOF {
		if err != nil {
			return nil, fmt.Errorf("after the JSON value: %v", err)
		}
		return nil, fmt.Errorf("unexpected data after the JSON value: %v", tok)
	}
	return v, nil
}

func decodeValue(dec *json.Decoder, ptr string) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("invalid JSON at %s: %v", displayPointer(ptr), err)
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	switch d {
	case '{':
		m := map[string]any{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, fmt.Errorf("invalid JSON in object at %s: %v", displayPointer(ptr), err)
			}
			key, ok := kt.(string)
			if !ok {
				return nil, fmt.Errorf("invalid JSON in object at %s: member name is %v", displayPointer(ptr), kt)
			}
			child := ptr + "/" + escapePointerToken(key)
			if _, dup := m[key]; dup {
				return nil, fmt.Errorf("duplicate object member at %s", child)
			}
			v, err := decodeValue(dec, child)
			if err != nil {
				return nil, err
			}
			m[key] = v
		}
		if _, err := dec.Token(); err != nil {
			return nil, fmt.Errorf("invalid JSON at end of object %s: %v", displayPointer(ptr), err)
		}
		return m, nil
	case '[':
		a := []any{}
		for i := 0; dec.More(); i++ {
			v, err := decodeValue(dec, fmt.Sprintf("%s/%d", ptr, i))
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		if _, err := dec.Token(); err != nil {
			return nil, fmt.Errorf("invalid JSON at end of array %s: %v", displayPointer(ptr), err)
		}
		return a, nil
	}
	return nil, fmt.Errorf("invalid JSON at %s: unexpected %v", displayPointer(ptr), d)
}

// displayPointer shows a JSON pointer, naming the whole document "(root)".
func displayPointer(ptr string) string {
	if ptr == "" {
		return "(root)"
	}
	return ptr
}
