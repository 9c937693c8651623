package grouping

import "fmt"

// Frame is one parsed stack frame. The frame parsers fill Function, Module,
// File, Line and Column; the rules decide InApp.
type Frame struct {
	Function string `json:"function,omitempty"`
	Module   string `json:"module,omitempty"`
	File     string `json:"file,omitempty"`
	Line     int    `json:"line,omitempty"`
	Column   int    `json:"column,omitempty"`
	InApp    bool   `json:"inApp"`
}

// String renders the frame as a person reads it: "function (file:line)".
func (f Frame) String() string {
	where := f.File
	if where == "" {
		where = f.Module
	}
	if f.Line > 0 {
		where = fmt.Sprintf("%s:%d", where, f.Line)
	}
	switch {
	case f.Function == "":
		return where
	case where == "":
		return f.Function
	}
	return f.Function + " (" + where + ")"
}
