package myaccount

// SetHashHook has p call f as each hash starts (true) and ends (false), so
// tests can count the hashes running at once. Set it before p is used.
func SetHashHook(p *Argon2Passwords, f func(start bool)) { p.onHash = f }

// HashTurns reports how many users hold or wait for a hashing turn of p.
func HashTurns(p *Argon2Passwords) int { return p.users.len() }
