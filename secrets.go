package myaccount

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
)

// keyIDSize is how many bytes of a key's SHA-256 name it in front of every
// ciphertext it sealed, so a ring can pick the key that opens it.
const keyIDSize = 4

// keyRing seals and opens secrets with AES-256-GCM. The first key seals; every
// key opens, so keys can be rotated by putting a new one first and keeping the
// old ones until what they sealed has expired or been sealed again.
type keyRing struct {
	keys []sealingKey
}

type sealingKey struct {
	id   [keyIDSize]byte
	aead cipher.AEAD
}

// errUnsealable means a ciphertext is malformed, was sealed by a key not in the
// ring, or was changed; the three are not told apart.
var errUnsealable = errors.New("myaccount: sealed value cannot be opened")

func newKeyRing(keys [][]byte) (*keyRing, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: SecretKeys is empty", ErrConfig)
	}
	ring := &keyRing{}
	for i, k := range keys {
		if len(k) != 32 {
			return nil, fmt.Errorf("%w: SecretKeys[%d] is %d bytes; AES-256 needs 32", ErrConfig, i, len(k))
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, fmt.Errorf("%w: SecretKeys[%d]: %v", ErrConfig, i, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("%w: SecretKeys[%d]: %v", ErrConfig, i, err)
		}
		sum := sha256.Sum256(k)
		sk := sealingKey{aead: aead}
		copy(sk.id[:], sum[:])
		for _, prev := range ring.keys {
			if prev.id == sk.id {
				return nil, fmt.Errorf("%w: SecretKeys[%d] repeats an earlier key", ErrConfig, i)
			}
		}
		ring.keys = append(ring.keys, sk)
	}
	return ring, nil
}

// seal appends to dst the key id, a random nonce and the ciphertext of plain,
// authenticated together with context: opening with another context fails.
func (kr *keyRing) seal(dst, plain, context []byte) []byte {
	k := &kr.keys[0]
	dst = append(dst, k.id[:]...)
	nonceAt := len(dst)
	dst = append(dst, make([]byte, k.aead.NonceSize())...)
	_, _ = rand.Read(dst[nonceAt:])
	return k.aead.Seal(dst, dst[nonceAt:], plain, context)
}

// open reverses seal with any key of the ring.
func (kr *keyRing) open(sealed, context []byte) ([]byte, error) {
	if len(sealed) < keyIDSize {
		return nil, errUnsealable
	}
	for i := range kr.keys {
		k := &kr.keys[i]
		if subtle.ConstantTimeCompare(k.id[:], sealed[:keyIDSize]) != 1 {
			continue
		}
		rest := sealed[keyIDSize:]
		if len(rest) < k.aead.NonceSize()+k.aead.Overhead() {
			return nil, errUnsealable
		}
		nonce, ciphertext := rest[:k.aead.NonceSize()], rest[k.aead.NonceSize():]
		plain, err := k.aead.Open(nil, nonce, ciphertext, context)
		if err != nil {
			return nil, errUnsealable
		}
		return plain, nil
	}
	return nil, errUnsealable
}

// hmacSum is HMAC-SHA-256 of parts under key.
func hmacSum(key []byte, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// hashSecret is the stored form of a high-entropy secret the user holds (a
// recovery code): its SHA-256. The secret's own entropy (120 bits) makes a
// salt or a slow hash unnecessary.
func hashSecret(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// equalSecret compares two secrets or hashes in constant time.
func equalSecret(a, b []byte) bool {
	return subtle.ConstantTimeCompare(a, b) == 1
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return b
}

const alphanumerics = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomAlphanumeric draws n letters and digits uniformly.
func randomAlphanumeric(n int) string { return randomString(alphanumerics, n) }
