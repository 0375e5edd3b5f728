// Package connector holds the small contracts through which idpbridge
// learns who a person is. Each directory lives in its own subpackage
// (local, ldap, oidc) and implements the contracts it can; the web layer
// depends only on these interfaces.
package connector
