package firehose

import "github.com/aient/firehose-drain/internal/jsonscan"

// walkObject calls fn with each key of the object at b[i] == '{' and the index of its
// value; fn returns the index after the value. It returns the index after the object.
func walkObject(b []byte, i, depth int, fn func(key []byte, v int) (int, error)) (int, error) {
	if depth > jsonscan.MaxDepth {
		return 0, &jsonscan.SyntaxError{Offset: i, Msg: "nested too deeply"}
	}
	i++
	for first := true; ; first = false {
		var done bool
		var err error
		if i, done, err = jsonscan.Member(b, i, first, '}', "input"); err != nil || done {
			return i, err
		}
		if i >= len(b) || b[i] != '"' {
			return 0, &jsonscan.SyntaxError{Offset: i, Msg: "expected a key"}
		}
		end, esc, ok := jsonscan.ScanString(b, i)
		if !ok {
			return 0, &jsonscan.SyntaxError{Offset: i, Msg: "unterminated string"}
		}
		key := b[i+1 : end-1]
		if esc {
			if key, ok = jsonscan.Unescape(nil, key); !ok {
				return 0, &jsonscan.SyntaxError{Offset: i, Msg: "bad string escape"}
			}
		}
		i = jsonscan.SkipWS(b, end)
		if i >= len(b) || b[i] != ':' {
			return 0, &jsonscan.SyntaxError{Offset: i, Msg: "expected :"}
		}
		i = jsonscan.SkipWS(b, i+1)
		if i >= len(b) {
			return 0, &jsonscan.SyntaxError{Offset: i, Msg: "unexpected end of input"}
		}
		if i, err = fn(key, i); err != nil {
			return 0, err
		}
	}
}

// walkArray calls fn with the index of each value of the array at b[i] == '['.
func walkArray(b []byte, i int, fn func(v int) (int, error)) (int, error) {
	i++
	for first := true; ; first = false {
		var done bool
		var err error
		if i, done, err = jsonscan.Member(b, i, first, ']', "input"); err != nil || done {
			return i, err
		}
		if i >= len(b) {
			return 0, &jsonscan.SyntaxError{Offset: i, Msg: "unexpected end of input"}
		}
		if i, err = fn(i); err != nil {
			return 0, err
		}
	}
}

// readString returns the content of the JSON string at b[i]: a slice of b when it has
// no escapes, else a new unescaped copy.
func readString(b []byte, i int) ([]byte, int, error) {
	end, esc, ok := jsonscan.ScanString(b, i)
	if !ok {
		return nil, 0, &jsonscan.SyntaxError{Offset: i, Msg: "unterminated string"}
	}
	s := b[i+1 : end-1]
	if esc {
		if s, ok = jsonscan.Unescape(make([]byte, 0, len(s)), s); !ok {
			return nil, 0, &jsonscan.SyntaxError{Offset: i, Msg: "bad string escape"}
		}
	}
	return s, end, nil
}
