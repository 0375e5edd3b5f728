// Package ldap is the LDAP and Active Directory password connector. It
// finds a person with a service account (search), checks the password by
// binding as the entry found (bind), and reads the configured attributes
// and the groups the mappings need. It owns the transport (ldaps://, or
// ldap:// with StartTLS), failover between several servers, a bounded
// pool of service-bound connections, the Active Directory account state
// (disabled, locked out, expired) and the string forms of binary
// directory values (objectGUID, objectSid).
package ldap
