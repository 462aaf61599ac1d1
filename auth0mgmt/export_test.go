package auth0mgmt

// SetPageSize sets how many grants s asks for per page, so that tests page
// through a few grants.
func SetPageSize(s *Source, n int) { s.pageSize = n }
