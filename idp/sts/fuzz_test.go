package sts

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzQuery feeds arbitrary parameter strings to the Query parser and the
// request decoders and validators of every action: none may panic, a
// parsed set must survive re-encoding unchanged, and every validation
// error must be a ValidationError with AWS's message prefix.
func FuzzQuery(f *testing.F) {
	for _, s := range []string{
		"Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2FDeveloper_Role&RoleSessionName=Dev-project&SourceIdentity=DevUser",
		"Action=AssumeRole&Tags.member.1.Key=Project&Tags.member.1.Value=Unicorn&TransitiveTagKeys.member.1=Project&PolicyArns.member.1.arn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FReadOnly",
		"Action=AssumeRoleWithSAML&RoleArn=&PrincipalArn=&SAMLAssertion=PHNhbWxwOlJlc3BvbnNlLz4%3D",
		"Action=AssumeRoleWithWebIdentity&WebIdentityToken=a.b.c&DurationSeconds=43201",
		"Tags.member.0.Key=x&Tags.member.01.Key=y&Tags.member.1000.Value=z&Tags.member.-1.Key=w",
		"a=1&a=2",
		"%zz=1",
		"=&&&=x&Action",
		"RoleSessionName=%E2%80%AE%00%FF",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		p, e := parseQuery(raw)
		if e != nil {
			if e.Code != CodeInvalidParameterValue || e.Status != 400 {
				t.Fatalf("parse error %+v", e)
			}
			return
		}
		v := url.Values{}
		for k, x := range p {
			v.Set(k, x)
		}
		again, e := parseQuery(v.Encode())
		if e != nil || len(again) != len(p) {
			t.Fatalf("re-encoded parameters do not parse back: %v", e)
		}
		for k, x := range p {
			if again[k] != x {
				t.Fatalf("parameter %q: %q after re-encoding, want %q", k, again[k], x)
			}
		}
		check := func(v *validation) {
			err := v.err()
			if err == nil {
				return
			}
			if err.Code != CodeValidationError || !strings.Contains(err.Message, "validation error") {
				t.Fatalf("validation error %+v", err)
			}
		}
		ar := decodeAssumeRole(p)
		v1 := &validation{}
		if v1.required(ar.RoleARN, "roleArn") {
			v1.check(ar.RoleARN.v, "roleArn", arnType)
		}
		v1.opt(ar.RoleSessionName, "roleSessionName", roleSessionNameType)
		v1.policyARNs(ar.PolicyARNs)
		v1.opt(ar.Policy, "policy", policyType)
		v1.duration(ar.DurationSeconds)
		v1.tags(ar.Tags)
		v1.transitiveKeys(ar.TransitiveTagKeys)
		v1.opt(ar.ExternalID, "externalId", externalIDType)
		v1.opt(ar.SerialNumber, "serialNumber", serialNumberType)
		v1.opt(ar.TokenCode, "tokenCode", tokenCodeType)
		v1.opt(ar.SourceIdentity, "sourceIdentity", sourceIdentityType)
		check(v1)
		checkRequestTags(requestTags(ar.Tags), ar.TransitiveTagKeys, []string{"Project"})
		packedSize(ar.Policy.v, ar.PolicyARNs, requestTags(ar.Tags))
		validArn(ar.RoleARN.v)

		sr := decodeSAML(p)
		v2 := &validation{}
		v2.opt(sr.SAMLAssertion, "sAMLAssertion", samlType)
		v2.opt(sr.PrincipalARN, "principalArn", arnType)
		check(v2)

		wr := decodeWebIdentity(p)
		v3 := &validation{}
		v3.opt(wr.WebIdentityToken, "webIdentityToken", tokenType)
		v3.opt(wr.ProviderID, "providerId", urlType)
		check(v3)
		peekToken(wr.WebIdentityToken.v)
	})
}
