package grouping

import (
	_ "embed"
	"fmt"
	"strings"
	"sync"
)

// defaultRulesText is the embedded default rules file. It is part of the
// grouping version: TestDefaultRulesArePinned fails when it changes without
// a Version bump.
//
//go:embed rules/default.rules
var defaultRulesText string

// Rules is a compiled rule set: the defaults, then any custom rules, in
// order (later rules win). It is safe for concurrent use.
type Rules struct {
	// frame rules by family index (the last entry: frames of no known runtime),
	// each list in rule order and holding the family-less rules too.
	frame [len(runtimes) + 1][]*cRule
	event []*cRule
	rules []Rule
	// memo remembers the decisions for frames seen before: library frames
	// recur in almost every message.
	memo frameMemo
}

// frameMemo is a bounded map from a frame's matched fields to its decision.
type frameMemo struct {
	mu sync.RWMutex
	m  map[frameKey]frameDecision
}

type frameKey struct {
	fam                    int
	function, module, file string
}

// maxMemo bounds the remembered frames; when full it starts over.
const maxMemo = 8192

// cRule is one compiled rule.
type cRule struct {
	Rule
	family                                 int // -1: any
	path, module, function, pkg, typ, msg  *glob
	code                                   *glob
	needsPkg                               bool
	hintApp, hintNoApp, hintGrp, hintNoGrp string
	ref                                    string
}

var (
	defaultOnce  sync.Once
	defaultRules *Rules
)

// DefaultRulesText returns the embedded default rules file.
func DefaultRulesText() string { return defaultRulesText }

// Default returns the compiled default rules.
func Default() *Rules {
	defaultOnce.Do(func() {
		rs, err := ParseRules("default", defaultRulesText)
		if err != nil {
			panic(fmt.Sprintf("grouping: embedded default rules: %v", err)) // a build defect: tests parse the file
		}
		defaultRules = compileRules(rs)
	})
	return defaultRules
}

// With returns the rules r followed by extra (which win over r's).
func (r *Rules) With(extra []Rule) *Rules {
	if len(extra) == 0 {
		return r
	}
	all := make([]Rule, 0, len(r.rules)+len(extra))
	all = append(all, r.rules...)
	all = append(all, extra...)
	return compileRules(all)
}

// Source returns the rules in canonical form, one a line.
func (r *Rules) Source() []Rule { return r.rules }

// compileRules compiles parsed rules; their globs parsed once already.
func compileRules(rs []Rule) *Rules {
	out := &Rules{rules: rs}
	for i := range rs {
		c := &cRule{Rule: rs[i], family: -1}
		for _, m := range rs[i].Matchers {
			var g *glob
			if m.Key != KeyFamily {
				g, _ = compileGlob(m.Value, m.Key == KeyPath) // validated by the parser
			}
			switch m.Key {
			case KeyFamily:
				c.family = familyIndex(m.Value)
			case KeyPath:
				c.path = g
			case KeyModule:
				c.module = g
			case KeyFunction:
				c.function = g
			case KeyPackage:
				c.pkg, c.needsPkg = g, true
			case KeyType:
				c.typ = g
			case KeyMessage:
				c.msg = g
			case KeyCode:
				c.code = g
			}
		}
		src := c.Source
		if src == "" {
			src = "rules"
		}
		short := c.Rule
		short.Matchers = append([]Matcher(nil), c.Matchers...)
		for k, m := range short.Matchers {
			if len(m.Value) > 32 {
				short.Matchers[k].Value = m.Value[:28] + "…" // on a byte boundary: hints are for people
			}
		}
		c.ref = fmt.Sprintf("%s:%d `%s`", src, c.Line, strings.ToValidUTF8(short.String(), ""))
		c.hintApp = "in-app by rule " + c.ref
		c.hintNoApp = "not in-app by rule " + c.ref
		c.hintGrp = "groups by rule " + c.ref
		c.hintNoGrp = "does not group by rule " + c.ref
		if c.Actions&(ActIgnore|ActFingerprint) != 0 {
			out.event = append(out.event, c)
			continue
		}
		for f := range out.frame {
			if c.family < 0 || c.family == f {
				out.frame[f] = append(out.frame[f], c)
			}
		}
	}
	return out
}

// frameDecision is what the rules decided for one frame: the rules that set
// its in-app flag and its grouping (nil: the default).
type frameDecision struct {
	app, group *cRule
}

// groups reports whether a frame enters the fingerprint: in-app and not -group.
func (d frameDecision) groups(f *Frame) bool {
	return f.InApp && (d.group == nil || d.group.Actions&ActGroupOn != 0)
}

// decideFrame applies the frame rules of one family to f: the last matching
// rule for each of in-app and group wins.
func (r *Rules) decideFrame(fam int, f *Frame) frameDecision {
	var d frameDecision
	list := r.frame[fam]
	pkg, pkgDone := "", false
	for i := len(list) - 1; i >= 0; i-- {
		c := list[i]
		wantApp := d.app == nil && c.Actions&(ActAppOn|ActAppOff) != 0
		wantGrp := d.group == nil && c.Actions&(ActGroupOn|ActGroupOff) != 0
		if !wantApp && !wantGrp {
			continue
		}
		if c.needsPkg && !pkgDone {
			pkg, pkgDone = framePackage(fam, f), true
		}
		if !c.matchFrame(f, pkg) {
			continue
		}
		if wantApp {
			d.app = c
		}
		if wantGrp {
			d.group = c
		}
		if d.app != nil && d.group != nil {
			break
		}
	}
	f.InApp = d.app == nil || d.app.Actions&ActAppOn != 0
	return d
}

// matchFrame tests the rule's frame matchers (family is tested by the caller).
func (c *cRule) matchFrame(f *Frame, pkg string) bool {
	if c.function != nil && !c.function.match(f.Function) {
		return false
	}
	if c.module != nil && !c.module.match(f.Module) {
		return false
	}
	if c.pkg != nil && !c.pkg.match(pkg) {
		return false
	}
	if c.path != nil {
		p := f.File
		if strings.IndexByte(p, '\\') >= 0 {
			p = strings.ReplaceAll(p, `\`, "/")
		}
		if !c.path.match(p) {
			return false
		}
	}
	return true
}

// applyFrames decides in-app and grouping for every frame of the chain, in
// one pass over the frames. The decisions are appended to ds[:0] and
// returned in chain order.
func (r *Rules) applyFrames(chain []Exception, ds []frameDecision) []frameDecision {
	n := 0
	for i := range chain {
		n += len(chain[i].Frames)
	}
	if n == 0 {
		return ds
	}
	ds = ds[:0]
	// One read lock for the chain's frames, given up only to decide a frame not seen before.
	r.memo.mu.RLock()
	for i := range chain {
		fam := familyIndex(chain[i].Family)
		for j := range chain[i].Frames {
			f := &chain[i].Frames[j]
			d, ok := r.memo.m[frameKey{fam, f.Function, f.Module, f.File}]
			if ok {
				f.InApp = d.app == nil || d.app.Actions&ActAppOn != 0
			} else {
				r.memo.mu.RUnlock()
				d = r.decideFrameMemo(fam, f)
				r.memo.mu.RLock()
			}
			ds = append(ds, d)
		}
	}
	r.memo.mu.RUnlock()
	inferJVMApp(chain, ds)
	return ds
}

// outsideApp is the decision of frames outside the inferred application package.
var outsideApp = &cRule{
	Rule:      Rule{Actions: ActAppOff},
	hintNoApp: "not in-app: outside the application's package (inferred from the handler's frame)",
}

// inferJVMApp: JVM fat jars bundle third-party code under packages no rule
// knows. The application's own package is the one of the handler's frame (the
// outermost frame of the outermost exception that no rule decided, e.g.
// com.acme.orders.Handler.handleRequest: com.acme); frames that no rule
// decided outside it are not in-app.
func inferJVMApp(chain []Exception, ds []frameDecision) {
	if len(chain) == 0 || chain[0].Family != FamilyJava {
		return
	}
	app := ""
	for j := len(chain[0].Frames) - 1; j >= 0; j-- {
		f := &chain[0].Frames[j]
		if f.InApp && ds[j].app == nil {
			// The first two segments of three or more: "com.acme." of com.acme.orders.Handler.
			if i := strings.IndexByte(f.Module, '.'); i >= 0 {
				if j := strings.IndexByte(f.Module[i+1:], '.'); j >= 0 {
					app = f.Module[:i+1+j+1]
				}
			}
			break
		}
	}
	if app == "" {
		return
	}
	k := 0
	for i := range chain {
		for j := range chain[i].Frames {
			f := &chain[i].Frames[j]
			if chain[i].Family == FamilyJava && f.InApp && ds[k].app == nil && !strings.HasPrefix(f.Function, app) {
				f.InApp, ds[k].app = false, outsideApp
			}
			k++
		}
	}
}

// decideFrameMemo is decideFrame through the memo.
func (r *Rules) decideFrameMemo(fam int, f *Frame) frameDecision {
	k := frameKey{fam, f.Function, f.Module, f.File}
	r.memo.mu.RLock()
	d, ok := r.memo.m[k]
	r.memo.mu.RUnlock()
	if ok {
		f.InApp = d.app == nil || d.app.Actions&ActAppOn != 0
		return d
	}
	d = r.decideFrame(fam, f)
	k = frameKey{fam, strings.Clone(f.Function), strings.Clone(f.Module), strings.Clone(f.File)}
	r.memo.mu.Lock()
	if r.memo.m == nil || len(r.memo.m) >= maxMemo {
		r.memo.m = make(map[frameKey]frameDecision, 256)
	}
	r.memo.m[k] = d
	r.memo.mu.Unlock()
	return d
}

// matchEvent finds the last event rule that matches the chain (or, without
// one, the message text): some exception whose type, message and code match,
// with a frame that matches the rule's frame matchers when it has any.
func (r *Rules) matchEvent(chain []Exception, text string) *cRule {
	for i := len(r.event) - 1; i >= 0; i-- {
		c := r.event[i]
		if len(chain) == 0 {
			if c.family < 0 && c.path == nil && c.module == nil && c.function == nil && c.pkg == nil &&
				c.typ == nil && c.code == nil && c.msg != nil && c.msg.match(text) {
				return c
			}
			continue
		}
		for k := range chain {
			if c.matchException(&chain[k]) {
				return c
			}
		}
	}
	return nil
}

func (c *cRule) matchException(e *Exception) bool {
	if c.typ != nil && !c.typ.match(e.Type) || c.msg != nil && !c.msg.match(e.Message) || c.code != nil && !c.code.match(e.Code) {
		return false
	}
	if c.family >= 0 && familyIndex(e.Family) != c.family {
		return false
	}
	if c.path == nil && c.module == nil && c.function == nil && c.pkg == nil {
		return true
	}
	fam := familyIndex(e.Family)
	for i := range e.Frames {
		pkg := ""
		if c.needsPkg {
			pkg = framePackage(fam, &e.Frames[i])
		}
		if c.matchFrame(&e.Frames[i], pkg) {
			return true
		}
	}
	return false
}

// framePackage is the package a frame's code belongs to, as the family names
// packages: Go's import path, a JVM or .NET class's package or namespace, the
// npm package under node_modules, the Python distribution under
// site-packages, the gem, the Composer package under vendor.
func framePackage(fam int, f *Frame) string {
	name := ""
	if fam < len(runtimes) {
		name = runtimes[fam].name
	}
	p := strings.ReplaceAll(f.File, `\`, "/")
	switch name {
	case FamilyGo:
		return f.Module
	case FamilyJava, FamilyDotnet:
		if i := strings.LastIndexByte(f.Module, '.'); i > 0 {
			return f.Module[:i]
		}
		return f.Module
	case FamilyNode:
		return pathPackage(p, "node_modules/", false)
	case FamilyPython:
		if s := pathPackage(p, "site-packages/", false); s != "" {
			return strings.TrimSuffix(s, ".py")
		}
		return strings.TrimSuffix(pathPackage(p, "dist-packages/", false), ".py")
	case FamilyRuby:
		s := pathPackage(p, "gems/", false)
		if i := strings.LastIndexByte(s, '-'); i > 0 {
			s = s[:i]
		}
		return s
	case FamilyPHP:
		return pathPackage(p, "vendor/", true)
	}
	return ""
}

// pathPackage returns the segment of p after the last dir (two segments when
// two is set or the first starts with '@', as npm scopes do).
func pathPackage(p, dir string, two bool) string {
	i := strings.LastIndex(p, dir)
	if i < 0 {
		return ""
	}
	rest := p[i+len(dir):]
	j := strings.IndexByte(rest, '/')
	if j <= 0 {
		return ""
	}
	if two || rest[0] == '@' {
		if k := strings.IndexByte(rest[j+1:], '/'); k >= 0 {
			return rest[:j+1+k]
		}
		return ""
	}
	return rest[:j]
}
