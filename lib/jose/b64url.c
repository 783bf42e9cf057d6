/* base64url without padding (RFC 7515 section 2), the encoding of every JOSE segment.
 * The work is OpenSSL's base64 (EVP_EncodeBlock, EVP_DecodeBlock); this file only swaps
 * the alphabet, drops or restores the padding, and is strict about what it accepts,
 * because a JWS or JWE that can be read leniently can be read two ways. */
#include "jose/jose.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

/* EVP_EncodeBlock takes an int: encode in pieces that are a multiple of 3 bytes. */
#define PIECE (3u << 20)

size_t
bb_b64url_encoded_len(size_t len)
{
	return len / 3 * 4 + (len % 3 == 0 ? 0 : len % 3 + 1);
}

static void
to_url_alphabet(char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '+')
			s[i] = '-';
		else if (s[i] == '/')
			s[i] = '_';
	}
}

size_t
bb_b64url_encode_to(char *out, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t whole = len - len % 3, done = 0, pos = 0;

	while (done < whole) {
		size_t n = whole - done > PIECE ? PIECE : whole - done;
		/* Writes 4/3 n characters and a NUL, which the next piece overwrites. */
		pos += (size_t)EVP_EncodeBlock((unsigned char *)out + pos, p + done, (int)n);
		done += n;
	}
	if (len % 3 != 0) {
		/* The last one or two bytes: encoded with padding aside, kept without it. */
		unsigned char last[5];
		size_t keep = len % 3 + 1;

		EVP_EncodeBlock(last, p + done, (int)(len % 3));
		memcpy(out + pos, last, keep);
		pos += keep;
	}
	out[pos] = '\0';
	to_url_alphabet(out, pos);
	return pos;
}

char *
bb_b64url_encode(const void *data, size_t len)
{
	char *out;

	if (len > (SIZE_MAX - 4) / 4 * 3 || (out = malloc(bb_b64url_encoded_len(len) + 1)) == NULL)
		return NULL;
	bb_b64url_encode_to(out, data, len);
	return out;
}

static int
url_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

unsigned char *
bb_b64url_decode(const char *s, size_t len, size_t *outlen)
{
	unsigned char *out;
	char *std;
	size_t i, padded, done = 0, pos = 0;
	int last = 0;

	/* One character left over encodes no whole byte: never the output of an encoder. */
	if (len % 4 == 1 || len > SIZE_MAX / 2)
		return NULL;
	for (i = 0; i < len; i++)
		if ((last = url_value(s[i])) < 0)
			return NULL;
	/* The bits after the last byte must be zero, so each byte string has one encoding
	 * (RFC 4648 section 3.5) and a changed character is never silently ignored. */
	if ((len % 4 == 2 && (last & 0x0f) != 0) || (len % 4 == 3 && (last & 0x03) != 0))
		return NULL;
	/* EVP_DecodeBlock wants the standard alphabet in whole quantums of four. */
	padded = (len + 3) / 4 * 4;
	if ((std = malloc(padded)) == NULL)
		return NULL;
	for (i = 0; i < len; i++)
		std[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
	for (; i < padded; i++)
		std[i] = '=';
	/* One spare byte for a NUL, so decoded JSON text can be handed on as is. */
	if ((out = malloc(padded / 4 * 3 + 1)) == NULL) {
		free(std);
		return NULL;
	}
	while (done < padded) {
		size_t n = padded - done > 4 * (PIECE / 3) ? 4 * (PIECE / 3) : padded - done;
		int got = EVP_DecodeBlock(out + pos, (const unsigned char *)std + done, (int)n);

		if (got < 0) {
			free(std);
			free(out);
			return NULL;
		}
		pos += (size_t)got;
		done += n;
	}
	free(std);
	/* EVP_DecodeBlock counts each '=' as a zero byte; the padding added was padded - len. */
	pos -= padded - len;
	out[pos] = '\0';
	*outlen = pos;
	return out;
}
