// Package oidc signs people in at an upstream OpenID Connect provider
// (Okta, Entra ID, Google, Keycloak, Dex, ...). It implements
// connector.RedirectConnector: discovery, the authorization code flow with
// PKCE (S256), state and nonce bound to the browser's connector.Challenge,
// the ID token verified (signature, issuer, audience, expiry, nonce), an
// optional UserInfo call, and the provider's claims turned into an
// idp.Identity (username, e-mail, groups and attributes).
package oidc
