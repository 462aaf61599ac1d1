package redislimit

// RedisLimit exposes the mapping of a myaccount.Limit onto redis_rate's to tests.
var RedisLimit = redisLimit
