// Package oascheck checks HTTP traffic of the tests against what clients of the My
// Account API rely on: Auth0's OpenAPI 3.1 description of it ([Spec]) and what
// Auth0's SDK decoders require of each response ([Decoders]).
//
// The contract file is reference data kept outside the repository (see [Locate]),
// read at test time by [ForTest] and [Require]. Its schemas are evaluated in process
// by a JSON Schema 2020-12 library, a test-only requirement of the core module.
//
// The decoder check needs nothing but the response: its table, in sdkdecoders.go,
// names the SDK source file each rule comes from.
package oascheck
