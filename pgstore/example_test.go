package pgstore_test

import (
	"context"
	"log"
	"net/http"
	"os"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/pgstore"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Keep methods in PostgreSQL, for an API served by more than one instance.
// Every instance needs the same SecretKeys.
func ExampleNew() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	store := pgstore.New(pool)
	if err := store.Migrate(ctx); err != nil { // safe when instances start together
		log.Fatal(err)
	}
	key := []byte(os.Getenv("MYACCOUNT_SECRET_KEY")) // 32 random bytes
	api, err := myaccount.New(myaccount.Config{Domain: "tenant.auth0.com", Store: store, SecretKeys: [][]byte{key}})
	if err != nil {
		log.Fatal(err)
	}
	defer api.Close()
	http.Handle("/me/", api)
	log.Fatal(http.ListenAndServe(":8080", nil))
}
