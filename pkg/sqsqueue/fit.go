package sqsqueue

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"unicode/utf8"

	"github.com/aient/firehose-drain/pkg/event"
)

// errTooLarge is returned by Fit for an event that does not fit even with an empty
// message and no attributes.
var errTooLarge = errors.New("event too large for one message")

// Fit returns e as a JSON message body of at most max bytes. An event whose JSON is too
// long loses its breadcrumbs first, oldest first; if it still does not fit without any,
// its Message is cut at a UTF-8 boundary and Truncated set; if it still does not fit with
// an empty Message, its Attributes are dropped too. e itself is not modified.
//
// The body is valid JSON and valid UTF-8 that SQS accepts: HTML characters are not
// escaped, and the characters SQS refuses raw (U+FFFE, U+FFFF) are written as \u escapes.
func Fit(e *event.Event, max int) ([]byte, error) {
	body, err := encode(e)
	if err != nil {
		return nil, err
	}
	if len(body) <= max {
		return body, nil
	}
	c := *e
	if n := len(c.Breadcrumbs); n > 0 {
		// The fewest oldest breadcrumbs to drop for the body to fit (fewer kept, shorter).
		drop := sort.Search(n+1, func(d int) bool {
			c.Breadcrumbs = e.Breadcrumbs[d:]
			b, err := encode(&c)
			return err == nil && len(b) <= max
		})
		if drop <= n {
			c.Breadcrumbs = e.Breadcrumbs[drop:]
			if drop == n {
				c.Breadcrumbs = nil
			}
			return encode(&c)
		}
		c.Breadcrumbs = nil
	}
	c.Truncated = true
	msg := c.Message
	c.Message = ""
	empty, err := encode(&c)
	if err != nil {
		return nil, err
	}
	if len(empty) > max {
		c.Attributes = nil
		if empty, err = encode(&c); err != nil {
			return nil, err
		}
		if len(empty) > max {
			return nil, fmt.Errorf("sqsqueue: event %s is %d bytes without its message, over %d: %w", e.ID, len(empty), max, errTooLarge)
		}
	}
	// Cut where the escaped prefix fills the room left, then make sure: the estimate
	// follows encoding/json's escaping; should it ever fall short, the room shrinks by the
	// excess each round until the body fits (at worst with an empty message).
	budget := max - len(empty)
	cut := prefixFitting(msg, budget)
	for {
		c.Message = msg[:cut]
		if body, err = encode(&c); err != nil {
			return nil, err
		}
		if len(body) <= max {
			return body, nil
		}
		budget -= len(body) - max
		cut = prefixFitting(msg[:cut], budget)
	}
}

// prefixFitting returns the length of the longest prefix of s, ending at a rune boundary,
// whose JSON string escaping takes at most budget bytes.
func prefixFitting(s string, budget int) int {
	used, i := 0, 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		n := escapedLen(r, size)
		if used+n > budget {
			break
		}
		used += n
		i += size
	}
	return i
}

// escapedLen is the length of rune r (size bytes in the input) in encode's output.
func escapedLen(r rune, size int) int {
	switch {
	case r == utf8.RuneError && size == 1:
		return len(`\ufffd`)
	case r == '"', r == '\\', r == '\n', r == '\r', r == '\t', r == '\b', r == '\f':
		return 2
	case r < 0x20, r == '\u2028', r == '\u2029', r == '\uFFFE', r == '\uFFFF':
		return len(`\u0000`)
	}
	return size
}

// encode marshals e without HTML escaping, and escapes U+FFFE and U+FFFF, which
// encoding/json writes raw but SQS does not accept. They can only occur inside JSON
// strings, where the escape means the same character.
func encode(e *event.Event) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return nil, encodeError(e, err)
	}
	body := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if bytes.Contains(body, []byte("\uFFFE")) || bytes.Contains(body, []byte("\uFFFF")) {
		body = bytes.ReplaceAll(body, []byte("\uFFFE"), []byte(`\ufffe`))
		body = bytes.ReplaceAll(body, []byte("\uFFFF"), []byte(`\uffff`))
	}
	return body, nil
}

func encodeError(e *event.Event, err error) error {
	return fmt.Errorf("sqsqueue: encode event %s: %w", e.ID, err)
}
