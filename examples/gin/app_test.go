package gin_test

import (
	"testing"

	"github.com/go-myaccount/myaccount/examples/gin"
	"github.com/go-myaccount/myaccount/examples/internal/flowtest"
)

func TestApp(t *testing.T) { flowtest.Run(t, gin.NewApp) }
