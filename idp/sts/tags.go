package sts

import (
	"bytes"
	"compress/flate"
	"fmt"
	"strings"

	"idpbridge/idp"
)

// Session tag rules (STS-SPEC §3, §4d, §5).

// checkRequestTags applies the InvalidParameterValue rules to the tags and
// transitive tag keys of a request: keys unique regardless of case, no
// reserved "aws:" prefix, every transitive key among the tags, and no
// transitive key that the calling session already passes on.
func checkRequestTags(tags []idp.Tag, transitive []string, inheritedTransitive []string) *Error {
	seen := map[string]bool{}
	for _, t := range tags {
		k := strings.ToLower(t.Key)
		if seen[k] {
			return invalidParameter(msgDuplicateTags)
		}
		seen[k] = true
		if strings.HasPrefix(k, "aws:") {
			// UNCONF: AWS's text for a reserved tag key.
			return invalidParameter("Tag keys beginning with \"aws:\" are reserved for AWS use.")
		}
	}
	for _, k := range transitive {
		if !seen[strings.ToLower(k)] {
			return invalidParameter(msgTransitiveNotInTags)
		}
	}
	for _, k := range transitive {
		for _, ik := range inheritedTransitive {
			if strings.EqualFold(k, ik) {
				return invalidParameter(msgTransitiveConflict)
			}
		}
	}
	return nil
}

// msgInheritedTagConflict names the request's tag key (UNCONF: AWS's
// wording).
const msgInheritedTagConflict = "The tag key '%s' can't be set because it conflicts with an inherited transitive tag key from the calling session."

// checkInheritedTags rejects a request tag with the key of a transitive
// tag the calling session passes on, compared regardless of case: an
// inherited transitive tag cannot be replaced down the chain (AWS: "If you
// pass a session tag with the same key as an inherited tag, the operation
// fails"). The message is UNCONF.
func checkInheritedTags(tags, inherited []idp.Tag) *Error {
	for _, t := range tags {
		for _, it := range inherited {
			if strings.EqualFold(t.Key, it.Key) {
				return invalidParameter(fmt.Sprintf(msgInheritedTagConflict, t.Key))
			}
		}
	}
	return nil
}

// mergeTags merges tag lists in order, a later key replacing an earlier one
// regardless of case (the later spelling wins); the order of first
// appearance is kept.
func mergeTags(lists ...[]idp.Tag) []idp.Tag {
	var out []idp.Tag
	index := map[string]int{}
	for _, l := range lists {
		for _, t := range l {
			k := strings.ToLower(t.Key)
			if i, ok := index[k]; ok {
				out[i] = t
				continue
			}
			index[k] = len(out)
			out = append(out, t)
		}
	}
	return out
}

// transitiveTags returns the tags of a session whose keys it passes on.
func transitiveTags(tags []idp.Tag, keys []string) []idp.Tag {
	var out []idp.Tag
	for _, t := range tags {
		for _, k := range keys {
			if strings.EqualFold(t.Key, k) {
				out = append(out, t)
				break
			}
		}
	}
	return out
}

// unionKeys appends the keys of b missing from a (case-insensitively).
func unionKeys(a, b []string) []string {
	out := append([]string(nil), a...)
	for _, k := range b {
		found := false
		for _, x := range out {
			found = found || strings.EqualFold(x, k)
		}
		if !found {
			out = append(out, k)
		}
	}
	return out
}

// packedLimit is the allotted space of the packed session policies and
// tags, in bytes of the model below.
const packedLimit = 2048

// packedSize returns how much of the allotted space the session policy,
// the managed policy ARNs and the tags take, in percent (rounded up).
// AWS's packed binary format is not published (UNCONF); this model deflates
// the policy text and the ARNs, and counts every tag as its key and value
// plus two bytes, so that a request within AWS's plain-text limits can
// still fail, as it can with AWS.
func packedSize(policyText string, policyARNs []string, tags []idp.Tag) (percent int, tagShare bool) {
	n := 0
	if policyText != "" || len(policyARNs) > 0 {
		var buf bytes.Buffer
		zw, _ := flate.NewWriter(&buf, flate.BestCompression)
		zw.Write([]byte(policyText))
		zw.Write([]byte(strings.Join(policyARNs, ",")))
		zw.Close()
		n += buf.Len()
	}
	t := 0
	for _, x := range tags {
		t += len(x.Key) + len(x.Value) + 2
	}
	n += t
	return (n*100 + packedLimit - 1) / packedLimit, t > 0
}

// checkPacked returns PackedPolicyTooLarge when the packed size exceeds
// 100%.
func checkPacked(percent int, tagShare bool) *Error {
	if percent <= 100 {
		return nil
	}
	what := "session policies"
	if tagShare {
		what = "session tags"
	}
	return sender(CodePackedPolicyTooLarge, fmt.Sprintf("Packed size of %s consumes %d%% of allotted space.", what, percent))
}
