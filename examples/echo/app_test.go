package echo_test

import (
	"testing"

	"github.com/go-myaccount/myaccount/examples/echo"
	"github.com/go-myaccount/myaccount/examples/internal/flowtest"
)

func TestApp(t *testing.T) { flowtest.Run(t, echo.NewApp) }
