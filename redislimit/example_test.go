package redislimit_test

import (
	"log"
	"net/http"
	"os"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/redislimit"
	"github.com/redis/go-redis/v9"
)

// Share the rate-limit buckets and the DPoP replay cache of every instance
// of an API through Redis, so that a tenant's limits hold across all of them
// and a DPoP proof is accepted once on any of them.
func ExampleNew() {
	rdb := redis.NewClient(&redis.Options{Addr: os.Getenv("REDIS_ADDR")})
	defer rdb.Close()
	api, err := myaccount.New(myaccount.Config{
		Domain:     "tenant.auth0.com",
		RateLimits: myaccount.RateLimitConfig{Limiter: redislimit.New(rdb, redislimit.Options{})},
		Token: myaccount.TokenConfig{DPoP: myaccount.DPoPConfig{
			ReplayCache: redislimit.NewReplayCache(rdb, redislimit.ReplayOptions{}),
		}},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer api.Close()
	http.Handle("/me/", api)
	log.Fatal(http.ListenAndServe(":8080", nil))
}
