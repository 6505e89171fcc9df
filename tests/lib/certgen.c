/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * certgen: see certgen.h.
 */
#include "config.h"

#include <stdio.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "certgen.h"

static int
write_pem(const char *path, X509 *x, EVP_PKEY *k)
{
	FILE *f;
	int ok;

	if ((f = fopen(path, "w")) == NULL)
		return -1;
	ok = x != NULL ? PEM_write_X509(f, x) :
	    PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	return fclose(f) == 0 && ok == 1 ? 0 : -1;
}

int
certgen_p256(const char *cn, const char *certpath, const char *keypath)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *n;
	int rc = -1;

	if (k == NULL || x == NULL)
		goto out;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, n);
	if (X509_sign(x, k, EVP_sha256()) > 0 &&
	    write_pem(certpath, x, NULL) == 0 &&
	    write_pem(keypath, NULL, k) == 0)
		rc = 0;
out:
	X509_free(x);
	EVP_PKEY_free(k);
	return rc;
}
