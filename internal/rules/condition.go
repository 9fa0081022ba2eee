package rules

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
)

// layout is what a rule's expressions need from every series: the table
// of windows the rewritten helper calls index, the EWMA slots, and how
// much history the ring buffer keeps.
type layout struct {
	windows []window
	alphas  []float64
	need    int           // readings of history the count windows need
	span    time.Duration // longest duration window over the history
}

// window is a helper's constant argument: n readings or a duration d.
type window struct {
	n int
	d time.Duration
}

func (l *layout) addWindow(w window) int {
	for i, x := range l.windows {
		if x == w {
			return i
		}
	}
	l.windows = append(l.windows, w)
	return len(l.windows) - 1
}

func (l *layout) addAlpha(a float64) int {
	for i, x := range l.alphas {
		if x == a {
			return i
		}
	}
	l.alphas = append(l.alphas, a)
	return len(l.alphas) - 1
}

// getName is the internal function unknown identifiers are rewritten to:
// `speed` becomes `_get("speed")` (a field of the reading, else a tag).
const getName = "_get"

// isEnvName reports the names evalEnv defines (see env.go).
func isEnvName(s string) bool {
	switch s {
	case "value", "measurement", "topic", "prev", "delta", "rate", "count", "mean", "min", "max",
		"zscore", "mad_score", "stuck", "roc_limit", "has", "field", "tag", getName:
		return true
	}
	return false
}

// compileExpr compiles a condition (asFloat false: it must be boolean)
// against evalEnv, rewriting identifiers and helper arguments and adding
// the windows it uses to l. Errors carry expr's position.
func compileExpr(src string, l *layout, alpha float64, asFloat bool) (prog *vm.Program, err error) {
	if len(src) > MaxExpressionLength {
		return nil, fmt.Errorf("longer than %d bytes", MaxExpressionLength)
	}
	defer func() {
		if r := recover(); r != nil { // expr should not panic; never let it take borda down
			prog, err = nil, fmt.Errorf("cannot compile (internal error: %v)", r)
		}
	}()
	sc := &scan{callees: map[*ast.Node]bool{}, lets: map[string]bool{}}
	rw := &rewrite{scan: sc, l: l, alpha: alpha, done: map[*ast.CallNode]bool{}}
	kind := expr.AsBool()
	if asFloat {
		kind = expr.AsFloat64()
	}
	prog, err = expr.Compile(src, expr.Env(evalEnv{}), expr.Patch(sc), expr.Patch(rw), kind)
	if len(rw.errs) > 0 {
		return nil, errors.New(position(rw.errs[0].Bind(file.NewSource(src))))
	}
	if err != nil {
		return nil, errors.New(position(err))
	}
	return prog, nil
}

// position formats an expr error on one line: message (line L, column C).
func position(err error) string {
	var fe *file.Error
	if errors.As(err, &fe) && fe.Line > 0 {
		return fmt.Sprintf("%s (line %d, column %d)", fe.Message, fe.Line, fe.Column+1)
	}
	return strings.ReplaceAll(err.Error(), "\n", " ")
}

// scan records what rewrite needs to know about the whole tree before it
// changes it: which identifiers are called, and let-variables.
type scan struct {
	callees map[*ast.Node]bool
	lets    map[string]bool
}

func (s *scan) Visit(n *ast.Node) {
	switch x := (*n).(type) {
	case *ast.CallNode:
		s.callees[&x.Callee] = true
	case *ast.VariableDeclaratorNode:
		s.lets[x.Name] = true
	}
}

// rewrite turns unknown identifiers into field/tag lookups and the
// window helpers' constant arguments into indexes into the layout.
type rewrite struct {
	scan  *scan
	l     *layout
	alpha float64
	done  map[*ast.CallNode]bool
	errs  []*file.Error
}

func (w *rewrite) Visit(n *ast.Node) {
	switch x := (*n).(type) {
	case *ast.IdentifierNode:
		if w.scan.callees[n] || w.scan.lets[x.Value] || isEnvName(x.Value) || strings.HasPrefix(x.Value, "$") {
			return
		}
		loc := x.Location()
		ast.Patch(n, &ast.CallNode{
			Callee:    located(&ast.IdentifierNode{Value: getName}, loc),
			Arguments: []ast.Node{located(&ast.StringNode{Value: x.Value}, loc)},
		})
	case *ast.CallNode:
		if !w.done[x] {
			w.done[x] = true
			w.call(n, x)
		}
	}
}

func located[N ast.Node](node N, loc file.Location) N {
	node.SetLocation(loc)
	return node
}

func (w *rewrite) fail(n ast.Node, format string, a ...any) {
	w.errs = append(w.errs, &file.Error{Location: n.Location(), Message: fmt.Sprintf(format, a...)})
}

func (w *rewrite) call(n *ast.Node, x *ast.CallNode) {
	id, ok := x.Callee.(*ast.IdentifierNode)
	if !ok {
		return
	}
	switch id.Value {
	case "min", "max":
		if len(x.Arguments) != 1 { // min(a, b): expr's builtin
			ast.Patch(n, &ast.BuiltinNode{Name: id.Value, Arguments: x.Arguments})
			return
		}
		w.window(x, id.Value, 1, true)
	case "mean":
		w.window(x, id.Value, 1, true)
	case "mad_score":
		w.window(x, id.Value, 3, false)
	case "stuck":
		w.window(x, id.Value, 2, false)
	case "zscore":
		w.zscore(x)
	}
}

// window replaces the constant window argument of a helper by its index
// in the layout. inclusive: the window includes the current reading.
func (w *rewrite) window(x *ast.CallNode, name string, minN int, inclusive bool) {
	if len(x.Arguments) != 1 {
		w.fail(x, "%s() takes one argument: a number of readings like %s(10) or a duration like %s(\"5m\")", name, name, name)
		return
	}
	var win window
	switch a := x.Arguments[0].(type) {
	case *ast.IntegerNode:
		if a.Value < minN || a.Value > MaxWindow {
			w.fail(a, "%s(%d): the number of readings must be between %d and %d", name, a.Value, minN, MaxWindow)
			return
		}
		win.n = a.Value
	case *ast.StringNode:
		d, err := time.ParseDuration(a.Value)
		if err != nil || d <= 0 || d > MaxWindowDuration {
			w.fail(a, "%s(%q): the window must be a duration between 1ns and %s, like \"5m\"", name, a.Value, MaxWindowDuration)
			return
		}
		win.d = d
	default:
		w.fail(x.Arguments[0], "%s(): the window must be a constant: a number of readings like %s(10) or a duration like %s(\"5m\")", name, name, name)
		return
	}
	if name != "stuck" { // stuck keeps O(1) state, no history
		need := win.n
		if inclusive {
			need--
		}
		w.l.need = max(w.l.need, need)
		w.l.span = max(w.l.span, win.d)
	}
	idx := w.l.addWindow(win)
	ast.Patch(&x.Arguments[0], &ast.IntegerNode{Value: idx})
}

// zscore replaces zscore() and zscore(alpha) by zscore(slot).
func (w *rewrite) zscore(x *ast.CallNode) {
	alpha := w.alpha
	switch len(x.Arguments) {
	case 0:
	case 1:
		switch a := x.Arguments[0].(type) {
		case *ast.FloatNode:
			alpha = a.Value
		case *ast.IntegerNode:
			alpha = float64(a.Value)
		default:
			w.fail(x.Arguments[0], "zscore(): alpha must be a constant number, like zscore(0.1)")
			return
		}
		if !(alpha > 0 && alpha <= 1) {
			w.fail(x.Arguments[0], "zscore(%v): alpha must be greater than 0 and at most 1", alpha)
			return
		}
	default:
		w.fail(x, "zscore() takes no argument or one: the smoothing factor alpha, like zscore(0.1)")
		return
	}
	slot := w.l.addAlpha(alpha)
	x.Arguments = []ast.Node{located(&ast.IntegerNode{Value: slot}, x.Location())}
}
