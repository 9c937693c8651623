package grouping

import "strings"

// goPackage returns the package path of a Go function name such as
// "net/http.(*conn).serve" -> "net/http".
func goPackage(fn string) string {
	slash := strings.LastIndexByte(fn, '/')
	rest := fn[slash+1:]
	if dot := strings.IndexByte(rest, '.'); dot >= 0 {
		return fn[:slash+1+dot]
	}
	return fn
}
