module github.com/go-myaccount/myaccount/internal/oascheck/validator

go 1.26.0

toolchain go1.26.10

require github.com/santhosh-tekuri/jsonschema/v6 v6.0.3

require golang.org/x/text v0.42.0
