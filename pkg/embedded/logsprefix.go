package embedded

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
)

// Prefix searches (word*). FTS5 answers a prefix query by reading the whole doclist of every
// word with the prefix and merging them in memory before it returns its first row: at 10 M
// lines a three-letter prefix read hundreds of thousands of entries, whatever the page's
// limit (737 ms p99). A prefix index (the fts5 prefix= option) would make the index of every
// line about 30 % larger and its writing twice as slow. Instead the search expands the
// prefix into the words of the index that begin with it, read from the index's own term
// pages (each leaf page lists its terms in its footer, and the %_idx table names the leaf
// pages on which terms start, so no doclist is read), and asks for ("w1" OR "w2" ...): an OR
// of words streams newest first and stops at the page, like a single word. A prefix of more
// than maxPrefixTerms words, or an index whose pages do not read as expected, falls back to
// FTS5's own prefix query: same answer, slower.

// maxPrefixTerms is the most words a prefix expands to.
const maxPrefixTerms = 128

var (
	// errPrefixTooBroad: the prefix has more words than the expansion takes.
	errPrefixTooBroad = errors.New("prefix matches too many words")
	// errLeafFormat: a page of the text index is not as this reader expects.
	errLeafFormat = errors.New("prefix: an FTS5 page of an unexpected format")
)

// querier is what the searches read through (the read pool; a test's own connection).
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// prefixPages are the leaf pages (segment, page) of the text index on which a term at or
// after the key (the main index's terms begin with '0') up to end may be: per segment, the
// last page whose first term is below the key, and every page whose first term is within.
// A page of %_idx that is no longer in %_data was consumed by an incremental merge (its
// terms are in the merge's output segment).
const prefixPagesSQL = `WITH RECURSIVE segs(id) AS (
		SELECT min(segid) FROM logs_text_idx
		UNION ALL SELECT (SELECT min(segid) FROM logs_text_idx WHERE segid > segs.id) FROM segs WHERE segs.id IS NOT NULL)
	SELECT s.id, (SELECT pgno FROM logs_text_idx WHERE segid = s.id AND term < ?1 ORDER BY term DESC LIMIT 1) FROM segs s WHERE s.id IS NOT NULL
	UNION ALL
	SELECT i.segid, i.pgno FROM segs s JOIN logs_text_idx i ON i.segid = s.id AND i.term >= ?1 AND i.term < ?2 WHERE s.id IS NOT NULL`

// prefixTerms returns the distinct words of the text index that begin with p (lowercase
// ASCII letters and digits, as the tokenizer stores them), sorted; errPrefixTooBroad beyond
// maxPrefixTerms. Words whose lines were all deleted may be among them (their doclists are
// tombstones until a merge drops them): they match nothing.
func prefixTerms(ctx context.Context, q querier, p string) ([]string, error) {
	if p == "" || p[len(p)-1] == 0xff {
		return nil, errLeafFormat
	}
	key := append([]byte{'0'}, p...)
	end := slices.Clone(key)
	end[len(end)-1]++
	rows, err := q.QueryContext(ctx, prefixPagesSQL, key, end)
	if err != nil {
		return nil, fmt.Errorf("prefix pages: %w", err)
	}
	type page struct{ seg, pg int64 }
	var pages []page
	for rows.Next() {
		var seg int64
		var pg sql.NullInt64
		if err := rows.Scan(&seg, &pg); err != nil {
			rows.Close()
			return nil, fmt.Errorf("prefix pages: %w", err)
		}
		if pg.Valid {
			pages = append(pages, page{seg, pg.Int64 >> 1})
		}
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("prefix pages: %w", err)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("prefix pages: %w", err)
	}
	seen := map[string]bool{}
	var out []string
	for _, pg := range pages {
		if pg.seg <= 0 || pg.seg >= 1<<16 || pg.pg <= 0 || pg.pg >= 1<<31 {
			return nil, fmt.Errorf("%w: page %d of segment %d", errLeafFormat, pg.pg, pg.seg)
		}
		var blk []byte
		err := q.QueryRowContext(ctx, `SELECT block FROM logs_text_data WHERE id = ?`, pg.seg<<37|pg.pg).Scan(&blk)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("prefix page: %w", err)
		}
		err = leafTerms(blk, key, func(t []byte) error {
			if w := string(t[1:]); !seen[w] {
				if len(out) == maxPrefixTerms {
					return errPrefixTooBroad
				}
				seen[w] = true
				out = append(out, w)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	slices.Sort(out)
	return out, nil
}

// leafTerms calls found with every term of an FTS5 leaf page that begins with key, in order.
// The page: a 4-byte header (the offset of the first rowid, the offset of the footer, both
// 16-bit big-endian), terms and doclists, and the footer, one varint per term on the page:
// its offset, delta-coded. The page's first term is a varint length and the term; each
// next one the varint length it shares with the previous term, a varint length and its
// own bytes.
func leafTerms(blk, key []byte, found func([]byte) error) error {
	bad := func(what string) error { return fmt.Errorf("%w: leaf page: %s", errLeafFormat, what) }
	if len(blk) < 4 {
		return bad("short")
	}
	szLeaf := int(blk[2])<<8 | int(blk[3])
	if szLeaf < 4 || szLeaf > len(blk) {
		return bad("footer offset")
	}
	foot, leaf := blk[szLeaf:], blk[:szLeaf]
	var term []byte
	off := 0
	for i := 0; len(foot) > 0; i++ {
		d, n := fts5Varint(foot)
		if n == 0 || d > uint64(len(leaf)) {
			return bad("footer")
		}
		foot = foot[n:]
		off += int(d)
		if off < 4 || off >= len(leaf) {
			return bad("term offset")
		}
		b := leaf[off:]
		keep := uint64(0)
		if i > 0 {
			if keep, n = fts5Varint(b); n == 0 || keep > uint64(len(term)) {
				return bad("term prefix")
			}
			b = b[n:]
		}
		size, n := fts5Varint(b)
		if n == 0 || size > uint64(len(b)-n) {
			return bad("term size")
		}
		term = append(term[:keep], b[n:n+int(size)]...)
		if bytes.HasPrefix(term, key) {
			if err := found(term); err != nil {
				return err
			}
		} else if bytes.Compare(term, key) > 0 {
			return nil // the terms of a page are in order
		}
	}
	return nil
}

// fts5Varint decodes an SQLite varint (big-endian groups of 7 bits, a ninth byte of 8); n is
// 0 when b ends first.
func fts5Varint(b []byte) (v uint64, n int) {
	for i := range 8 {
		if i >= len(b) {
			return 0, 0
		}
		v = v<<7 | uint64(b[i]&0x7f)
		if b[i] < 0x80 {
			return v, i + 1
		}
	}
	if len(b) < 9 {
		return 0, 0
	}
	return v<<8 | uint64(b[8]), 9
}
