#include "common/certificate.h"

#include <gtest/gtest.h>

#include <openssl/x509v3.h>

using conclave::common::Certificate;

TEST(Certificate, GeneratesEcdsaP256SelfSigned) {
  auto cert = Certificate::generateSelfSigned("localhost");
  EXPECT_EQ(EVP_PKEY_get_base_id(cert.privateKey()), EVP_PKEY_EC);
  EXPECT_EQ(EVP_PKEY_get_bits(cert.privateKey()), 256);
  EXPECT_EQ(X509_verify(cert.x509(), cert.privateKey()), 1);
  EXPECT_EQ(X509_check_host(cert.x509(), "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.x509(), "127.0.0.1", 0), 1);
  auto text = cert.sha256FingerprintText();
  EXPECT_EQ(text.size(), 95u);
  EXPECT_EQ(text[2], ':');
}

TEST(Certificate, PemRoundTripKeepsFingerprint) {
  auto cert = Certificate::generateSelfSigned("conclave.example");
  auto again = Certificate::fromPem(cert.certPem(), cert.keyPem());
  EXPECT_EQ(again.sha256Fingerprint(), cert.sha256Fingerprint());
}

TEST(Certificate, MismatchedKeyIsRefused) {
  auto a = Certificate::generateSelfSigned("a");
  auto b = Certificate::generateSelfSigned("b");
  EXPECT_THROW(Certificate::fromPem(a.certPem(), b.keyPem()), std::runtime_error);
  EXPECT_THROW(Certificate::fromPem("not pem", a.keyPem()), std::runtime_error);
}

TEST(Certificate, TwoGenerationsDiffer) {
  EXPECT_NE(Certificate::generateSelfSigned("x").sha256Fingerprint(),
            Certificate::generateSelfSigned("x").sha256Fingerprint());
}
