package sso

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	validator "github.com/mattermost/xml-roundtrip-validator"
)

// Bounds on what browsers and service providers send. They are checked
// before crewjam/saml parses or verifies anything, so that no signature
// check (goxmldsig) ever sees a document of unbounded size or shape.
const (
	// MaxMessageBytes caps a SAML request (AuthnRequest, LogoutRequest) after
	// base64 decoding and, for the HTTP-Redirect binding, after inflating:
	// a deflate bomb stops here (CVE-2023-28119).
	MaxMessageBytes = 256 << 10
	// MaxEncodedBytes caps the SAMLRequest parameter as sent.
	MaxEncodedBytes = 384 << 10
	// MaxRelayStateBytes caps RelayState.
	MaxRelayStateBytes = 1024
	// MaxMetadataBytes caps a service provider's metadata document.
	MaxMetadataBytes = 1 << 20

	maxMessageElements  = 512
	maxMessageDepth     = 32
	maxMetadataElements = 20000
	maxMetadataDepth    = 64
)

// errBadMessage marks a SAML message refused by the shape checks.
var errBadMessage = errors.New("sso: unacceptable SAML message")

// checkXMLShape accepts a well-formed document of at most maxElements
// elements nested at most maxDepth deep, without DOCTYPE or other
// directives, without processing instructions other than the XML
// declaration, and that survives an encoding/xml round trip unchanged.
func checkXMLShape(doc []byte, maxElements, maxDepth int) error {
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	elements, depth, roots := 0, 0, 0
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%w: not well-formed XML: %v", errBadMessage, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			elements++
			depth++
			if depth == 1 {
				roots++
			}
			if elements > maxElements {
				return fmt.Errorf("%w: more than %d elements", errBadMessage, maxElements)
			}
			if depth > maxDepth {
				return fmt.Errorf("%w: nested more than %d deep", errBadMessage, maxDepth)
			}
		case xml.EndElement:
			depth--
		case xml.Directive:
			return fmt.Errorf("%w: DOCTYPE and other directives are not allowed", errBadMessage)
		case xml.ProcInst:
			if t.Target != "xml" || elements > 0 {
				return fmt.Errorf("%w: processing instructions are not allowed", errBadMessage)
			}
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) > 0 {
				return fmt.Errorf("%w: text outside the root element", errBadMessage)
			}
		}
	}
	if roots != 1 {
		return fmt.Errorf("%w: expected one root element, found %d", errBadMessage, roots)
	}
	if err := validator.Validate(bytes.NewReader(doc)); err != nil {
		return fmt.Errorf("%w: %v", errBadMessage, err)
	}
	return nil
}

// inflateCapped inflates a raw DEFLATE stream, failing once the output
// exceeds max bytes.
func inflateCapped(compressed []byte, max int) ([]byte, error) {
	r := flate.NewReader(bytes.NewReader(compressed))
	defer r.Close()
	out, err := io.ReadAll(io.LimitReader(r, int64(max)+1))
	if err != nil {
		return nil, fmt.Errorf("%w: cannot inflate: %v", errBadMessage, err)
	}
	if len(out) > max {
		return nil, fmt.Errorf("%w: inflates to more than %d bytes", errBadMessage, max)
	}
	return out, nil
}

// deflate compresses b with raw DEFLATE, as the HTTP-Redirect binding wants.
func deflate(b []byte) []byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression) // the level is valid
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// precheckRequest checks the SAML message that r carries in param
// ("SAMLRequest"), with the HTTP-Redirect binding for GET and the HTTP-POST
// binding for POST, and its RelayState, before crewjam/saml reads them. It
// returns the decoded message, or nil when r carries none.
func precheckRequest(r *http.Request, param string) ([]byte, error) {
	var encoded, relay string
	redirect := r.Method == http.MethodGet
	if redirect {
		q := r.URL.Query()
		encoded, relay = q.Get(param), q.Get("RelayState")
	} else {
		encoded, relay = r.PostFormValue(param), r.PostFormValue("RelayState")
	}
	if encoded == "" {
		return nil, nil
	}
	if len(relay) > MaxRelayStateBytes {
		return nil, fmt.Errorf("%w: RelayState longer than %d bytes", errBadMessage, MaxRelayStateBytes)
	}
	if len(encoded) > MaxEncodedBytes {
		return nil, fmt.Errorf("%w: %s longer than %d bytes", errBadMessage, param, MaxEncodedBytes)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(encoded))
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not base64", errBadMessage, param)
	}
	if redirect {
		if raw, err = inflateCapped(raw, MaxMessageBytes); err != nil {
			return nil, err
		}
	} else if len(raw) > MaxMessageBytes {
		return nil, fmt.Errorf("%w: message larger than %d bytes", errBadMessage, MaxMessageBytes)
	}
	if err := checkXMLShape(raw, maxMessageElements, maxMessageDepth); err != nil {
		return nil, err
	}
	return raw, nil
}
