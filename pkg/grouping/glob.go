package grouping

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// glob is a compiled rule value: literal alternatives in a set, the common
// shapes (prefix, suffix, contains, directory segment) as string tests, and
// anything else as an anchored regular expression with the same meaning.
type glob struct {
	exact map[string]struct{}
	alts  []globAlt
}

type globKind uint8

const (
	gPrefix   globKind = iota // lit**
	gSuffix                   // **lit (path: also lit without its leading '/')
	gContains                 // **lit** (path: also lit at the start without its '/')
	gRegexp
)

type globAlt struct {
	kind globKind
	lit  string
	// rooted: a path glob whose leading **/ may match nothing, so lit without
	// its leading '/' may also start the path.
	rooted bool
	re     *regexp.Regexp
	// need is the longest literal of a regexp glob: a string without it
	// cannot match, and most strings are turned away by this test alone.
	need string
}

// globToken is a literal run or a wildcard: "*", "**" or "?".
type globToken struct {
	wild string
	lit  string
}

// compileGlob compiles a rule value. path globs treat '/' as a separator
// (* does not cross it, a leading **/ matches zero or more directories).
// err is "" or what is wrong with the pattern.
func compileGlob(pattern string, path bool) (*glob, string) {
	if !utf8.ValidString(pattern) {
		return nil, "invalid UTF-8"
	}
	alts, err := expandBraces(pattern)
	if err != "" {
		return nil, err
	}
	g := &glob{}
	for _, a := range alts {
		toks := tokenize(a)
		if len(toks) == 1 && toks[0].wild == "" || len(toks) == 0 {
			if g.exact == nil {
				g.exact = map[string]struct{}{}
			}
			g.exact[a] = struct{}{}
			continue
		}
		g.alts = append(g.alts, classify(toks, path))
	}
	return g, ""
}

// expandBraces expands {a,b} alternatives (not nested) into the list of
// plain patterns.
func expandBraces(p string) ([]string, string) {
	out := []string{""}
	for p != "" {
		i := strings.IndexAny(p, "{},")
		if i < 0 {
			for k := range out {
				out[k] += p
			}
			break
		}
		switch p[i] {
		case '}':
			return nil, "unmatched '}'"
		case ',':
			return nil, "',' outside {...}"
		}
		for k := range out {
			out[k] += p[:i]
		}
		j := strings.IndexByte(p[i:], '}')
		if j < 0 {
			return nil, "unmatched '{'"
		}
		inner := p[i+1 : i+j]
		if strings.IndexByte(inner, '{') >= 0 {
			return nil, "nested '{'"
		}
		choices := strings.Split(inner, ",")
		if len(out)*len(choices) > maxGlobAlts {
			return nil, "too many alternatives"
		}
		next := make([]string, 0, len(out)*len(choices))
		for _, o := range out {
			for _, c := range choices {
				next = append(next, o+c)
			}
		}
		out = next
		p = p[i+j+1:]
	}
	return out, ""
}

func tokenize(p string) []globToken {
	var toks []globToken
	for p != "" {
		switch {
		case strings.HasPrefix(p, "**"):
			toks = append(toks, globToken{wild: "**"})
			p = strings.TrimLeft(p, "*")
		case p[0] == '*':
			toks = append(toks, globToken{wild: "*"})
			p = p[1:]
		case p[0] == '?':
			toks = append(toks, globToken{wild: "?"})
			p = p[1:]
		default:
			i := strings.IndexAny(p, "*?")
			if i < 0 {
				i = len(p)
			}
			toks = append(toks, globToken{lit: p[:i]})
			p = p[i:]
		}
	}
	return toks
}

// anyRun reports a wildcard that matches any run of characters.
func anyRun(t globToken, path bool) bool {
	return t.wild == "**" || t.wild == "*" && !path
}

func classify(toks []globToken, path bool) globAlt {
	n := len(toks)
	switch {
	case n == 2 && toks[0].lit != "" && anyRun(toks[1], path):
		return globAlt{kind: gPrefix, lit: toks[0].lit}
	case n == 2 && anyRun(toks[0], path) && toks[1].lit != "":
		return globAlt{kind: gSuffix, lit: toks[1].lit, rooted: path && toks[0].wild == "**" && toks[1].lit[0] == '/'}
	case n == 3 && anyRun(toks[0], path) && toks[1].lit != "" && anyRun(toks[2], path):
		return globAlt{kind: gContains, lit: toks[1].lit, rooted: path && toks[0].wild == "**" && toks[1].lit[0] == '/'}
	}
	a := globAlt{kind: gRegexp, re: regexp.MustCompile(globRegexp(toks, path))}
	for i, t := range toks {
		lit := t.lit
		if i == 1 && path && toks[0].wild == "**" && strings.HasPrefix(lit, "/") {
			lit = lit[1:] // the leading **/ may match nothing
		}
		if len(lit) > len(a.need) {
			a.need = lit
		}
	}
	return a
}

// globRegexp is the meaning of a glob as a regular expression; the fast
// shapes of classify must agree with it (FuzzGlob checks they do).
func globRegexp(toks []globToken, path bool) string {
	var b strings.Builder
	b.WriteString(`(?s)^`)
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch t.wild {
		case "":
			b.WriteString(regexp.QuoteMeta(t.lit))
		case "**":
			if path && i == 0 && len(toks) > 1 && strings.HasPrefix(toks[1].lit, "/") {
				b.WriteString(`(?:.*/)?`)
				b.WriteString(regexp.QuoteMeta(toks[1].lit[1:]))
				i++
				continue
			}
			b.WriteString(`.*`)
		case "*":
			if path {
				b.WriteString(`[^/]*`)
			} else {
				b.WriteString(`.*`)
			}
		case "?":
			if path {
				b.WriteString(`[^/]`)
			} else {
				b.WriteString(`.`)
			}
		}
	}
	b.WriteString(`$`)
	return b.String()
}

// match reports whether s matches any alternative.
func (g *glob) match(s string) bool {
	if g.exact != nil {
		if _, ok := g.exact[s]; ok {
			return true
		}
	}
	for i := range g.alts {
		a := &g.alts[i]
		switch a.kind {
		case gPrefix:
			if strings.HasPrefix(s, a.lit) {
				return true
			}
		case gSuffix:
			if strings.HasSuffix(s, a.lit) || a.rooted && s == a.lit[1:] {
				return true
			}
		case gContains:
			if strings.Contains(s, a.lit) || a.rooted && strings.HasPrefix(s, a.lit[1:]) {
				return true
			}
		case gRegexp:
			if strings.Contains(s, a.need) && a.re.MatchString(s) {
				return true
			}
		}
	}
	return false
}
