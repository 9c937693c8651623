package cwpayload

// Visitors combines Stamp.Visit functions: each record gets the Visitors of every non-nil
// one, called in the order given (the OTLP export, the local log store, ...). It returns
// nil when all are nil, and the only one when just one is set.
func Visitors(fs ...func(record int) Visitor) func(record int) Visitor {
	var set []func(int) Visitor
	for _, f := range fs {
		if f != nil {
			set = append(set, f)
		}
	}
	switch len(set) {
	case 0:
		return nil
	case 1:
		return set[0]
	}
	return func(i int) Visitor {
		var m multiVisitor
		for _, f := range set {
			if v := f(i); v != nil {
				m = append(m, v)
			}
		}
		switch len(m) {
		case 0:
			return nil
		case 1:
			return m[0]
		}
		return m
	}
}

// multiVisitor hands every event to each of its Visitors.
type multiVisitor []Visitor

func (m multiVisitor) Visit(v *View) {
	for _, x := range m {
		x.Visit(v)
	}
}

func (m multiVisitor) End() {
	for _, x := range m {
		x.End()
	}
}
