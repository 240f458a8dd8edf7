// GoogleTest base for suites that connect BrowserPeers (browser_peer.h) to the SFU side: the SFU's
// and the browser's DTLS contexts, made once per suite because key generation is slow. Used by
// tests/transport and tests/sfu.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "common/certificate.h"
#include "dtls/dtls_context.h"

namespace conclave::transport::test {

class DtlsContextsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    sServer = std::make_unique<dtls::DtlsContext>(common::Certificate::generateSelfSigned("sfu"));
    sBrowser = std::make_unique<dtls::DtlsContext>(common::Certificate::generateSelfSigned("browser"));
  }
  static void TearDownTestSuite() {
    sServer.reset();
    sBrowser.reset();
  }

  static inline std::unique_ptr<dtls::DtlsContext> sServer, sBrowser;
};

}  // namespace conclave::transport::test
