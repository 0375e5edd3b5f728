package idp_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestAWSVocabularyLivesInIdp keeps the AWS vocabulary in one place: outside
// package idp no non-test file defines isAccountID or IsAccountID, declares a
// `type Tag struct`, or splits an ARN with strings.SplitN(s, ":", 6) (use
// idp.ParseARN). No package is exempt.
func TestAWSVocabularyLivesInIdp(t *testing.T) {
	t.Parallel()
	exempt := map[string]map[string]bool{
		"type Tag struct":             {},
		`strings.SplitN(..., ":", 6)`: {},
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	scanned := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		dir := filepath.ToSlash(filepath.Dir(rel))
		if dir == "idp" {
			return nil
		}
		scanned++
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		report := func(n ast.Node, what string) {
			if ex := exempt[what]; ex[dir] || ex[rel] {
				return
			}
			t.Errorf("%s: %s; the AWS vocabulary lives in package idp", fset.Position(n.Pos()), what)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncDecl:
				if n.Recv == nil && (n.Name.Name == "isAccountID" || n.Name.Name == "IsAccountID") {
					report(n, "defines "+n.Name.Name+" (use idp.IsAccountID)")
				}
			case *ast.TypeSpec:
				if _, isStruct := n.Type.(*ast.StructType); isStruct && n.Name.Name == "Tag" && !n.Assign.IsValid() {
					report(n, "type Tag struct")
				}
			case *ast.CallExpr:
				if isARNSplit(n) {
					report(n, `strings.SplitN(..., ":", 6)`)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if scanned < 50 {
		t.Fatalf("scanned only %d files below %s; is the module root right?", scanned, root)
	}
}

// isARNSplit reports whether call is strings.SplitN(x, ":", 6).
func isARNSplit(call *ast.CallExpr) bool {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "SplitN" || len(call.Args) != 3 {
		return false
	}
	if pkg, ok := sel.X.(*ast.Ident); !ok || pkg.Name != "strings" {
		return false
	}
	sep, ok1 := call.Args[1].(*ast.BasicLit)
	n, ok2 := call.Args[2].(*ast.BasicLit)
	if !ok1 || !ok2 || sep.Kind != token.STRING || n.Kind != token.INT {
		return false
	}
	s, err := strconv.Unquote(sep.Value)
	return err == nil && s == ":" && n.Value == "6"
}
