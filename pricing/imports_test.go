package pricing_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestPricingImportsNothingOfOurs enforces the dependency rule: pricing is
// the core; it imports only the standard library and its own subpackages,
// and no I/O or transport package.
func TestPricingImportsNothingOfOurs(t *testing.T) {
	forbidden := []string{"net", "net/http", "os", "os/exec", "io/ioutil", "log", "syscall"}
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			switch {
			case strings.HasPrefix(p, "github.com/pricefn/pricefn/pricing"):
			case strings.Contains(strings.Split(p, "/")[0], "."):
				t.Errorf("%s imports %s: pricing imports no third-party or other pricefn package", path, p)
			default:
				for _, bad := range forbidden {
					if p == bad {
						t.Errorf("%s imports %s: pricing does no I/O", path, p)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
