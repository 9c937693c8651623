package grouping

import "strings"

// headerOf reads an exception header line: "pkg.Type: message", optionally
// after "Exception in thread "main" " or "Unhandled exception. ".
func headerOf(t string) (Exception, bool) {
	if strings.HasPrefix(t, "Exception in thread ") {
		if i := strings.Index(t[len("Exception in thread "):], "\" "); i >= 0 {
			t = t[len("Exception in thread ")+i+2:]
		}
	}
	t = strings.TrimPrefix(t, "Unhandled exception. ")
	t = strings.TrimPrefix(t, "Uncaught ")
	typ, msg, ok := splitTypeMessage(t)
	if !ok || !looksLikeTypeName(typ) {
		return Exception{}, false
	}
	return Exception{Type: typ, Message: msg}, true
}

func appendMessage(e *Exception, line string) {
	if len(e.Message) > 2000 {
		return
	}
	if e.Message == "" {
		e.Message = line
		return
	}
	e.Message += "\n" + line
}

// parseAtStyle parses the traces of Java/JVM and Node.js, whose frames start
// with "at ": a header "Type: message" (possibly continued on more lines),
// frames, then "Caused by: ..." links. "Suppressed: ..." blocks and
// "... N more" lines are skipped.
func parseAtStyle(text string, frame func(string) (Frame, bool), sc *scratch) []Exception {
	var chain []Exception
	it := newLines(text, sc)
	headerOpen := false
	suppressed := -1
	preamble := "" // the first line before any header: "Failed to load: Error: boom"
	members := 0   // > 0 inside an AggregateError's [errors]: the index of its first member
	current := -1  // the exception frames go to (-1: the last)
	for {
		line, ok := it.next()
		if !ok {
			break
		}
		lead := trimIndent(line)
		t := trimSpace(lead)
		if t == "" {
			continue
		}
		ind := len(line) - len(lead)
		if suppressed >= 0 {
			if ind > suppressed || strings.HasPrefix(t, "at ") || strings.HasPrefix(t, "...") {
				continue
			}
			suppressed = -1
		}
		// util.inspect opens an error's own properties after its last frame: "at f (x.js:1:2) {".
		t = strings.TrimSuffix(strings.TrimSuffix(t, " {"), ",")
		if strings.HasPrefix(t, "at ") || strings.HasSuffix(t, ")") {
			if f, ok := frame(t); ok {
				if len(chain) == 0 {
					e, _ := headerInside(preamble)
					chain = append(chain, e)
				}
				idx := len(chain) - 1
				if current >= 0 {
					idx = current
				}
				e := &chain[idx]
				if len(e.Frames) < maxFrames {
					e.Frames = sc.appendFrame(e.Frames, f)
				}
				headerOpen = false
				continue
			}
		}
		if strings.HasPrefix(t, "... ") && (strings.HasSuffix(t, " more") || strings.HasSuffix(t, "omitted")) {
			continue
		}
		if rest, ok := strings.CutPrefix(t, "Suppressed: "); ok {
			_ = rest
			suppressed = ind
			headerOpen = false
			continue
		}
		if rest, ok := strings.CutPrefix(t, "Caused by: "); ok {
			if len(chain) >= maxChain {
				break
			}
			e, ok := headerOf(rest)
			if !ok {
				e = Exception{Message: rest}
			}
			chain = append(chain, e)
			headerOpen, current = true, -1
			continue
		}
		if t == "[errors]: [" && len(chain) > 0 {
			members = len(chain)
			continue
		}
		if members > 0 && len(chain) < maxChain {
			if e, ok := headerOf(strings.TrimSuffix(t, " {")); ok {
				// A member of an AggregateError: the first member goes last.
				chain = append(chain, Exception{})
				copy(chain[members+1:], chain[members:])
				chain[members] = e
				current = members
				headerOpen = true
				continue
			}
		}
		if rest, ok := strings.CutPrefix(t, "[cause]: "); ok && len(chain) > 0 && len(chain) < maxChain {
			if e, ok := headerOf(rest); ok {
				chain = append(chain, e)
				headerOpen = true
				continue
			}
		}
		if headerOpen {
			appendMessage(&chain[len(chain)-1], t)
			continue
		}
		if len(chain) == 0 {
			if e, ok := headerOf(t); ok {
				chain = append(chain, e)
				headerOpen = true
			} else if preamble == "" {
				preamble = t
			}
		}
	}
	return chain
}

// headerInside finds an exception header after a log message on one line,
// as console.error("Failed to load:", err) prints it: "Failed to load: Error: boom".
func headerInside(line string) (Exception, bool) {
	for i := 0; i < len(line) && i < 512; {
		j := strings.Index(line[i:], ": ")
		if j < 0 {
			break
		}
		i += j + 2
		if e, ok := headerOf(line[i:]); ok {
			return e, true
		}
	}
	return Exception{}, false
}

// parseDotnet parses Exception.ToString(): "Outer: msg ---> Inner: msg",
// the innermost exception's frames first, then after each
// "--- End of inner exception stack trace ---" the next outer one's.
func parseDotnet(text string, sc *scratch) []Exception {
	var header strings.Builder
	var chain []Exception
	it := newLines(text, sc)
	group := 0
	started := false // seen the header
	framing := false // seen the first frame
	for {
		line, ok := it.next()
		if !ok {
			break
		}
		t := trimSpace(line)
		if t == "" {
			continue
		}
		if strings.HasPrefix(t, "at ") {
			f, ok := ParseDotnetFrame(t)
			if !ok {
				continue
			}
			if !framing {
				framing = true
				chain = splitDotnetHeader(header.String())
				if len(chain) == 0 {
					chain = append(chain, Exception{})
				}
			}
			idx := len(chain) - 1 - group
			if idx < 0 {
				idx = 0
			}
			if len(chain[idx].Frames) < maxFrames {
				chain[idx].Frames = sc.appendFrame(chain[idx].Frames, f)
			}
			continue
		}
		if strings.HasPrefix(t, "--- End of inner exception stack trace") {
			group++
			continue
		}
		if strings.HasPrefix(t, "--- End of stack trace") || strings.HasPrefix(t, "--- ") {
			continue
		}
		if framing {
			if strings.HasPrefix(t, "---> (Inner Exception") {
				break
			}
			continue
		}
		if rest, ok := strings.CutPrefix(t, "---> "); ok && started {
			if header.Len() < 4000 {
				header.WriteString(" ---> ")
				header.WriteString(rest)
			}
			continue
		}
		if !started {
			h := t
			if i := strings.Index(h, " ---> "); i > 0 {
				h = h[:i]
			}
			if _, ok := headerOf(h); !ok {
				continue // a log line before the exception
			}
			started = true
		} else if header.Len() < 4000 {
			header.WriteByte('\n')
		}
		if header.Len() < 4000 {
			header.WriteString(t)
		}
	}
	if !framing && started {
		chain = splitDotnetHeader(header.String())
	}
	return chain
}

func splitDotnetHeader(h string) []Exception {
	var chain []Exception
	for h != "" && len(chain) < maxChain {
		seg := h
		i := strings.Index(h, " ---> ")
		if i >= 0 {
			seg, h = h[:i], h[i+6:]
		} else {
			h = ""
		}
		seg = strings.TrimSpace(seg)
		// HRESULT after the type: "Npgsql.PostgresException (0x80004005): ..."
		if i := strings.Index(seg, " (0x"); i > 0 && !strings.ContainsAny(seg[:i], " :") {
			if j := strings.IndexByte(seg[i:], ')'); j > 0 {
				seg = seg[:i] + seg[i+j+1:]
			}
		}
		if e, ok := headerOf(firstLine(seg)); ok {
			if nl := strings.IndexByte(seg, '\n'); nl >= 0 {
				e.Message = strings.TrimSpace(e.Message + seg[nl:])
			}
			chain = append(chain, e)
		} else {
			chain = append(chain, Exception{Message: seg})
		}
	}
	return chain
}

// parsePython parses tracebacks, including chained ones ("During handling of
// the above exception..." / "The above exception was the direct cause..."),
// and bare frame lists (the Lambda JSON stackTrace). Python prints the cause
// first and frames outermost first; the chain returned is outermost exception
// first with frames most recent call first, like every other language.
func parsePython(text string, sc *scratch) []Exception {
	var blocks []Exception
	var hint Exception
	hasHint := false
	it := newLines(text, sc)
	inTB := false
	for {
		line, ok := it.next()
		if !ok {
			break
		}
		t := trimSpace(line)
		if t == "" {
			continue
		}
		if strings.HasPrefix(t, "Traceback (most recent call last)") {
			if len(blocks) >= maxChain {
				break
			}
			blocks = append(blocks, Exception{})
			inTB = true
			continue
		}
		if strings.HasPrefix(t, `File "`) {
			f, ok := ParsePythonFrame(t)
			if !ok {
				continue
			}
			if !inTB {
				if len(blocks) >= maxChain {
					break
				}
				blocks = append(blocks, Exception{})
				inTB = true
			}
			b := &blocks[len(blocks)-1]
			if len(b.Frames) < maxFrames {
				b.Frames = sc.appendFrame(b.Frames, f)
			}
			continue
		}
		if inTB {
			if indentWidth(line) > 0 {
				continue // source line or ^^^^ markers
			}
			if e, ok := pythonExceptionLine(t); ok {
				b := &blocks[len(blocks)-1]
				b.Type, b.Message = e.Type, e.Message
			}
			inTB = false
			continue
		}
		if len(blocks) == 0 && !hasHint {
			if e, ok := pythonExceptionLine(t); ok {
				hint, hasHint = e, true
			}
		}
	}
	if len(blocks) == 0 {
		if hasHint {
			return []Exception{hint}
		}
		return nil
	}
	if hasHint && blocks[len(blocks)-1].Type == "" {
		last := &blocks[len(blocks)-1]
		last.Type, last.Message = hint.Type, hint.Message
	}
	// The blocks reversed in place are the chain.
	for l, r := 0, len(blocks)-1; l < r; l, r = l+1, r-1 {
		blocks[l], blocks[r] = blocks[r], blocks[l]
	}
	for _, b := range blocks {
		for l, r := 0, len(b.Frames)-1; l < r; l, r = l+1, r-1 {
			b.Frames[l], b.Frames[r] = b.Frames[r], b.Frames[l]
		}
	}
	return blocks
}

// pythonExceptionLine reads "module.Type: message" or a bare "Type".
func pythonExceptionLine(t string) (Exception, bool) {
	if strings.HasPrefix(t, "During handling") || strings.HasPrefix(t, "The above exception") {
		return Exception{}, false
	}
	typ, msg, ok := splitTypeMessage(t)
	if !ok {
		return Exception{}, false
	}
	last := typ
	if i := strings.LastIndexByte(typ, '.'); i >= 0 {
		last = typ[i+1:]
	}
	if last == "" || (!isUpper(last[0]) && !strings.HasSuffix(last, "Error") && !strings.HasSuffix(last, "Exception")) {
		return Exception{}, false
	}
	return Exception{Type: typ, Message: msg}, true
}

// parseGo parses a Go panic or fatal error with its goroutine traces. Only
// the first goroutine (the one that panicked) contributes frames.
func parseGo(text string, sc *scratch) []Exception {
	var e Exception
	it := newLines(text, sc)
	haveHeader := false
	goroutines := 0
	for {
		line, ok := it.next()
		if !ok {
			break
		}
		t := trimSpace(line)
		if t == "" {
			continue
		}
		if strings.HasPrefix(t, "goroutine ") && strings.HasSuffix(t, "]:") {
			goroutines++
			if goroutines > 1 {
				break
			}
			continue
		}
		if goroutines == 0 {
			if !haveHeader {
				if h, ok := goHeader(t); ok {
					e, haveHeader = h, true
					continue
				}
			}
			if loc, ok := it.peek(); ok && indentWidth(line) == 0 && indentWidth(loc) > 0 {
				if _, ok := ParseGoFrame(t, loc); ok {
					goroutines = 1 // a bare trace: zap's stacktrace, debug.Stack()
				}
			}
			if goroutines == 0 {
				continue
			}
		}
		if indentWidth(line) > 0 {
			continue // a location line without its function line
		}
		loc, ok := it.peek()
		if !ok || indentWidth(loc) == 0 {
			continue
		}
		it.next()
		if f, ok := ParseGoFrame(t, loc); ok && len(e.Frames) < maxFrames {
			e.Frames = sc.appendFrame(e.Frames, f)
		}
	}
	if !haveHeader && len(e.Frames) == 0 {
		return nil
	}
	return []Exception{e}
}

// goHeader reads "panic: msg [recovered]", "fatal error: msg",
// "http: panic serving 10.0.0.1:1234: msg" or a signal line.
func goHeader(t string) (Exception, bool) {
	if i := strings.Index(t, "panic serving "); i >= 0 {
		rest := t[i+len("panic serving "):]
		if j := strings.Index(rest, ": "); j >= 0 {
			return Exception{Type: "panic", Message: rest[j+2:]}, true
		}
	}
	if i := strings.Index(t, "panic: "); i >= 0 {
		msg := t[i+len("panic: "):]
		msg = strings.TrimSuffix(msg, " [recovered]")
		if j := strings.Index(msg, " [recovered"); j >= 0 {
			msg = msg[:j]
		}
		return Exception{Type: "panic", Message: msg}, true
	}
	if rest, ok := strings.CutPrefix(t, "fatal error: "); ok {
		return Exception{Type: "fatal error", Message: rest}, true
	}
	if strings.HasPrefix(t, "SIGQUIT") || strings.HasPrefix(t, "SIGABRT") {
		typ, msg, _ := strings.Cut(t, ": ")
		return Exception{Type: typ, Message: msg}, true
	}
	return Exception{}, false
}

// parseRuby parses Ruby backtraces: the uncaught form
// "file.rb:5:in `m': message (Type)" followed by "from ..." lines, the Rails
// form "Type (message):" followed by frames, and bare frame lists.
func parseRuby(text string, sc *scratch) []Exception {
	var e Exception
	have := false
	it := newLines(text, sc)
	for {
		line, ok := it.next()
		if !ok {
			break
		}
		t := trimSpace(line)
		if t == "" {
			continue
		}
		if f, rest, ok := ParseRubyFrame(t); ok {
			if len(e.Frames) == 0 && !have {
				if typ, msg, ok := rubyTrailer(rest); ok {
					e.Type, e.Message, have = typ, msg, true
				}
			}
			if len(e.Frames) < maxFrames {
				e.Frames = sc.appendFrame(e.Frames, f)
			}
			continue
		}
		if have || len(e.Frames) > 0 {
			continue
		}
		// Rails: "NoMethodError (undefined method ...):"
		if i := strings.Index(t, " ("); i > 0 && strings.HasSuffix(t, "):") {
			if typ, _, ok := splitTypeMessage(t[:i]); ok && looksLikeTypeName(typ) {
				e.Type, e.Message, have = typ, t[i+2:len(t)-2], true
				continue
			}
		}
		// Logger: "message (Type)"
		if typ, msg, ok := rubyTrailer(": " + t); ok {
			e.Type, e.Message, have = typ, msg, true
			continue
		}
		if h, ok := headerOf(t); ok {
			e, have = h, true
		}
	}
	if !have && len(e.Frames) == 0 {
		return nil
	}
	return []Exception{e}
}

// rubyTrailer reads ": message (Type)" after the first frame.
func rubyTrailer(rest string) (typ, msg string, ok bool) {
	rest, ok = strings.CutPrefix(rest, ": ")
	if !ok || !strings.HasSuffix(rest, ")") {
		return "", "", false
	}
	i := strings.LastIndex(rest, " (")
	if i < 0 {
		if strings.HasPrefix(rest, "(") {
			i = -1
		} else {
			return "", "", false
		}
	}
	typ = rest[i+2 : len(rest)-1]
	if typ == "" || strings.ContainsAny(typ, " \t") || !looksLikeTypeName(typ) {
		return "", "", false
	}
	if i > 0 {
		msg = rest[:i]
	}
	return typ, msg, true
}

// parsePHP parses "PHP Fatal error:  Uncaught Type: msg in file:line",
// "Stack trace:" with "#N file(line): call()" frames, and "Next Type: ..."
// links (PHP prints the previous exception first, so the chain is reversed).
//
// A PHP line "#k file(line): f()" says f was called from file:line, which is
// code of the caller (the function of line k+1). Frames are shifted so that
// each names the function its file and line belong to; the throw site of the
// header ("in file:line") becomes the top frame.
func parsePHP(text string, sc *scratch) []Exception {
	type block struct {
		e         Exception
		raw       []Frame
		throwFile string
		throwLine int
	}
	var room [4]block // the usual trace has one or two: no allocation for them
	blocks := room[:0]
	it := newLines(text, sc)
	for {
		line, ok := it.next()
		if !ok {
			break
		}
		t := trimSpace(line)
		if t == "" || strings.HasPrefix(t, "Stack trace:") || strings.HasPrefix(t, "thrown in ") {
			continue
		}
		if f, ok := ParsePHPFrame(t); ok {
			if len(blocks) == 0 {
				blocks = append(blocks, block{})
			}
			b := &blocks[len(blocks)-1]
			if len(b.raw) < maxFrames {
				b.raw = sc.appendFrame(b.raw, f)
			}
			continue
		}
		if strings.HasPrefix(t, "#") {
			if strings.HasSuffix(t, "{main}") && len(blocks) > 0 {
				b := &blocks[len(blocks)-1]
				b.raw = sc.appendFrame(b.raw, Frame{Function: "{main}"})
			}
			continue
		}
		if e, ok := phpHeader(t); ok && len(blocks) < maxChain {
			file, ln := phpThrowSite(t)
			blocks = append(blocks, block{e: e, throwFile: file, throwLine: ln})
		}
	}
	chain := make([]Exception, 0, len(blocks))
	for i := len(blocks) - 1; i >= 0; i-- {
		b := blocks[i]
		e := b.e
		file, ln := b.throwFile, b.throwLine
		for _, r := range b.raw {
			e.Frames = sc.appendFrame(e.Frames, Frame{Function: r.Function, Module: r.Module, File: file, Line: ln})
			file, ln = r.File, r.Line
		}
		if len(b.raw) == 0 && file != "" {
			e.Frames = sc.appendFrame(e.Frames, Frame{File: file, Line: ln})
		}
		chain = append(chain, e)
	}
	return chain
}

// phpThrowSite reads the "in /path/file.php:12" or "in /path/file.php on
// line 12" at the end of a PHP error line.
func phpThrowSite(t string) (string, int) {
	i := strings.LastIndex(t, " in ")
	if i < 0 {
		return "", 0
	}
	loc := t[i+4:]
	if j := strings.Index(loc, " on line "); j > 0 {
		n, _ := atoi(strings.TrimSpace(loc[j+9:]))
		return loc[:j], n
	}
	if j := strings.LastIndexByte(loc, ':'); j > 0 {
		if n, ok := atoi(loc[j+1:]); ok {
			return loc[:j], n
		}
	}
	return "", 0
}

// phpHeader reads the exception line of a PHP error.
func phpHeader(t string) (Exception, bool) {
	if i := strings.Index(t, "PHP "); i >= 0 {
		t = t[i+4:]
	}
	var prefix string
	if i := strings.Index(t, "error: "); i > 0 && i < 40 {
		prefix = strings.TrimSpace(t[:i+5])
		t = strings.TrimSpace(t[i+7:])
	}
	rest, next := strings.CutPrefix(t, "Next ")
	if !next {
		rest, next = strings.CutPrefix(t, "Uncaught ")
	}
	if next {
		// Old form: exception 'Type' with message 'msg' in /file:line
		if r, ok := strings.CutPrefix(rest, "exception '"); ok {
			if j := strings.IndexByte(r, '\''); j > 0 {
				typ := r[:j]
				msg := ""
				if m, ok := strings.CutPrefix(r[j+1:], " with message '"); ok {
					if k := strings.LastIndex(m, "' in "); k >= 0 {
						msg = m[:k]
					}
				}
				return Exception{Type: typ, Message: msg}, true
			}
		}
		typ, msg, ok := splitTypeMessage(firstLine(rest))
		if ok {
			if k := strings.LastIndex(msg, " in /"); k >= 0 {
				msg = msg[:k]
			}
			return Exception{Type: typ, Message: msg}, true
		}
	}
	if prefix != "" {
		msg := t
		if k := strings.LastIndex(msg, " in /"); k >= 0 {
			msg = msg[:k]
		}
		return Exception{Type: prefix, Message: msg}, true
	}
	return Exception{}, false
}
