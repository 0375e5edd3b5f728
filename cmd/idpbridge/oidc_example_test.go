package main

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"idpbridge/idp/connector/oidc"
)

// TestExampleConfigDocumentsOIDCKeys: the okta entry of the connectors
// example in config.example.yaml, uncommented, is a valid oidc connector,
// and it names every key of the oidc configuration.
func TestExampleConfigDocumentsOIDCKeys(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var block []string
	for _, line := range strings.Split(string(raw), "\n") {
		if len(block) == 0 && line != "#   - name: okta" {
			continue
		}
		if len(block) > 0 && (!strings.HasPrefix(line, "#    ") || strings.HasPrefix(line, "#   - ")) {
			break
		}
		block = append(block, strings.TrimPrefix(line, "# "))
	}
	if len(block) == 0 {
		t.Fatal("config.example.yaml has no connectors entry \"- name: okta\"")
	}
	text := strings.Join(block, "\n")
	var entries []ConnectorConfig
	if err := yaml.Unmarshal([]byte(text), &entries); err != nil || len(entries) != 1 {
		t.Fatalf("the okta example does not read (%v):\n%s", err, text)
	}
	cc := entries[0]
	var cfg oidc.Config
	if probs := decodeNode(&cc.Config, &cfg, "config"); len(probs) > 0 {
		t.Fatalf("the okta example's config: %v", probs)
	}
	if probs := validateOIDC(&cfg); cc.Type != "oidc" || len(probs) > 0 {
		t.Errorf("the okta example (type %q) does not validate: %v", cc.Type, probs)
	}
	ty := reflect.TypeFor[oidc.Config]()
	for i := range ty.NumField() {
		key, _, _ := strings.Cut(ty.Field(i).Tag.Get("yaml"), ",")
		if !regexp.MustCompile(`(?m)^\s+(# )?` + key + `:`).MatchString(text) {
			t.Errorf("the okta example does not document config.%s", key)
		}
	}
}
