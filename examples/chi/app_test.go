package chi_test

import (
	"testing"

	"github.com/go-myaccount/myaccount/examples/chi"
	"github.com/go-myaccount/myaccount/examples/internal/flowtest"
)

func TestApp(t *testing.T) { flowtest.Run(t, chi.NewApp) }
