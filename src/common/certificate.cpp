#include "common/certificate.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <stdexcept>

#include "common/random.h"

namespace conclave::common {
namespace {

[[noreturn]] void fail(const char* what) {
  char buf[256];
  ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
  ERR_clear_error();
  throw std::runtime_error(std::string(what) + ": " + buf);
}

using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;

std::string bioText(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

void addExtension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!ext) fail("certificate extension");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

}  // namespace

Certificate Certificate::generateSelfSigned(std::string_view commonName, std::chrono::hours validity) {
  std::shared_ptr<EVP_PKEY> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  if (!key) fail("generating an ECDSA P-256 key");

  std::shared_ptr<X509> cert(X509_new(), X509_free);
  if (!cert) fail("allocating a certificate");
  X509_set_version(cert.get(), 2);
  // A random positive 63-bit serial number.
  ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert.get()), randomU64() >> 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(validity.count()) * 3600);
  X509_set_pubkey(cert.get(), key.get());

  std::string cn(commonName);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);

  std::string san = "DNS:" + cn;
  if (cn == "localhost") san += ",IP:127.0.0.1,IP:::1";
  addExtension(cert.get(), NID_subject_alt_name, san.c_str());
  addExtension(cert.get(), NID_basic_constraints, "critical,CA:FALSE");
  addExtension(cert.get(), NID_ext_key_usage, "serverAuth,clientAuth");

  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) fail("signing the certificate");
  return Certificate(std::move(cert), std::move(key));
}

Certificate Certificate::fromPem(std::string_view certPem, std::string_view keyPem) {
  BioPtr certBio(BIO_new_mem_buf(certPem.data(), static_cast<int>(certPem.size())), BIO_free);
  std::shared_ptr<X509> cert(PEM_read_bio_X509(certBio.get(), nullptr, nullptr, nullptr), X509_free);
  if (!cert) fail("reading the certificate PEM");
  BioPtr keyBio(BIO_new_mem_buf(keyPem.data(), static_cast<int>(keyPem.size())), BIO_free);
  std::shared_ptr<EVP_PKEY> key(PEM_read_bio_PrivateKey(keyBio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  if (!key) fail("reading the private key PEM");
  if (X509_check_private_key(cert.get(), key.get()) != 1) fail("the key does not match the certificate");
  return Certificate(std::move(cert), std::move(key));
}

std::string Certificate::certPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_X509(bio.get(), mCert.get());
  return bioText(bio.get());
}

std::string Certificate::keyPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_PrivateKey(bio.get(), mKey.get(), nullptr, nullptr, 0, nullptr, nullptr);
  return bioText(bio.get());
}

std::array<uint8_t, 32> Certificate::sha256Fingerprint() const {
  std::array<uint8_t, 32> out{};
  unsigned int len = 0;
  X509_digest(mCert.get(), EVP_sha256(), out.data(), &len);
  return out;
}

std::string Certificate::sha256FingerprintText() const { return fingerprintText(sha256Fingerprint()); }

std::string fingerprintText(const std::array<uint8_t, 32>& digest) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(95);
  for (size_t i = 0; i < digest.size(); ++i) {
    if (i) out += ':';
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

}  // namespace conclave::common
