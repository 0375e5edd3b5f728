package samlverify

import (
	"bytes"
	"encoding/xml"
	"errors"
	validator "github.com/mattermost/xml-roundtrip-validator"
	"io"
	"unicode/utf8"
)

// prescan reads doc as a stream of tokens, without building a tree, and
// rejects it unless it is one UTF-8 element within the size limits, with
// no DOCTYPE or other directive, no processing instruction (the XML
// declaration excepted), no duplicate attribute, no undeclared entity, and
// with every start tag (element name, attributes, namespace
// declarations) surviving an encoding/xml round trip unchanged
// (mattermost/xml-roundtrip-validator; CVE-2020-29509/29510/29511).
//
// Text and comments are not round-tripped here: a strict decoder's text
// always survives, and comments are read by nothing. Checking them would
// double the cost of prescan, and crewjam round-trips every token again
// before it reads anything.
func prescan(doc []byte) error {
	if !utf8.Valid(doc) {
		return errors.New("not UTF-8")
	}
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	// No CharsetReader: a declared encoding other than UTF-8 is an error.
	var (
		stack    []xml.Name // open elements, as written
		declared []int      // namespace declarations per open element
		inScope  int
		elements int
		roots    int
		first    = true
	)
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if err := validator.CheckToken(t); err != nil {
				return err
			}
			if len(stack) == 0 {
				roots++
				if roots > 1 {
					return errors.New("more than one root element")
				}
			}
			elements++
			if elements > MaxElements {
				return errors.New("too many elements")
			}
			if len(stack)+1 > MaxDepth {
				return errors.New("elements nested too deep")
			}
			if len(t.Attr) > MaxAttrs {
				return errors.New("too many attributes on one element")
			}
			n := 0
			for i, a := range t.Attr {
				if a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns" {
					n++
				}
				for _, b := range t.Attr[:i] {
					if a.Name == b.Name {
						return errors.New("duplicate attribute " + a.Name.Space + ":" + a.Name.Local)
					}
				}
			}
			inScope += n
			if inScope > MaxNamespaces {
				return errors.New("too many namespace declarations in scope")
			}
			stack = append(stack, t.Name)
			declared = append(declared, n)
		case xml.EndElement:
			// Its name is its StartElement's, whose round trip was checked.
			if len(stack) == 0 || stack[len(stack)-1] != t.Name {
				return errors.New("mismatched end element")
			}
			stack = stack[:len(stack)-1]
			inScope -= declared[len(declared)-1]
			declared = declared[:len(declared)-1]
		case xml.CharData:
			if len(stack) == 0 && len(bytes.TrimSpace(t)) != 0 {
				return errors.New("text outside the root element")
			}
		case xml.Comment:
		case xml.ProcInst:
			if !first || t.Target != "xml" {
				return errors.New("processing instruction")
			}
		case xml.Directive:
			return errors.New("DOCTYPE or other directive")
		default:
			return errors.New("unexpected token")
		}
		first = false
	}
	if len(stack) != 0 {
		return errors.New("unclosed element")
	}
	if roots != 1 {
		return errors.New("no root element")
	}
	return nil
}
