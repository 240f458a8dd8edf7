// The verifiable client from the operator's and the auditor's side (docs/security.md,
// "Verifying the client"):
//
//   conclave client-hash [config flags]   (or conclave --client-hash)
//       prints the client hash of the files this server would serve from its web root, computed
//       from the files themselves (client-manifest.json is not trusted).
//   conclave verify-client https://HOST[:PORT] --expect HASH [--expect-manifest FILE] [--ca FILE]
//       fetches client-manifest.json and every file it names from that server (HTTPS only, to
//       that host only), and checks that the manifest's files hash to HASH (the hash of a
//       published or locally rebuilt client), that every served file matches its entry, that "/"
//       serves the listed index.html and what /api/client-hash reports. With the expected
//       build's own client-manifest.json (--expect-manifest) it also names each file that differs
//       from that build. Exit 0: all match; 1: a mismatch or a failure (each named); 2: usage.
#pragma once

#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "http/client_manifest.h"

namespace conclave::app {

// One GET's outcome: `error` set when no HTTP answer came (connection, TLS, timeout, too large).
struct Fetched {
  unsigned status = 0;
  std::string body;
  std::string error;
};
// GETs a target ("/client-manifest.json") from the server under test.
using Fetcher = std::function<Fetched(const std::string& target)>;

// The checks of verify-client over `fetch`; prints one line per problem and a summary to `out`.
// `expectedFiles`, when known, are the expected build's files (their hash is `expectedHash`).
// Returns the exit status (0 all match, 1 otherwise).
int verifyClient(const Fetcher& fetch, const std::string& expectedHash,
                 const std::optional<std::vector<http::ClientFile>>& expectedFiles, std::FILE* out);

// `args` are the words after "verify-client".
int runVerifyClient(const std::vector<std::string>& args, std::FILE* out, std::FILE* err);

// Prints the client hash of `webRoot` to `out`; 1 with a message on `err` if it cannot be computed.
int printClientHash(const std::filesystem::path& webRoot, std::FILE* out, std::FILE* err);

std::string verifyClientHelpText();

}  // namespace conclave::app
