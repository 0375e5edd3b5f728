package sts

import (
	"go/ast"
	"go/parser"
	"go/token"
	"testing"
)

// pipelineFiles are the files of the decision pipeline and of the three
// actions that feed it.
var pipelineFiles = []string{
	"pipeline.go", "assumerole.go", "saml.go", "webidentity.go", "authorize.go", "tags.go", "issue.go", "result.go",
	"revoke.go",
}

// maxFuncLines bounds every function of the pipeline, from its func line
// to its closing brace.
const maxFuncLines = 60

// TestPipelineFunctionsAreShort: no function of the pipeline files is
// longer than maxFuncLines lines, so that each stage reads on one screen.
func TestPipelineFunctionsAreShort(t *testing.T) {
	t.Parallel()
	fset := token.NewFileSet()
	for _, name := range pipelineFiles {
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok {
				continue
			}
			start, end := fset.Position(fn.Pos()), fset.Position(fn.End())
			if n := end.Line - start.Line + 1; n > maxFuncLines {
				t.Errorf("%s:%d: %s is %d lines long, more than %d", name, start.Line, funcName(fn), n, maxFuncLines)
			}
		}
	}
}

func funcName(fn *ast.FuncDecl) string {
	if fn.Recv == nil || len(fn.Recv.List) == 0 {
		return fn.Name.Name
	}
	t := fn.Recv.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return "(" + id.Name + ")." + fn.Name.Name
	}
	return fn.Name.Name
}
