/* Small wrappers over OpenSSL: base64, SHA-512, random bytes, UUID v4. */
#ifndef BB_CRYPTO_H
#define BB_CRYPTO_H

#include <stddef.h>

/* Standard base64 with padding, no line breaks; returns a malloc'd string or NULL. */
char *bb_base64_encode(const void *data, size_t len);
/* Strict decoding (standard alphabet, padding required, no whitespace). Returns a
 * malloc'd buffer and its length, or NULL when the input is not base64. */
unsigned char *bb_base64_decode(const char *s, size_t slen, size_t *outlen);

/* SHA-512 of data as 128 lower-case hex digits plus NUL (out must hold 129 bytes). */
int bb_sha512_hex(const void *data, size_t len, char out[129]);

/* Cryptographically strong random bytes; returns 0 or -1. */
int bb_random(void *buf, size_t len);
/* A random (version 4, RFC 9562) UUID in lower case (out holds 37 bytes). */
int bb_uuid_v4(char out[37]);

#endif
