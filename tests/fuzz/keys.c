/* The fixed key of keys.h. */
#include "keys.h"

#include <stdlib.h>

#include <openssl/pem.h>

const char fuzz_key_pem[] =
"-----BEGIN PRIVATE KEY-----\n"
"MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDCp51B+muZhpPl\n"
"SMmjG717+ToZUP+7wb2p8TTXYVdzdilSMbz/wds0zMl/KEJ1f+Ze9Q+p+5LDVbYy\n"
"SITlkr7Wpnh27tfLGVgqwfg20Mw6+8ok4lBibfaEx8LA8gAOQq1GFxJFH//jXBYA\n"
"BVcMOcYebAyF5Rsmh1x+XGFp48CmuahbOFOWrUnsQZ7wVwdnLduJSGMHxU6i0b2G\n"
"ju68Iy7Or1LTZJBWdbUIvwSdkl6L5mlysDSzUUu7NCVnrICah6UeHdx+RlHWVtAt\n"
"18YsTLDeunbGsNfW0nz/kAZJaGjcgPHjJzIStKGnaRx6Yz+JvA7qzv1tw0IrIAe0\n"
"EaXpV3FJAgMBAAECggEAJmKu2nizWMxm5F9o8esRv/2bFSx5rdEsIXPhN3ro56o8\n"
"xkpsKqRUIbKjppluF6Uv7PhXDS6A19fSbNKLsIjybLpZxZxefhzim9Xx6H9e0t/d\n"
"0k21y99C7pbFA08Fr0o7SLfagLqpd7CsXvcungjTlqK4invuUXf+h6WYiSziTA42\n"
"guQJNg9I4QvcNNLansbvzBsIy0PGE9GaJXpKROuiGONqdO7ZiJr+5Om4PMZRzUKo\n"
"hRK04c4TCnZsBMci3/qgkn5eV5cGJpCwKYX5SHWkZCWFPbySPEN44KVO+6byWdWS\n"
"ed5zQBRsT4K79MWJlO+DsQ/cVSudSmk/jjTDRR/1/QKBgQD41k1iqLBG1Jn94xqm\n"
"oVqqta4gGdI6Ygt2feqJE/vrtkHCoUn5qIk6Mfi3+3d6llwsXbnPsSs6iSE+uFQO\n"
"ITAJOO7vp1SM9wL5vKDuy6siwNgX4VVR+76OnGSBp2zb5RNrwFdJN1fJ7HtP55GR\n"
"Q/lZkuYwDiycuSm/yh4MeSFy/QKBgQDIQgnTVDNCQ9kGx47rzlOeG/OUddRZb/Mo\n"
"xQ6OSjBS+fjf35hteoZr6kJK5mxkF/9meNtvo+931mfjyzzcXi9K73/va6Y/1PIy\n"
"dVn8RGP+SViJF8ORSd4akWEoLWk5qo67UWh7beH1OzZ3nB1Elbc0/2n17PuG2HII\n"
"/jvuOIynPQKBgQCIKwVn4rWr3PVzuI5B9vQdjJP/nwGqzzJEojzwzE3EPBUaQ5au\n"
"luqZPPVFAMft/k/sO1HN9L6aJqZZoxbkMIcP1ObzoBalmRo4vV83rZ41w1+9GaLN\n"
"3Tv24GAjjxID9wQ8p6FcQHu61LzaCfdfjdnqiXeLfoYtMSpGeH0fCD4kpQKBgQCR\n"
"H/qK4ew7y3uOBDS5As9qN4twPWvkXNL06sm/qFgY6frIEvwd6rtbnWrpaM+IQjPe\n"
"iRtNbppuWDz1wiWa9c6EGci3M2ZJwAK9Ono57T4h2/mDcGtT8Ro6Wrz0JuSo28eQ\n"
"TFDRkjI8S+sPB13WhEE+8RJTHKizckxB5Cx+WRDlaQKBgAymftuSmlIBT1OPhASA\n"
"KWk4fERNm6Dn3DN1BKQkctfWD3fTMa54cxXIvnFg9veBwRctvJzb9ZJzmeoe4zPE\n"
"THNF2RHdJQ3/jRDGseZ4NRfl3xxT081b7SArc+cjGKbYDkn1vx/D4cUMxEZbtbnS\n"
"sjRRG2W1ABZHbNxHCX1dJSIf\n"
"-----END PRIVATE KEY-----\n"
;
const char fuzz_cert_pem[] =
"-----BEGIN CERTIFICATE-----\n"
"MIIDETCCAfmgAwIBAgIUB2SPfx/sdm93mYD8XowD/ztHGtwwDQYJKoZIhvcNAQEL\n"
"BQAwFzEVMBMGA1UEAwwMYmItZnV6ei1yb290MCAXDTI2MTIwNzA3MTQ1MloYDzIx\n"
"MjYxMTEzMDcxNDUyWjAXMRUwEwYDVQQDDAxiYi1mdXp6LXJvb3QwggEiMA0GCSqG\n"
"SIb3DQEBAQUAA4IBDwAwggEKAoIBAQDCp51B+muZhpPlSMmjG717+ToZUP+7wb2p\n"
"8TTXYVdzdilSMbz/wds0zMl/KEJ1f+Ze9Q+p+5LDVbYySITlkr7Wpnh27tfLGVgq\n"
"wfg20Mw6+8ok4lBibfaEx8LA8gAOQq1GFxJFH//jXBYABVcMOcYebAyF5Rsmh1x+\n"
"XGFp48CmuahbOFOWrUnsQZ7wVwdnLduJSGMHxU6i0b2Gju68Iy7Or1LTZJBWdbUI\n"
"vwSdkl6L5mlysDSzUUu7NCVnrICah6UeHdx+RlHWVtAt18YsTLDeunbGsNfW0nz/\n"
"kAZJaGjcgPHjJzIStKGnaRx6Yz+JvA7qzv1tw0IrIAe0EaXpV3FJAgMBAAGjUzBR\n"
"MB0GA1UdDgQWBBRHWIXfrygMJfNgc8IdLakf3FR2pzAfBgNVHSMEGDAWgBRHWIXf\n"
"rygMJfNgc8IdLakf3FR2pzAPBgNVHRMBAf8EBTADAQH/MA0GCSqGSIb3DQEBCwUA\n"
"A4IBAQCSUphg9jiafk1eCYveSN+XyaeJPfYBr3CGjtOmLHGnBeZzKPZY1K3zCdhN\n"
"0cBSoNx2cELk3oig9FCtG5WcX4Y6+23kkRPdiyUWAxTb8B3lSvVv+9ao2jAblFiH\n"
"Dayn2icgYIa6i5YrW63BWmzMh9NgMpSRVsWoj8Dcl40HqmLSoQEGfvkkf+muR0hj\n"
"uZHxSJls33jsoFx3SAqrouLy82OK3IkzrPCEH1J3vzeQPmZKo17erqfRkfUHo8lo\n"
"eiUUE2K7vAR5QdlPjRbfnwHFeJOvqdpQC+ItxnYKTk7AHxt+3Tdku9fbfsYtxQlD\n"
"Bdy8PFYbZTR+M17FMkJlJGUEpsbB\n"
"-----END CERTIFICATE-----\n"
;

EVP_PKEY *
fuzz_key_private(void)
{
	static EVP_PKEY *k;
	BIO *b;

	if (k == NULL) {
		if ((b = BIO_new_mem_buf(fuzz_key_pem, -1)) == NULL ||
		    (k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)) == NULL)
			abort();
		BIO_free(b);
	}
	return k;
}

EVP_PKEY *
fuzz_key_public(void)
{
	static EVP_PKEY *k;
	BIO *b;

	if (k == NULL) {
		if ((b = BIO_new(BIO_s_mem())) == NULL ||
		    !PEM_write_bio_PUBKEY(b, fuzz_key_private()) ||
		    (k = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL)) == NULL)
			abort();
		BIO_free(b);
	}
	return k;
}
