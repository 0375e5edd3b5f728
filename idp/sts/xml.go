package sts

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"strconv"
	"time"
)

// Namespace is the XML namespace of every STS response.
const Namespace = "https://sts.amazonaws.com/doc/2011-06-15/"

// expirationLayout is how Expiration is written: ISO-8601 UTC to the second.
const expirationLayout = "2006-01-02T15:04:05Z"

// CredentialsXML is the Credentials element.
type CredentialsXML struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string
	SessionToken    string
	Expiration      string
}

// AssumedRoleUserXML is the AssumedRoleUser element.
type AssumedRoleUserXML struct {
	Arn           string
	AssumedRoleID string `xml:"AssumedRoleId"`
}

// AssumeRoleResult is the AssumeRoleResult element.
type AssumeRoleResult struct {
	XMLName          xml.Name `xml:"AssumeRoleResult"`
	SourceIdentity   string   `xml:",omitempty"`
	AssumedRoleUser  AssumedRoleUserXML
	Credentials      CredentialsXML
	PackedPolicySize *int `xml:",omitempty"`
}

// AssumeRoleWithSAMLResult is the AssumeRoleWithSAMLResult element.
type AssumeRoleWithSAMLResult struct {
	XMLName          xml.Name `xml:"AssumeRoleWithSAMLResult"`
	Issuer           string
	AssumedRoleUser  AssumedRoleUserXML
	Credentials      CredentialsXML
	Audience         string
	SourceIdentity   string `xml:",omitempty"`
	PackedPolicySize *int   `xml:",omitempty"`
	NameQualifier    string
	Subject          string
	SubjectType      string
}

// AssumeRoleWithWebIdentityResult is the AssumeRoleWithWebIdentityResult
// element.
type AssumeRoleWithWebIdentityResult struct {
	XMLName                     xml.Name `xml:"AssumeRoleWithWebIdentityResult"`
	SubjectFromWebIdentityToken string
	Audience                    string
	AssumedRoleUser             AssumedRoleUserXML
	Credentials                 CredentialsXML
	SourceIdentity              string `xml:",omitempty"`
	PackedPolicySize            *int   `xml:",omitempty"`
	Provider                    string
}

// GetCallerIdentityResult is the GetCallerIdentityResult element.
type GetCallerIdentityResult struct {
	XMLName xml.Name `xml:"GetCallerIdentityResult"`
	Arn     string
	UserID  string `xml:"UserId"`
	Account string
}

type responseMetadata struct {
	RequestID string `xml:"RequestId"`
}

type envelope struct {
	XMLName  xml.Name
	Result   any
	Metadata responseMetadata `xml:"ResponseMetadata"`
}

type errorResponse struct {
	XMLName   xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ ErrorResponse"`
	Error     errorElement
	RequestID string `xml:"RequestId"`
}

type errorElement struct {
	Type    string
	Code    string
	Message string
}

func formatExpiration(t time.Time) string { return t.UTC().Format(expirationLayout) }

func setHeaders(w http.ResponseWriter, requestID string, n int) {
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	h.Set("X-Amzn-Requestid", requestID)
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(n))
}

// writeResult writes <ActionResponse><ActionResult>…</ActionResult>
// <ResponseMetadata>…</ResponseMetadata></ActionResponse>.
func writeResult(w http.ResponseWriter, requestID, action string, result any) {
	var buf bytes.Buffer
	err := xml.NewEncoder(&buf).Encode(envelope{
		XMLName:  xml.Name{Space: Namespace, Local: action + "Response"},
		Result:   result,
		Metadata: responseMetadata{RequestID: requestID},
	})
	if err != nil {
		writeError(w, requestID, internal(err))
		return
	}
	setHeaders(w, requestID, buf.Len())
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
}

// writeError writes the ErrorResponse of STS-SPEC §1.
func writeError(w http.ResponseWriter, requestID string, e *Error) {
	var buf bytes.Buffer
	xml.NewEncoder(&buf).Encode(errorResponse{
		Error:     errorElement{Type: e.Type(), Code: e.Code, Message: e.Message},
		RequestID: requestID,
	})
	setHeaders(w, requestID, buf.Len())
	w.WriteHeader(e.Status)
	w.Write(buf.Bytes())
}
