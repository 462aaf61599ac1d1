package main

import (
	"strings"
	"testing"
)

// inlineSpec builds a Spec whose components/schemas member is the given JSON object.
func inlineSpec(t *testing.T, schemas string) *Spec {
	t.Helper()
	doc := `{"openapi":"3.1.0","info":{"title":"inline","version":"0"},"paths":{},"components":{"schemas":` + schemas + `}}`
	s, err := newSpec([]byte(doc))
	if err != nil {
		t.Fatalf("newSpec: %v", err)
	}
	return s
}

type keywordCase struct {
	name     string
	schema   string // the schema "T"
	instance string
	want     []string // substrings of the error; nil means the instance is valid
}

func runKeywordCases(t *testing.T, cases []keywordCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := inlineSpec(t, `{"T":`+tc.schema+`}`)
			err := s.validateJSON("#/components/schemas/T", []byte(tc.instance))
			checkErr(t, err, tc.want)
		})
	}
}

// checkErr asserts err is nil when want is nil, else that it contains every want.
func checkErr(t *testing.T, err error, want []string) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("unexpected error:\n%v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error, want one containing %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error does not contain %q:\n%v", w, err)
		}
	}
}

func TestType(t *testing.T) {
	runKeywordCases(t, []keywordCase{
		{"string ok", `{"type":"string"}`, `"x"`, nil},
		{"string bad", `{"type":"string"}`, `1`, []string{`(root): got number, want string; schema #/components/schemas/T/type`}},
		{"integer ok", `{"type":"integer"}`, `12`, nil},
		{"integer with zero fraction", `{"type":"integer"}`, `1.0`, nil},
		{"integer exponent", `{"type":"integer"}`, `1e3`, nil},
		{"integer bad fraction", `{"type":"integer"}`, `1.5`, []string{`(root): got number, want integer; schema #/components/schemas/T/type`}},
		{"integer bad string", `{"type":"integer"}`, `"1"`, []string{`(root): got string, want integer; schema #/components/schemas/T/type`}},
		{"number ok int", `{"type":"number"}`, `-3`, nil},
		{"number ok float", `{"type":"number"}`, `2.5e-3`, nil},
		{"number bad", `{"type":"number"}`, `true`, []string{`(root): got boolean, want number; schema #/components/schemas/T/type`}},
		{"boolean ok", `{"type":"boolean"}`, `false`, nil},
		{"boolean bad", `{"type":"boolean"}`, `"false"`, []string{"want boolean"}},
		{"null ok", `{"type":"null"}`, `null`, nil},
		{"null bad", `{"type":"null"}`, `0`, []string{`(root): got number, want null; schema #/components/schemas/T/type`}},
		{"object ok", `{"type":"object"}`, `{}`, nil},
		{"object bad", `{"type":"object"}`, `[]`, []string{`(root): got array, want object; schema #/components/schemas/T/type`}},
		{"array ok", `{"type":"array"}`, `[1]`, nil},
		{"array bad", `{"type":"array"}`, `{}`, []string{`(root): got object, want array; schema #/components/schemas/T/type`}},
		{"type array null", `{"type":["string","null"]}`, `null`, nil},
		{"type array string", `{"type":["string","null"]}`, `"s"`, nil},
		{"type array bad", `{"type":["string","null"]}`, `1`, []string{`(root): got number, want null or string; schema #/components/schemas/T/type`}},
		{"no type accepts anything", `{}`, `[1,{"a":null}]`, nil},
	})
}

func TestPropertiesRequiredAdditional(t *testing.T) {
	runKeywordCases(t, []keywordCase{
		{"nested property pointer", `{"properties":{"a":{"properties":{"b":{"type":"string"}}}}}`, `{"a":{"b":2}}`,
			[]string{`/a/b: got number, want string; schema #/components/schemas/T/properties/a/properties/b/type`}},
		{"escaped member names", `{"properties":{"a/b~c":{"type":"string"}}}`, `{"a/b~c":2}`,
			[]string{`/a~1b~0c: got number, want string; schema #/components/schemas/T/properties/a~1b~0c/type`, "/properties/a~1b~0c/type"}},
		{"required present", `{"required":["a"]}`, `{"a":null}`, nil},
		{"required missing", `{"required":["a","b"]}`, `{"a":1}`,
			[]string{`(root): missing property 'b'; schema #/components/schemas/T/required`}},
		{"required ignores non-objects", `{"required":["a"]}`, `"s"`, nil},
		{"additionalProperties false ok", `{"properties":{"a":{}},"additionalProperties":false}`, `{"a":1}`, nil},
		{"additionalProperties false extra", `{"properties":{"a":{}},"additionalProperties":false}`, `{"a":1,"z":2}`,
			[]string{`(root): additional properties 'z' not allowed; schema #/components/schemas/T/additionalProperties`}},
		{"additionalProperties schema ok", `{"properties":{"a":{}},"additionalProperties":{"type":"integer"}}`, `{"a":"s","z":2}`, nil},
		{"additionalProperties schema bad", `{"properties":{"a":{}},"additionalProperties":{"type":"integer"}}`, `{"z":"s"}`,
			[]string{`/z: got string, want integer; schema #/components/schemas/T/additionalProperties/type`}},
		{"patternProperties counts as declared", `{"patternProperties":{"^x-":{"type":"string"}},"additionalProperties":false}`, `{"x-a":"s"}`, nil},
		{"patternProperties bad", `{"patternProperties":{"^x-":{"type":"string"}}}`, `{"x-a":1}`, []string{`/x-a: got number, want string; schema #/components/schemas/T/patternProperties/^x-/type`, "/patternProperties/^x-/type"}},
		{"propertyNames", `{"propertyNames":{"maxLength":2}}`, `{"abc":1}`, []string{`(root): invalid propertyName 'abc'`, `(root): maxLength: got 3, want 2; schema #/components/schemas/T/propertyNames/maxLength`}},
		{"minProperties", `{"minProperties":1}`, `{}`, []string{`(root): minProperties: got 0, want 1; schema #/components/schemas/T/minProperties`}},
		{"maxProperties", `{"maxProperties":1}`, `{"a":1,"b":2}`, []string{`(root): maxProperties: got 2, want 1; schema #/components/schemas/T/maxProperties`}},
		{"false property schema", `{"properties":{"a":false}}`, `{"a":1}`, []string{`/a: false schema; schema #/components/schemas/T/properties/a`}},
		{"dependentRequired ok", `{"dependentRequired":{"a":["b"]}}`, `{"a":1,"b":2}`, nil},
		{"dependentRequired absent trigger", `{"dependentRequired":{"a":["b"]}}`, `{"b":2}`, nil},
		{"dependentRequired missing", `{"dependentRequired":{"a":["b"]}}`, `{"a":1}`,
			[]string{`(root): properties 'b' required, if 'a' exists; schema #/components/schemas/T/dependentRequired/a`}},
		{"dependentSchemas", `{"dependentSchemas":{"a":{"required":["c"]}}}`, `{"a":1}`, []string{`(root): missing property 'c'; schema #/components/schemas/T/dependentSchemas/a/required`}},
	})
}

func TestArrays(t *testing.T) {
	runKeywordCases(t, []keywordCase{
		{"items ok", `{"items":{"type":"integer"}}`, `[1,2]`, nil},
		{"items bad", `{"items":{"type":"integer"}}`, `[1,"x"]`, []string{`/1: got string, want integer; schema #/components/schemas/T/items/type`}},
		{"minItems ok", `{"minItems":1}`, `[0]`, nil},
		{"minItems bad", `{"minItems":2}`, `[0]`, []string{`(root): minItems: got 1, want 2; schema #/components/schemas/T/minItems`}},
		{"maxItems bad", `{"maxItems":1}`, `[0,1]`, []string{`(root): maxItems: got 2, want 1; schema #/components/schemas/T/maxItems`}},
		{"uniqueItems ok", `{"uniqueItems":true}`, `[1,"1",{"a":1},{"a":2}]`, nil},
		{"uniqueItems numbers by value", `{"uniqueItems":true}`, `[1,1.0]`, []string{`(root): items at 0 and 1 are equal; schema #/components/schemas/T/uniqueItems`}},
		{"uniqueItems objects", `{"uniqueItems":true}`, `[{"a":[1],"b":2},{"b":2,"a":[1]}]`, []string{`(root): items at 0 and 1 are equal; schema #/components/schemas/T/uniqueItems`}},
		{"uniqueItems false", `{"uniqueItems":false}`, `[1,1]`, nil},
		{"prefixItems then items", `{"prefixItems":[{"type":"string"}],"items":{"type":"integer"}}`, `["a",1,"b"]`, []string{`/2: got string, want integer; schema #/components/schemas/T/items/type`}},
		{"contains ok", `{"contains":{"const":3}}`, `[1,3]`, nil},
		{"contains none", `{"contains":{"const":3}}`, `[1,2]`, []string{`(root): no items match contains schema; schema #/components/schemas/T/contains`, `/1: value must be 3; schema #/components/schemas/T/contains/const`}},
		{"maxContains", `{"contains":{"const":3},"maxContains":1}`, `[3,3]`, []string{`(root): max 1 items required to match contains schema, but matched 2 items at 0 1; schema #/components/schemas/T/maxContains`}},
	})
}

func TestEnumConst(t *testing.T) {
	runKeywordCases(t, []keywordCase{
		{"enum ok", `{"enum":["a","b"]}`, `"b"`, nil},
		{"enum bad", `{"enum":["a","b"]}`, `"c"`, []string{`(root): value must be one of 'a', 'b'; schema #/components/schemas/T/enum`}},
		{"enum number by value", `{"enum":[1,2]}`, `2.0`, nil},
		{"enum object", `{"enum":[{"a":1}]}`, `{"a":1}`, nil},
		{"enum distinguishes types", `{"enum":[1]}`, `"1"`, []string{`(root): value must be 1; schema #/components/schemas/T/enum`}},
		{"const ok", `{"const":"passkey"}`, `"passkey"`, nil},
		{"const bad", `{"const":"passkey"}`, `"totp"`, []string{`(root): value must be 'passkey'; schema #/components/schemas/T/const`}},
		{"const null", `{"const":null}`, `false`, []string{`(root): value must be <nil>; schema #/components/schemas/T/const`}},
		{"const big integers are exact", `{"const":9007199254740993}`, `9007199254740992`, []string{`(root): value must be 9007199254740993; schema #/components/schemas/T/const`}},
		{"const array", `{"const":[1,"a"]}`, `[1,"a"]`, nil},
	})
}

func TestStrings(t *testing.T) {
	runKeywordCases(t, []keywordCase{
		{"minLength ok", `{"minLength":1}`, `"a"`, nil},
		{"minLength bad", `{"minLength":1}`, `""`, []string{`(root): minLength: got 0, want 1; schema #/components/schemas/T/minLength`}},
		{"maxLength counts code points", `{"maxLength":5}`, `"héllo"`, nil},
		{"maxLength astral code points", `{"maxLength":2}`, `"😀😀"`, nil},
		{"maxLength bad", `{"maxLength":1}`, `"😀😀"`, []string{`(root): maxLength: got 2, want 1; schema #/components/schemas/T/maxLength`}},
		{"length ignores non-strings", `{"maxLength":1}`, `12345`, nil},
		{"pattern ok", `{"pattern":"^[a-z0-9-]+$"}`, `"abc-1"`, nil},
		{"pattern bad", `{"pattern":"^[a-z0-9-]+$"}`, `"ABC"`, []string{`(root): 'ABC' does not match pattern '^[a-z0-9-]+$'; schema #/components/schemas/T/pattern`}},
		{"pattern is a search, not anchored", `{"pattern":"b"}`, `"abc"`, nil},
		{"pattern ECMA \\u escape ok", `{"pattern":"^[^\\u0000-\\u001f\\u007f-\\u009f]*$"}`, `"plain text é"`, nil},
		{"pattern ECMA \\u escape bad", `{"pattern":"^[^\\u0000-\\u001f\\u007f-\\u009f]*$"}`, `"tab\there"`, []string{"does not match pattern"}},
		{"pattern \\S", `{"pattern":"^\\S+$"}`, `"a b"`, []string{"does not match pattern"}},
		{"pattern not RE2", `{"pattern":"^(?=a)"}`, `"a"`, []string{`(root): invalid schema:`, `pattern "^(?=a)" cannot be compiled by Go's regexp (RE2)`, "; schema #/components/schemas/T"}},
	})
}

func TestTranslateECMARegexp(t *testing.T) {
	for in, want := range map[string]string{
		`^a$`:             `^a$`,
		`\u0041`:          `\x{0041}`,
		`[\u00e9-\u00ff]`: `[\x{00e9}-\x{00ff}]`,
		`\\u0041`:         `\\u0041`, // an escaped backslash followed by "u0041"
		`\u12`:            `\u12`,    // not an escape RE2 knows: left for the compiler to report
		`\d\S`:            `\d\S`,
	} {
		if got := translateECMARegexp(in); got != want {
			t.Errorf("translateECMARegexp(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSchemaCompiledOnce(t *testing.T) {
	s := inlineSpec(t, `{"T":{"type":"string","pattern":"^x+$"}}`)
	a, err := s.compile("#/components/schemas/T")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := s.compile("#/components/schemas/T")
	if a != b {
		t.Error("schema compiled twice")
	}
}

func TestNumbers(t *testing.T) {
	runKeywordCases(t, []keywordCase{
		{"minimum ok", `{"minimum":0}`, `0`, nil},
		{"minimum bad", `{"minimum":1}`, `0.5`, []string{`(root): minimum: got 0.5, want 1; schema #/components/schemas/T/minimum`}},
		{"maximum ok", `{"maximum":2147483647}`, `2147483647`, nil},
		{"maximum bad", `{"maximum":2147483647}`, `2147483648`, []string{"(root): maximum: got ", "; schema #/components/schemas/T/maximum"}},
		{"maximum exact beyond float64", `{"maximum":9007199254740992}`, `9007199254740993`, []string{"(root): maximum: got ", "; schema #/components/schemas/T/maximum"}},
		{"exclusiveMinimum", `{"exclusiveMinimum":0}`, `0`, []string{`(root): exclusiveMinimum: got 0, want 0; schema #/components/schemas/T/exclusiveMinimum`}},
		{"exclusiveMaximum", `{"exclusiveMaximum":1}`, `1.0`, []string{`(root): exclusiveMaximum: got 1, want 1; schema #/components/schemas/T/exclusiveMaximum`}},
		{"multipleOf exact decimal", `{"multipleOf":0.1}`, `0.3`, nil},
		{"multipleOf bad", `{"multipleOf":2}`, `3`, []string{`(root): multipleOf: got 3, want 2; schema #/components/schemas/T/multipleOf`}},
		{"bounds ignore non-numbers", `{"minimum":5}`, `"1"`, nil},
		{"huge exponent refused", `{"type":"number"}`, `1e999999`, []string{"exponent out of the range"}},
	})
}

func TestFormats(t *testing.T) {
	dt := `{"type":"string","format":"date-time"}`
	uri := `{"type":"string","format":"uri"}`
	runKeywordCases(t, []keywordCase{
		{"date-time millis Z", dt, `"2025-01-15T10:30:00.000Z"`, nil},
		{"date-time offset", dt, `"2025-01-15T10:30:00+05:30"`, nil},
		{"date-time lower case t z", dt, `"2025-01-15t10:30:00z"`, nil},
		{"date-time leap day", dt, `"2024-02-29T00:00:00Z"`, nil},
		{"date-time leap second", dt, `"2016-12-31T23:59:60Z"`, nil},
		{"date-time leap second offset", dt, `"2016-12-31T18:59:60-05:00"`, nil},
		{"date-time bad leap second", dt, `"2016-12-31T12:00:60Z"`, []string{`invalid leap second; schema #/components/schemas/T/format`}},
		{"date-time no offset", dt, `"2025-01-15T10:30:00"`, []string{`(root): '2025-01-15T10:30:00' is not valid date-time: less than 20 characters long; schema #/components/schemas/T/format`}},
		{"date-time space", dt, `"2025-01-15 10:30:00Z"`, []string{`is not valid date-time: 11th character must be t or T`}},
		{"date-time Feb 30", dt, `"2025-02-30T00:00:00Z"`, []string{`'2025-02-30T00:00:00Z' is not valid date-time`}},
		{"date-time not leap year", dt, `"2025-02-29T00:00:00Z"`, []string{`'2025-02-29T00:00:00Z' is not valid date-time`}},
		{"date-time hour 24", dt, `"2025-01-15T24:00:00Z"`, []string{`'2025-01-15T24:00:00Z' is not valid date-time`}},
		{"date-time date only", dt, `"2025-01-15"`, []string{`'2025-01-15' is not valid date-time`}},
		{"uri https", uri, `"https://tenant.example.com/me/v1/authentication-methods/passkey%7Cnew"`, nil},
		{"uri urn", uri, `"urn:example:a"`, nil},
		{"uri relative", uri, `"/me/v1/authentication-methods"`, []string{"not a valid absolute URI"}},
		{"uri raw pipe", uri, `"https://a.example/x|y"`, []string{"not a valid absolute URI"}},
		{"uri space", uri, `"https://a.example/x y"`, []string{"not a valid absolute URI"}},
		{"uri bad escape", uri, `"https://a.example/%zz"`, []string{"not a valid absolute URI"}},
		{"unknown format is an annotation", `{"format":"x-shoe-size"}`, `"not a size"`, nil},
		{"known formats are asserted", `{"format":"email"}`, `"not an email"`, []string{"is not valid email"}},
		{"format ignores non-strings", dt, `1`, []string{`(root): got number, want string; schema #/components/schemas/T/type`}},
	})
}

func TestApplicators(t *testing.T) {
	runKeywordCases(t, []keywordCase{
		{"allOf ok", `{"allOf":[{"required":["a"]},{"required":["b"]}]}`, `{"a":1,"b":2}`, nil},
		{"allOf bad", `{"allOf":[{"required":["a"]},{"required":["b"]}]}`, `{"a":1}`, []string{`(root): missing property 'b'; schema #/components/schemas/T/allOf/1/required`}},
		{"anyOf one", `{"anyOf":[{"type":"string"},{"type":"integer"}]}`, `1`, nil},
		{"anyOf both", `{"anyOf":[{"type":"number"},{"type":"integer"}]}`, `1`, nil},
		{"anyOf none", `{"anyOf":[{"type":"string"},{"required":["a","b"]}]}`, `{}`,
			[]string{`(root): 'anyOf' failed; schema #/components/schemas/T/anyOf`, `(root): got object, want string; schema #/components/schemas/T/anyOf/0/type`}},
		{"oneOf exactly one", `{"oneOf":[{"type":"string"},{"type":"integer"}]}`, `"s"`, nil},
		{"oneOf two", `{"oneOf":[{"type":"number"},{"type":"integer"}]}`, `1`,
			[]string{`(root): 'oneOf' failed, subschemas 0, 1 matched; schema #/components/schemas/T/oneOf`}},
		{"oneOf none", `{"oneOf":[{"type":"string"},{"type":"boolean"}]}`, `1`, []string{`(root): got number, want string; schema #/components/schemas/T/oneOf/0/type`}},
		{"not ok", `{"not":{"type":"string"}}`, `1`, nil},
		{"not bad", `{"not":{"type":"string"}}`, `"s"`, []string{`(root): 'not' failed; schema #/components/schemas/T`}},
		{"if then", `{"if":{"required":["a"]},"then":{"required":["b"]},"else":{"required":["c"]}}`, `{"a":1}`, []string{`(root): missing property 'b'; schema #/components/schemas/T/then/required`, "/then/required"}},
		{"if else", `{"if":{"required":["a"]},"then":{"required":["b"]},"else":{"required":["c"]}}`, `{}`, []string{`(root): missing property 'c'; schema #/components/schemas/T/else/required`, "/else/required"}},
	})
}

func TestRef(t *testing.T) {
	schemas := `{
		"a/b": {"type":"string"},
		"c~d": {"$ref":"#/components/schemas/a~1b"},
		"Obj": {"properties":{"x":{"$ref":"#/components/schemas/c~0d"}}},
		"Sib": {"$ref":"#/components/schemas/a~1b","maxLength":1},
		"Loop": {"$ref":"#/components/schemas/Loop"},
		"Tree": {"properties":{"kids":{"items":{"$ref":"#/components/schemas/Tree"}}},"required":["v"]},
		"Dangling": {"$ref":"#/components/schemas/Nope"},
		"Remote": {"$ref":"other.json#/X"}
	}`
	s := inlineSpec(t, schemas)
	for _, tc := range []struct {
		schema, instance string
		want             []string
	}{
		{"Obj", `{"x":"s"}`, nil},
		{"Obj", `{"x":1}`, []string{`/x: got number, want string; schema #/components/schemas/a~1b/type`}},
		{"Sib", `"ab"`, []string{`(root): maxLength: got 2, want 1; schema #/components/schemas/Sib/maxLength`}},
		{"Sib", `1`, []string{"want string"}},
		{"Loop", `1`, []string{`causing reference cycle; schema #/components/schemas/Loop`}},
		{"Tree", `{"v":1,"kids":[{"v":2,"kids":[{"v":3}]}]}`, nil},
		{"Tree", `{"v":1,"kids":[{"v":2,"kids":[{}]}]}`, []string{`/kids/0/kids/0: missing property 'v'; schema #/components/schemas/Tree/required`}},
		{"Dangling", `1`, []string{`(root): invalid schema: json-pointer in "#/components/schemas/Nope" not found; schema #/components/schemas/Dangling`}},
		{"Remote", `1`, []string{"is not a local reference"}},
	} {
		err := s.validateJSON("#/components/schemas/"+escapePointerToken(tc.schema), []byte(tc.instance))
		t.Run(tc.schema+" "+tc.instance, func(t *testing.T) { checkErr(t, err, tc.want) })
	}
}

// The discriminator is an annotation: it neither selects the branch nor excuses a
// second match. It only chooses which failing branch the error describes.
func TestDiscriminatorDoesNotChangeValidation(t *testing.T) {
	schemas := `{
		"A": {"properties":{"kind":{"const":"a"},"x":{"type":"string"}},"required":["kind","x"]},
		"B": {"required":["y","q","r"]},
		"U": {"oneOf":[{"$ref":"#/components/schemas/A"},{"$ref":"#/components/schemas/B"}],
		      "discriminator":{"propertyName":"kind","mapping":{"a":"#/components/schemas/A","b":"B"}}}
	}`
	s := inlineSpec(t, schemas)
	for _, tc := range []struct {
		name, instance string
		want           []string
	}{
		{"only B matches though kind says a", `{"kind":"a","y":1,"q":1,"r":1}`, nil},
		{"both match", `{"kind":"a","x":"s","y":1,"q":1,"r":1}`, []string{`(root): 'oneOf' failed, subschemas 0, 1 matched; schema #/components/schemas/U/oneOf`}},
		{"none: the discriminated branch is described", `{"kind":"a","x":1}`,
			[]string{`(root): 'oneOf' failed, none matched; schema #/components/schemas/U/oneOf`, `/x: got number, want string; schema #/components/schemas/A/properties/x/type`}},
		{"none: mapping to a bare name, though A fails less", `{"kind":"b","x":1}`, []string{`(root): missing properties 'y', 'q', 'r'; schema #/components/schemas/B/required`}},
	} {
		err := s.validateJSON("#/components/schemas/U", []byte(tc.instance))
		t.Run(tc.name, func(t *testing.T) { checkErr(t, err, tc.want) })
	}
}

func TestAnnotationsAndUnsupportedKeywords(t *testing.T) {
	runKeywordCases(t, []keywordCase{
		{"annotations ignored", `{"title":"t","description":"d","default":5,"example":1,"examples":[1],"deprecated":true,"readOnly":true,"x-internal":true,"x-type":"y","$comment":"c","discriminator":{"propertyName":"k"}}`, `"anything"`, nil},
		{"unevaluatedProperties evaluated", `{"properties":{"a":{}},"unevaluatedProperties":false}`, `{"a":1,"b":2}`, []string{`/b: false schema; schema #/components/schemas/T/unevaluatedProperties`}},
		{"unknown keyword reported", `{"type":"object","propertys":{}}`, `{}`, []string{`invalid schema: keywords this checker cannot evaluate: "propertys" at #/components/schemas/T`}},
		{"unknown keyword in a nested schema reported, even when unreached", `{"properties":{"a":{"anyOf":[{"type":"string","minimum_length":1}]}}}`, `{}`,
			[]string{`"minimum_length" at #/components/schemas/T/properties/a/anyOf/0`}},
		{"OpenAPI 3.0 nullable reported", `{"type":"string","nullable":true}`, `"s"`, []string{`(root): invalid schema: keywords this checker cannot evaluate: "nullable" at #/components/schemas/T; schema #/components/schemas/T`}},
		{"true schema", `true`, `{"a":1}`, nil},
		{"false schema", `false`, `1`, []string{`(root): false schema; schema #/components/schemas/T`}},
		{"bad keyword value", `{"minLength":"1"}`, `"x"`, []string{`(root): invalid schema: "#/components/schemas/T" is not valid against metaschema: jsonschema validation failed with 'https://json-schema.org/draft/2020-12/schema#'`}},
	})
}

func TestDecodeJSON(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     string
	}{
		{"ok", `{"a":[1,2.5,"x",true,null]}`, ""},
		{"empty", ``, "empty"},
		{"blank", " \n", "empty"},
		{"duplicate member", `{"a":{"b":1,"b":2}}`, "duplicate object member at /a/b"},
		{"trailing data", `{} {}`, "unexpected data after the JSON value"},
		{"trailing garbage", `{}x`, "after the JSON value"},
		{"truncated", `{"a":`, "invalid JSON"},
		{"syntax", `{"a" 1}`, "invalid JSON"},
		{"invalid UTF-8", "\"\xff\"", "not valid UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeJSON([]byte(tc.in))
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestNewSpecRejects(t *testing.T) {
	for name, doc := range map[string]string{
		"not JSON":     `{`,
		"not object":   `[]`,
		"OpenAPI 3.0":  `{"openapi":"3.0.3","paths":{}}`,
		"no paths":     `{"openapi":"3.1.0"}`,
		"bad template": `{"openapi":"3.1.0","paths":{"/a/{b":{}}}`,
		"relative":     `{"openapi":"3.1.0","paths":{"a":{}}}`,
	} {
		if _, err := newSpec([]byte(doc)); err == nil {
			t.Errorf("%s: newSpec accepted %s", name, doc)
		}
	}
}
