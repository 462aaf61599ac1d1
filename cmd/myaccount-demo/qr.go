package main

import (
	"bytes"
	"image/png"
	"io"
	"net/http"
	"strings"

	"github.com/pquerna/otp"
)

// maxOTPAuthURI bounds the body of POST /dev/qr; the API's barcode_uri is a
// few hundred bytes.
const maxOTPAuthURI = 2048

// qrSize is the width and height of the QR code image in pixels.
const qrSize = 240

// qrHandler serves POST /dev/qr: the body is an otpauth:// URI (the barcode_uri
// of a totp enrollment) and the answer is its QR code as a PNG, drawn with the
// encoder github.com/pquerna/otp uses. The URI holds the TOTP secret, so it
// comes in a body, not a URL, and is neither logged nor cached.
func qrHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxOTPAuthURI))
		if err != nil {
			http.Error(w, "the body must be an otpauth:// URI of at most 2048 bytes", http.StatusRequestEntityTooLarge)
			return
		}
		uri := string(body)
		if !strings.HasPrefix(uri, "otpauth://") {
			http.Error(w, "the body must be an otpauth:// URI", http.StatusBadRequest)
			return
		}
		key, err := otp.NewKeyFromURL(uri)
		if err != nil {
			http.Error(w, "the body must be an otpauth:// URI", http.StatusBadRequest)
			return
		}
		img, err := key.Image(qrSize, qrSize)
		if err != nil {
			http.Error(w, "the URI does not fit in a QR code", http.StatusBadRequest)
			return
		}
		var out bytes.Buffer
		if err := png.Encode(&out, img); err != nil {
			http.Error(w, "could not draw the QR code", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(out.Bytes())
	})
}
