package main

import "strconv"

// Documents reports whether the contract lists status (or a range or default
// covering it) for the operation that serves method and requestPath.
func (s *Spec) Documents(method, requestPath string, status int) bool {
	op, err := s.findOperation(method, requestPath)
	if err != nil {
		return false
	}
	responses, _ := op.obj["responses"].(map[string]any)
	code := strconv.Itoa(status)
	for _, k := range []string{code, code[:1] + "XX", code[:1] + "xx", "default"} {
		if _, ok := responses[k]; ok {
			return true
		}
	}
	return false
}

// ValidateSchema validates a JSON document against the schema at a local
// reference such as "#/components/schemas/ErrorResponse": for responses whose
// status the contract does not list for their operation.
func (s *Spec) ValidateSchema(schemaRef string, body []byte) error {
	return s.validateJSON(schemaRef, body)
}
