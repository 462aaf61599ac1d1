// Package integration holds tests only: two instances of the My Account API over
// HTTP, sharing one PostgreSQL (pgstore) and one Redis (redislimit), under
// concurrency and while PostgreSQL goes away and comes back. Run them with
// scripts/with-services.sh, which starts both servers:
//
//	scripts/with-services.sh sh -c 'cd integration && go test -race ./...'
package integration
