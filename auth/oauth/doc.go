// Package oauth obtains, stores and refreshes the OAuth2 tokens of mail
// accounts whose rc entry says auth oauthbearer with oauthprovider or
// oauthclientid (docs/oauth2.md), on golang.org/x/oauth2.
//
// Login runs once, from "gofetchmail oauth2 login": the device
// authorization grant (RFC 8628) or the authorization code grant with
// PKCE S256 (RFC 7636) and a loopback redirect on 127.0.0.1 (RFC 8252).
// Both end in a token file (store.go) of mode 0600, created exclusively
// under a random name and renamed into place, and trusted on reading only
// when it is a regular file owned by the user and private to them.
//
// Source serves every poll afterwards: the stored access token while it
// has more than a margin of life left, else one refresh_token grant (RFC
// 6749 section 6) whose answer, with a rotated refresh token if the
// server sent one, is stored before the token is used. A refresh refused
// with invalid_grant is a *ReauthError: the user must log in again.
//
// No token ever reaches a log line, an error text or an argument list:
// errors carry the endpoint's error code and description, never a body.
package oauth
