package pgstore

// Advisory lock keys, for tests that hold a user's lock.
var UserLockKey = userLockKey

const LockClass = lockClass
