// Package oascheck validates HTTP traffic of the tests against Auth0's OpenAPI 3.1
// description of the My Account API.
//
// The contract file is reference data kept outside the repository (see [Locate]); it is
// read at test time and never copied into the project. [ForTest] loads it once per test
// binary and skips the calling test when it is absent, unless the environment sets
// CI=true, where its absence fails the test.
//
// The schema validator implements the part of JSON Schema draft 2020-12 that OpenAPI 3.1
// documents use: $ref (local JSON pointers), type, enum, const, the string, number,
// array and object assertions, the applicators allOf, anyOf, oneOf, not, if/then/else,
// properties, patternProperties, additionalProperties, propertyNames, dependentRequired,
// dependentSchemas, prefixItems, items and contains, and the formats "date-time"
// (RFC 3339) and "uri" (absolute URI, RFC 3986), which are asserted. Annotations
// (description, title, default, examples, discriminator, x-* extensions and the like)
// do not affect the outcome; a keyword that is neither implemented nor a known
// annotation is reported as an error rather than silently ignored, so the checker never
// passes an instance it did not really check.
//
// Patterns are ECMA-262 regular expressions in JSON Schema. They are compiled with Go's
// regexp package (RE2) after translating the \uXXXX escape, which RE2 spells \x{XXXX};
// a pattern RE2 cannot express is reported, with its schema location, when it is used.
package oascheck
