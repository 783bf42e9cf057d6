/* jose-tool: lib/jose from the shell, so tests/0650-jose.t can hold it against an
 * independent JOSE implementation (python3-jwcrypto) in both directions.
 *   jose-tool encrypt [-t CTY] JWK_FILE < plain > jwe   RSA-OAEP-256 + A256GCM, kid from
 *                                                       the JWK
 *   jose-tool decrypt KEY_PEM < jwe > plain             with an RSA private key (PEM)
 *   jose-tool check-key JWK_FILE TRUST_PEM              the destination key rules, now;
 *                                                       exit status and reason as they are
 *   jose-tool verify-ps512 JWK_FILE < jws > payload     payload as compact JSON
 *   jose-tool tag < jwe                                 the authentication tag segment */
#include "diag.h"
#include "exit.h"
#include "files.h"
#include "jose/jose.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>

/* FIT-Connect's limit for one encrypted attachment, with room for the encoding. */
#define INPUT_LIMIT ((size_t)700 << 20)

static void __attribute__((noreturn))
usage(void)
{
	fputs("usage: jose-tool encrypt [-t CTY] JWK_FILE < plain > jwe\n"
	    "       jose-tool decrypt KEY_PEM < jwe > plain\n"
	    "       jose-tool check-key JWK_FILE TRUST_PEM\n"
	    "       jose-tool verify-ps512 JWK_FILE < jws > payload\n"
	    "       jose-tool tag < jwe\n", stderr);
	exit(BB_USAGE);
}

static json_t *
load_jwk(const char *path)
{
	json_error_t je;
	json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);

	if (j == NULL)
		bb_die(BB_DATAERR, "%s:%d: %s", path, je.line, je.text);
	return j;
}

static EVP_PKEY *
public_key(const char *path)
{
	struct bb_err e = { 0, "" };
	json_t *jwk = load_jwk(path);
	EVP_PKEY *k;

	if (bb_jwk_rsa_public(jwk, &k, &e) != 0)
		bb_die_err(&e);
	json_decref(jwk);
	return k;
}

/* Standard input whole; compact serializations lose a trailing newline. */
static char *
read_stdin(size_t *len, int trim)
{
	struct bb_err e = { 0, "" };
	char *buf;

	if (bb_read_fd(STDIN_FILENO, "<stdin>", INPUT_LIMIT, &buf, len, &e) != 0)
		bb_die_err(&e);
	while (trim && *len > 0 && (buf[*len - 1] == '\n' || buf[*len - 1] == '\r'))
		buf[--*len] = '\0';
	return buf;
}

static void
put(const void *buf, size_t len)
{
	struct bb_err e = { 0, "" };

	if (bb_write_stdout(buf, len, &e) != 0)
		bb_die_err(&e);
}

static int
cmd_encrypt(int argc, char **argv)
{
	struct bb_err e = { 0, "" };
	const char *cty = NULL, *kid;
	json_t *jwk;
	EVP_PKEY *k;
	char *plain, *jwe;
	size_t len;
	int c;

	while ((c = getopt(argc, argv, "t:")) != -1) {
		if (c != 't')
			usage();
		cty = optarg;
	}
	if (argc - optind != 1)
		usage();
	jwk = load_jwk(argv[optind]);
	if (bb_jwk_rsa_public(jwk, &k, &e) != 0)
		bb_die_err(&e);
	kid = json_string_value(json_object_get(jwk, "kid"));
	plain = read_stdin(&len, 0);
	jwe = bb_jwe_encrypt(k, kid, cty, plain, len, &e);
	/* Plaintext is what a kiosk must not leave behind, in memory either. */
	OPENSSL_cleanse(plain, len);
	free(plain);
	if (jwe == NULL)
		bb_die_err(&e);
	put(jwe, strlen(jwe));
	free(jwe);
	EVP_PKEY_free(k);
	json_decref(jwk);
	return 0;
}

static int
cmd_decrypt(int argc, char **argv)
{
	struct bb_err e = { 0, "" };
	unsigned char *plain;
	EVP_PKEY *k;
	size_t len;
	char *jwe;
	FILE *fp;

	if (argc != 2)
		usage();
	if ((fp = fopen(argv[1], "r")) == NULL)
		bb_die(BB_NOINPUT, "%s: cannot open", argv[1]);
	k = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	if (k == NULL)
		bb_die(BB_DATAERR, "%s: not a PEM private key", argv[1]);
	jwe = read_stdin(&len, 1);
	if (bb_jwe_decrypt(k, jwe, &plain, &len, &e) != 0)
		bb_die_err(&e);
	put(plain, len);
	OPENSSL_cleanse(plain, len);
	free(plain);
	free(jwe);
	EVP_PKEY_free(k);
	return 0;
}

static int
cmd_check_key(int argc, char **argv)
{
	struct bb_err e = { 0, "" };
	json_t *jwk;
	EVP_PKEY *k;
	int rc;

	if (argc != 3)
		usage();
	jwk = load_jwk(argv[1]);
	rc = bb_jwk_check_encryption_key(jwk, argv[2], time(NULL), &k, &e);
	json_decref(jwk);
	if (rc != 0)
		bb_die_err(&e);
	EVP_PKEY_free(k);
	return 0;
}

static int
cmd_verify(int argc, char **argv)
{
	struct bb_err e = { 0, "" };
	json_t *payload;
	EVP_PKEY *k;
	size_t len;
	char *jws, *s;

	if (argc != 2)
		usage();
	k = public_key(argv[1]);
	jws = read_stdin(&len, 1);
	if (bb_jws_verify_ps512(jws, k, &payload, &e) != 0)
		bb_die_err(&e);
	if ((s = json_dumps(payload, JSON_COMPACT)) == NULL)
		bb_die(BB_SOFTWARE, "out of memory");
	put(s, strlen(s));
	put("\n", 1);
	free(s);
	free(jws);
	json_decref(payload);
	EVP_PKEY_free(k);
	return 0;
}

static int
cmd_tag(int argc, char **argv)
{
	size_t len;
	char *jwe, *tag;

	(void)argv;
	if (argc != 1)
		usage();
	jwe = read_stdin(&len, 1);
	if ((tag = bb_jwe_tag(jwe)) == NULL)
		bb_die(BB_DATAERR, "not a compact JWE");
	put(tag, strlen(tag));
	put("\n", 1);
	free(tag);
	free(jwe);
	return 0;
}

int
main(int argc, char **argv)
{
	bb_init(argv[0]);
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "encrypt") == 0)
		return cmd_encrypt(argc - 1, argv + 1);
	if (strcmp(argv[1], "decrypt") == 0)
		return cmd_decrypt(argc - 1, argv + 1);
	if (strcmp(argv[1], "check-key") == 0)
		return cmd_check_key(argc - 1, argv + 1);
	if (strcmp(argv[1], "verify-ps512") == 0)
		return cmd_verify(argc - 1, argv + 1);
	if (strcmp(argv[1], "tag") == 0)
		return cmd_tag(argc - 1, argv + 1);
	usage();
}
