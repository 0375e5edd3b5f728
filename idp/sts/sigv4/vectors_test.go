package sigv4

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestAWSTestSuite reproduces cases of AWS's published Signature Version 4
// test suite (credentials AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY):
// the canonical request, the string to sign and the signature must match the
// published values exactly. The suite signs for service "service" (or "host"
// in its 2011 edition), so Verify must then refuse the scope for STS.
func TestAWSTestSuite(t *testing.T) {
	t.Parallel()
	const suiteSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	tests := []struct {
		name      string
		method    string
		url       string
		headers   [][2]string
		body      string
		canonical string
		sts       string
		authz     string
		now       time.Time
		wantMsg   string
	}{
		{
			name:   "get-vanilla",
			method: "GET", url: "https://example.amazonaws.com/",
			headers: [][2]string{{"X-Amz-Date", "20150830T123600Z"}},
			canonical: "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" +
				"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
			sts: "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n" +
				"bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
			authz: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, " +
				"Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
			now:     time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC),
			wantMsg: "Credential should be scoped to correct service: 'sts'.",
		},
		{
			name:   "get-vanilla-query-order-key-case",
			method: "GET", url: "https://example.amazonaws.com/?Param2=value2&Param1=value1",
			headers: [][2]string{{"X-Amz-Date", "20150830T123600Z"}},
			canonical: "GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" +
				"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
			sts: "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n" +
				"816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0",
			authz: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, " +
				"Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
			now:     time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC),
			wantMsg: "Credential should be scoped to correct service: 'sts'.",
		},
		{
			name:   "post-x-www-form-urlencoded",
			method: "POST", url: "https://example.amazonaws.com/",
			headers: [][2]string{{"Content-Type", "application/x-www-form-urlencoded"}, {"X-Amz-Date", "20150830T123600Z"}},
			body:    "Param1=value1",
			canonical: "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n" +
				"content-type;host;x-amz-date\n9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
			sts: "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n" +
				"42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281",
			authz: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=content-type;host;x-amz-date, " +
				"Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
			now:     time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC),
			wantMsg: "Credential should be scoped to correct service: 'sts'.",
		},
		{
			// 2011 edition: the request time comes from the Date header.
			name:   "get-vanilla (2011, Date header)",
			method: "GET", url: "https://host.foo.com/",
			headers: [][2]string{{"Date", "Mon, 09 Sep 2011 23:36:00 GMT"}},
			canonical: "GET\n/\n\ndate:Mon, 09 Sep 2011 23:36:00 GMT\nhost:host.foo.com\n\ndate;host\n" +
				"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
			sts: "AWS4-HMAC-SHA256\n20110909T233600Z\n20110909/us-east-1/host/aws4_request\n" +
				"366b91fb121d72a00f46bbe8d395f53a102b06dfb7e79636515208ed3fa606b1",
			authz: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20110909/us-east-1/host/aws4_request, SignedHeaders=date;host, " +
				"Signature=b27ccfbfa7df52a200ff74193ca6e32d4b48b8856fab7ebf1c595d0670a7e470",
			now:     time.Date(2011, 9, 9, 23, 40, 0, 0, time.UTC),
			wantMsg: "Credential should be scoped to correct service: 'sts'.",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var body *strings.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			r, err := http.NewRequest(tc.method, tc.url, nil)
			if body != nil {
				r, err = http.NewRequest(tc.method, tc.url, body)
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range tc.headers {
				r.Header.Set(h[0], h[1])
			}
			r.Header.Set("Authorization", tc.authz)
			s, err := Parse(r, []byte(tc.body))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := s.CanonicalRequest(); got != tc.canonical {
				t.Errorf("canonical request =\n%s\nwant\n%s", got, tc.canonical)
			}
			if got := s.StringToSign(); got != tc.sts {
				t.Errorf("string to sign =\n%s\nwant\n%s", got, tc.sts)
			}
			if got := string(signature(suiteSecret, s.Scope, s.StringToSign())); got != s.Signature {
				t.Errorf("signature = %s, want the published %s", got, s.Signature)
			}
			wantError(t, s.Verify(suiteSecret, tc.now), CodeSignatureDoesNotMatch, tc.wantMsg)
		})
	}
}
