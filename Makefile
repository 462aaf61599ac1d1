# Every module of the repository (each directory with a go.mod).
MODULES := $(patsubst ./%,%,$(patsubst %/go.mod,%,$(shell find . -name go.mod -not -path './.git/*' | sort)))
GO_TEST_FLAGS ?= -race -count=1

.PHONY: test test-modules demo

# test starts a throwaway PostgreSQL and Redis when their binaries exist, then
# vets and tests every module against them.
test:
	@scripts/with-services.sh $(MAKE) --no-print-directory test-modules

test-modules:
	@set -e; for m in $(MODULES); do \
		echo "== $$m"; \
		(cd $$m && go vet ./... && go test $(GO_TEST_FLAGS) ./...); \
	done

demo:
	go run ./cmd/myaccount-demo
