// Package oascheck checks HTTP traffic of the tests against what clients of the My
// Account API rely on: Auth0's OpenAPI 3.1 description of it ([Spec]) and what
// Auth0's SDK decoders require of each response ([Decoders]).
//
// The contract file is reference data kept outside the repository (see [Locate]); it is
// read at test time and never copied into the project. [ForTest] loads it once per test
// binary and skips the calling test when it is absent, unless the environment sets
// CI=true, where its absence fails the test.
//
// The OpenAPI check runs in the validator (./validator), a command in a module of its
// own that evaluates the document's schemas with a JSON Schema 2020-12 library, so
// that the library never enters the core module's requirements; [ForTest] starts it
// with "go run" and talks to it over a pipe. Its package documentation says what it
// checks; a schema keyword it cannot evaluate fails the check rather than being
// ignored.
//
// The decoder check needs nothing but the response: its table, in sdkdecoders.go,
// names the SDK source file each rule comes from.
package oascheck
