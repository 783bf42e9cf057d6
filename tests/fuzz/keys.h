/* The fixed RSA key (2048 bits) and a self-signed certificate of it, for the fuzz targets
 * that need a key: seeds made with them stay valid from run to run. Made for the fuzz
 * targets only (openssl genrsa 2048, openssl req -x509); they protect nothing. */
#ifndef BB_FUZZ_KEYS_H
#define BB_FUZZ_KEYS_H

#include <openssl/evp.h>

extern const char fuzz_key_pem[], fuzz_cert_pem[];
/* The key pair and its public half from fuzz_key_pem (aborts on failure). */
EVP_PKEY *fuzz_key_private(void);
EVP_PKEY *fuzz_key_public(void);

#endif
