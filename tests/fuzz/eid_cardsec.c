/* Fuzz target: EF.CardAccess and EF.CardSecurity (lib/eid/eac.c, pace.c) as bb-eid takes
 * them from a card: the context from EF.CardAccess (as for PACE in the reader), then passive
 * authentication: the CMS signature, the document signer's chain to the CSCA, the security
 * object's content type, every SecurityInfo of EF.CardAccess among the signed ones, and the
 * chip's key for Chip Authentication.
 *
 * The CSCA below signed the seeds' EF.CardSecurity (erika's SecurityInfos with a chip key,
 * as tests/rig/make-eid-pki makes them); made for fuzzing only (openssl req -x509, valid
 * 100 years), its key is not kept. Input: EF.CardAccess's length (2 bytes), EF.CardAccess,
 * EF.CardSecurity. */
#include "fuzz.h"

#include "diag.h"
#include "eid/eac.h"
#include "eid/pace.h"
#include "exit.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char csca_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBozCCAUmgAwIBAgIBATAKBggqhkjOPQQDAjA2MQswCQYDVQQGEwJERTEQMA4G\n"
	"A1UECgwHYmIgZnV6ejEVMBMGA1UEAwwMYmIgZnV6eiBDU0NBMCAXDTI2MTIwNzEx\n"
	"NTA0MFoYDzIxMjYxMTEzMTE1MDQwWjA2MQswCQYDVQQGEwJERTEQMA4GA1UECgwH\n"
	"YmIgZnV6ejEVMBMGA1UEAwwMYmIgZnV6eiBDU0NBMFowFAYHKoZIzj0CAQYJKyQD\n"
	"AwIIAQEHA0IABBZX7EGYzjRt4tFZJ9qqsjGu/f8SJAiaoY1dHob4dtGbaZWFZAPq\n"
	"QXwkcOOP/5RSdw/hpAwZPid534umjjTJfJejRTBDMBIGA1UdEwEB/wQIMAYBAf8C\n"
	"AQAwDgYDVR0PAQH/BAQDAgEGMB0GA1UdDgQWBBQlPTdHy2fmhfTLDtnMfBPu/rDg\n"
	"hTAKBggqhkjOPQQDAgNIADBFAiEAoq/i1+e6N1ioJOkQvbuFyVN2aa1aEeiK8uJ/\n"
	"hwKtGS8CIAMGFpDKBaRXzrlfSwptUrPLuOatix3dCWfK8ZK/h59Q\n"
	"-----END CERTIFICATE-----\n"
;

static char csca_dir[4096];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char name[32], path[4096];
	X509 *x;
	BIO *b;

	(void)argc;
	(void)argv;
	/* An OpenSSL hashed directory, as bb-eid's csca_dir. */
	snprintf(csca_dir, sizeof csca_dir, "%s/csca", fuzz_dir());
	if (mkdir(csca_dir, 0700) != 0 ||
	    (b = BIO_new_mem_buf(csca_pem, (int)strlen(csca_pem))) == NULL ||
	    (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL)
		abort();
	snprintf(name, sizeof name, "csca/%08lx.0", X509_subject_name_hash(x));
	fuzz_file(name, csca_pem, strlen(csca_pem), path, sizeof path);
	X509_free(x);
	BIO_free(b);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bb_err e = { 0, "" };
	struct bb_pace *p = NULL;
	const uint8_t *ca, *cs;
	size_t calen, cslen;
	char signer[256];
	int rc;

	if (size < 2)
		return 0;
	calen = (size_t)data[0] << 8 | data[1];
	if (calen > size - 2)
		calen = size - 2;
	ca = data + 2;
	cs = ca + calen;
	cslen = size - 2 - calen;
	if ((rc = bb_pace_from_reader(ca, calen, (const unsigned char *)"\x04", 1,
	    "DECVCAeID00001", "", &p, &e)) == 0) {
		rc = bb_eac_passive_auth(p, cs, cslen, ca, calen, csca_dir, signer,
		    sizeof signer, &e);
		if (rc == 0 && (p->ca_pub == NULL || p->ca_pub_len == 0 || signer[0] == '\0'))
			__builtin_trap();	/* verified, so the chip's key and the signer */
		if (rc != 0 && rc != BB_NOPERM && rc != BB_PROTOCOL)
			__builtin_trap();
	}
	if (fuzz_verbose())
		fprintf(stderr, "eid_cardsec: %d %s\n", rc, rc ? e.msg : signer);
	bb_pace_free(p);
	return 0;
}
