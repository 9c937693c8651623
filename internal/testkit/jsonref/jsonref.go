// Package jsonref holds the pieces the differential fuzz targets build their reference
// decoders from, all on encoding/json: an object's members in order with repeats kept
// (encoding/json's maps and structs hide both), the text encoding/json makes of invalid
// UTF-8, and the nesting depth of a value. Test code only.
package jsonref

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Member is one member of a JSON object: its unescaped name and its raw value.
type Member struct {
	Name  string
	Value json.RawMessage
}

// Members returns the members of the JSON object raw, in order, repeats kept. It fails
// when raw is not one valid JSON object.
func Members(raw []byte) ([]Member, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not an object")
	}
	var out []Member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("member name %v", tok)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, Member{name, v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("text after the object")
	}
	return out, nil
}

// Kind is the JSON type of a raw value: '"', '{', '[', 'n' (null), 't' (true or false)
// or '0' (a number).
func Kind(v json.RawMessage) byte {
	v = bytes.TrimLeft(v, " \t\r\n")
	if len(v) == 0 {
		return 0
	}
	switch c := v[0]; c {
	case '"', '{', '[', 'n':
		return c
	case 't', 'f':
		return 't'
	}
	return '0'
}

// Text is s as encoding/json decodes it when it holds invalid UTF-8: every byte that is not
// part of a valid sequence becomes U+FFFD.
func Text(s []byte) string {
	if utf8.Valid(s) {
		return string(s)
	}
	var b []byte
	for len(s) > 0 {
		r, n := utf8.DecodeRune(s)
		if r == utf8.RuneError && n == 1 {
			b = utf8.AppendRune(b, utf8.RuneError)
		} else {
			b = append(b, s[:n]...)
		}
		s = s[n:]
	}
	return string(b)
}

// Depth is the deepest nesting of arrays and objects in the JSON text b (strings are
// skipped; b need not be valid).
func Depth(b []byte) int {
	d, deepest := 0, 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
		case '[', '{':
			if d++; d > deepest {
				deepest = d
			}
		case ']', '}':
			d--
		}
	}
	return deepest
}
