/* base64, SHA-512, randomness and UUIDs on OpenSSL, so none of it is written by hand. */
#include "crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

char *
bb_base64_encode(const void *data, size_t len)
{
	char *out;
	size_t outlen = 4 * ((len + 2) / 3) + 1;

	if (len > (size_t)-1 / 2 || (out = malloc(outlen)) == NULL)
		return NULL;
	/* EVP_EncodeBlock takes an int length; encode in chunks that are multiples of 3. */
	size_t done = 0, pos = 0;
	while (done < len) {
		size_t chunk = len - done;
		if (chunk > 3 * (1u << 20))
			chunk = 3 * (1u << 20);
		pos += (size_t)EVP_EncodeBlock((unsigned char *)out + pos,
		    (const unsigned char *)data + done, (int)chunk);
		done += chunk;
	}
	out[pos] = '\0';
	return out;
}

unsigned char *
bb_base64_decode(const char *s, size_t slen, size_t *outlen)
{
	unsigned char *out;
	size_t pad = 0, i, done = 0, pos = 0;

	if (slen % 4 != 0)
		return NULL;
	for (i = 0; i < slen; i++) {
		char c = s[i];
		int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '+' || c == '/';
		if (c == '=' && i >= slen - 2 && (i == slen - 1 || s[slen - 1] == '='))
			continue;
		if (!ok)
			return NULL;
	}
	if (slen >= 1 && s[slen - 1] == '=')
		pad++;
	if (slen >= 2 && s[slen - 2] == '=')
		pad++;
	if ((out = malloc(slen / 4 * 3 + 1)) == NULL)
		return NULL;
	/* EVP_DecodeBlock counts padding as zero bytes; subtract it after. */
	while (done < slen) {
		size_t chunk = slen - done;
		int n;
		if (chunk > 4 * (1u << 20))
			chunk = 4 * (1u << 20);
		n = EVP_DecodeBlock(out + pos, (const unsigned char *)s + done, (int)chunk);
		if (n < 0) {
			free(out);
			return NULL;
		}
		pos += (size_t)n;
		done += chunk;
	}
	*outlen = pos - pad;
	return out;
}

int
bb_sha512_hex(const void *data, size_t len, char out[129])
{
	unsigned char md[64];
	unsigned int mdlen = 0, i;

	if (EVP_Digest(data, len, md, &mdlen, EVP_sha512(), NULL) != 1 || mdlen != 64)
		return -1;
	for (i = 0; i < 64; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

int
bb_random(void *buf, size_t len)
{
	return len > 0x7fffffff || RAND_bytes(buf, (int)len) != 1 ? -1 : 0;
}

int
bb_uuid_v4(char out[37])
{
	unsigned char b[16];

	if (bb_random(b, sizeof b) != 0)
		return -1;
	b[6] = (b[6] & 0x0f) | 0x40;	/* version 4 */
	b[8] = (b[8] & 0x3f) | 0x80;	/* variant 10 */
	snprintf(out, 37,
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
	    b[12], b[13], b[14], b[15]);
	return 0;
}
