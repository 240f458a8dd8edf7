#include "sdp/sdp.h"

#include <charconv>

namespace conclave::sdp {
namespace {

// token-char per RFC 8866: %x21 / %x23-27 / %x2A-2B / %x2D-2E / %x30-39 / %x41-5A / %x5E-7E
bool isTokenChar(char c) {
  auto u = static_cast<unsigned char>(c);
  if (u < 0x21 || u > 0x7E) return false;
  return u != 0x22 && u != 0x28 && u != 0x29 && u != 0x2C && u != 0x2F && u != 0x3A && u != 0x3B && u != 0x3C &&
         u != 0x3D && u != 0x3E && u != 0x3F && u != 0x40 && u != 0x5B && u != 0x5C && u != 0x5D;
}

// Non-space visible characters (origin username, addresses, formats).
bool isVisible(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F) return false;
  }
  return true;
}

bool isDigits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text)
    if (c < '0' || c > '9') return false;
  return true;
}

// Where each line type may appear. Session: v o s i u e p c b (t r)+ z k a; media: m i c b k a.
// A line may follow lines of lower or equal rank; `repeatable` says whether equal is allowed.
struct Rank {
  int rank;
  bool repeatable;
};

std::optional<Rank> sessionRank(char type) {
  switch (type) {
    case 'v':
      return Rank{0, false};
    case 'o':
      return Rank{1, false};
    case 's':
      return Rank{2, false};
    case 'i':
      return Rank{3, false};
    case 'u':
      return Rank{4, false};
    case 'e':
      return Rank{5, true};
    case 'p':
      return Rank{6, true};
    case 'c':
      return Rank{7, false};
    case 'b':
      return Rank{8, true};
    case 't':
    case 'r':
      return Rank{9, true};  // r= lines belong to the t= line before them: one rank
    case 'z':
      return Rank{10, false};
    case 'k':
      return Rank{11, false};
    case 'a':
      return Rank{12, true};
    default:
      return std::nullopt;
  }
}

std::optional<Rank> mediaRank(char type) {
  switch (type) {
    case 'i':
      return Rank{1, false};
    case 'c':
      return Rank{2, true};
    case 'b':
      return Rank{3, true};
    case 'k':
      return Rank{4, false};
    case 'a':
      return Rank{5, true};
    default:
      return std::nullopt;
  }
}

class Parser {
 public:
  Parser(std::string_view text, const Limits& limits) : mText(text), mLimits(limits) {}

  Result<Description> run() {
    if (mText.size() > mLimits.maxBytes)
      return makeError("too-large", 0, "description exceeds " + std::to_string(mLimits.maxBytes) + " bytes");
    size_t pos = 0;
    while (pos < mText.size()) {
      size_t end = mText.find('\n', pos);
      size_t next = end == std::string_view::npos ? mText.size() : end + 1;
      std::string_view line = mText.substr(pos, (end == std::string_view::npos ? mText.size() : end) - pos);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      pos = next;
      ++mLine;
      if (mLine > mLimits.maxLines)
        return makeError("too-many-lines", mLine, "more than " + std::to_string(mLimits.maxLines) + " lines");
      if (auto error = parseLine(line)) return std::move(*error);
    }
    if (mLine == 0) return makeError("missing-version", 1, "empty description");
    return finish();
  }

 private:
  std::optional<Error> fail(std::string code, std::string message) const {
    return makeError(std::move(code), mLine, std::move(message));
  }

  std::optional<Error> parseLine(std::string_view line) {
    if (line.size() > mLimits.maxLineBytes)
      return fail("line-too-long", "line exceeds " + std::to_string(mLimits.maxLineBytes) + " bytes");
    for (char c : line) {
      auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7F) return fail("bad-character", "control character");
    }
    if (line.size() < 2 || line[1] != '=' || line[0] < 'a' || line[0] > 'z')
      return fail("bad-line", "expected <type>=<value>");
    char type = line[0];
    std::string_view value = line.substr(2);
    if (mLine == 1 && type != 'v') return fail("missing-version", "the first line must be v=");
    if (type == 'm') return parseMedia(value);
    return mDescription.media.empty() ? parseSessionLine(type, value) : parseMediaLine(type, value);
  }

  std::optional<Error> checkOrder(std::optional<Rank> rank, char type) {
    if (!rank) {
      if (std::string_view("vosiuepcbtrzk").find(type) != std::string_view::npos)
        return fail("bad-order", std::string(1, type) + "= line not allowed in a media section");
      return fail("unknown-line-type", std::string("unknown line type ") + type);
    }
    if (rank->rank < mRank) return fail("bad-order", std::string(1, type) + "= line out of order");
    if (rank->rank == mRank && !rank->repeatable && mSeenAtRank)
      return fail("duplicate-line", std::string(1, type) + "= line repeated");
    mSeenAtRank = true;
    mRank = rank->rank;
    return std::nullopt;
  }

  std::optional<Error> parseSessionLine(char type, std::string_view value) {
    if (type == 'r' && mLastType != 't' && mLastType != 'r') return fail("bad-order", "r= without t=");
    if (auto error = checkOrder(sessionRank(type), type)) return error;
    mLastType = type;
    Description& d = mDescription;
    switch (type) {
      case 'v':
        if (value != "0") return fail("bad-version", "only v=0 is defined");
        mHaveVersion = true;
        return std::nullopt;
      case 'o':
        return parseOrigin(value);
      case 's':
        if (value.empty()) return fail("bad-session-name", "s= must not be empty");
        d.sessionName = std::string(value);
        mHaveSessionName = true;
        return std::nullopt;
      case 'i':
        d.information = std::string(value);
        return std::nullopt;
      case 'u':
        d.uri = std::string(value);
        return std::nullopt;
      case 'e':
        d.emails.emplace_back(value);
        return std::nullopt;
      case 'p':
        d.phones.emplace_back(value);
        return std::nullopt;
      case 'c': {
        auto connection = parseConnection(value);
        if (!connection) return fail("bad-connection", "expected <nettype> <addrtype> <address>");
        d.connection = std::move(*connection);
        return std::nullopt;
      }
      case 'b':
        return parseBandwidth(value, d.bandwidths);
      case 't':
        return parseTiming(value);
      case 'r':
        if (value.empty()) return fail("bad-timing", "empty r= line");
        mTimings.back().repeats.emplace_back(value);
        return std::nullopt;
      case 'z':
        d.zone = std::string(value);
        return std::nullopt;
      case 'k':
        d.key = std::string(value);
        return std::nullopt;
      case 'a':
        return parseAttribute(value, d.attributes);
      default:
        return fail("unknown-line-type", "unknown line type");
    }
  }

  std::optional<Error> parseMediaLine(char type, std::string_view value) {
    if (auto error = checkOrder(mediaRank(type), type)) return error;
    MediaSection& m = mDescription.media.back();
    switch (type) {
      case 'i':
        m.title = std::string(value);
        return std::nullopt;
      case 'c': {
        auto connection = parseConnection(value);
        if (!connection) return fail("bad-connection", "expected <nettype> <addrtype> <address>");
        m.connections.push_back(std::move(*connection));
        return std::nullopt;
      }
      case 'b':
        return parseBandwidth(value, m.bandwidths);
      case 'k':
        m.key = std::string(value);
        return std::nullopt;
      case 'a':
        return parseAttribute(value, m.attributes);
      default:
        return fail("unknown-line-type", "unknown line type");
    }
  }

  std::optional<Error> parseOrigin(std::string_view value) {
    auto f = splitSpaces(value);
    if (f.size() != 6 || !isVisible(f[0]) || !isDigits(f[1]) || !isDigits(f[2]) || !isToken(f[3]) || !isToken(f[4]) ||
        !isVisible(f[5]))
      return fail("bad-origin", "expected <username> <sess-id> <sess-version> <nettype> <addrtype> <address>");
    mDescription.origin = Origin{std::string(f[0]), std::string(f[1]), std::string(f[2]),
                                 std::string(f[3]), std::string(f[4]), std::string(f[5])};
    mHaveOrigin = true;
    return std::nullopt;
  }

  static std::optional<Connection> parseConnection(std::string_view value) {
    auto f = splitSpaces(value);
    if (f.size() != 3 || !isToken(f[0]) || !isToken(f[1]) || !isVisible(f[2])) return std::nullopt;
    return Connection{std::string(f[0]), std::string(f[1]), std::string(f[2])};
  }

  std::optional<Error> parseBandwidth(std::string_view value, std::vector<Bandwidth>& out) {
    size_t colon = value.find(':');
    if (colon == std::string_view::npos || !isToken(value.substr(0, colon)))
      return fail("bad-bandwidth", "expected <bwtype>:<bandwidth>");
    auto amount = parseDecimal(value.substr(colon + 1), UINT64_MAX);
    if (!amount) return fail("bad-bandwidth", "bandwidth is not a number");
    out.push_back({std::string(value.substr(0, colon)), *amount});
    return std::nullopt;
  }

  std::optional<Error> parseTiming(std::string_view value) {
    auto f = splitSpaces(value);
    std::optional<uint64_t> start, stop;
    if (f.size() == 2) {
      start = parseDecimal(f[0], UINT64_MAX);
      stop = parseDecimal(f[1], UINT64_MAX);
    }
    if (!start || !stop) return fail("bad-timing", "expected <start-time> <stop-time>");
    mTimings.push_back(Timing{*start, *stop, {}});
    return std::nullopt;
  }

  std::optional<Error> parseAttribute(std::string_view value, std::vector<Attribute>& out) {
    size_t colon = value.find(':');
    std::string_view name = value.substr(0, colon);
    if (!isToken(name)) return fail("bad-attribute", "attribute name is not a token");
    Attribute attribute{std::string(name), {}, colon != std::string_view::npos, mLine};
    if (attribute.hasValue) attribute.value = std::string(value.substr(colon + 1));
    out.push_back(std::move(attribute));
    return std::nullopt;
  }

  std::optional<Error> checkSessionComplete() {
    if (!mHaveVersion) return fail("missing-version", "no v= line");
    if (!mHaveOrigin) return fail("missing-origin", "no o= line");
    if (!mHaveSessionName) return fail("missing-session-name", "no s= line");
    if (mTimings.empty()) return fail("missing-timing", "no t= line");
    return std::nullopt;
  }

  std::optional<Error> parseMedia(std::string_view value) {
    if (mDescription.media.empty())
      if (auto error = checkSessionComplete()) return error;
    if (mDescription.media.size() >= mLimits.maxMediaSections)
      return fail("too-many-media", "more than " + std::to_string(mLimits.maxMediaSections) + " media sections");
    auto f = splitSpaces(value);
    if (f.size() < 4 || !isToken(f[0])) return fail("bad-media", "expected <media> <port> <proto> <fmt> ...");
    MediaSection m;
    m.media = std::string(f[0]);
    std::string_view port = f[1];
    size_t slash = port.find('/');
    if (slash != std::string_view::npos) {
      auto count = parseDecimal(port.substr(slash + 1), UINT32_MAX);
      if (!count || *count == 0) return fail("bad-media", "bad port count");
      m.portCount = static_cast<uint32_t>(*count);
      port = port.substr(0, slash);
    }
    auto portNumber = parseDecimal(port, 65535);
    if (!portNumber) return fail("bad-media", "bad port");
    m.port = static_cast<uint16_t>(*portNumber);
    // proto = token *("/" token)
    size_t start = 0;
    do {
      size_t next = f[2].find('/', start);
      if (!isToken(f[2].substr(start, next - start))) return fail("bad-media", "bad protocol");
      start = next == std::string_view::npos ? next : next + 1;
    } while (start != std::string_view::npos);
    m.protocol = std::string(f[2]);
    for (size_t i = 3; i < f.size(); ++i) {
      if (!isVisible(f[i])) return fail("bad-media", "bad format");
      m.formats.emplace_back(f[i]);
    }
    m.line = mLine;
    mDescription.media.push_back(std::move(m));
    mRank = 0;
    mSeenAtRank = true;
    return std::nullopt;
  }

  Result<Description> finish() {
    if (mDescription.media.empty())
      if (auto error = checkSessionComplete()) return std::move(*error);
    mDescription.timings = std::move(mTimings);
    return std::move(mDescription);
  }

  std::string_view mText;
  const Limits& mLimits;
  Description mDescription;
  std::vector<Timing> mTimings;
  size_t mLine = 0;
  int mRank = -1;
  bool mSeenAtRank = false;
  char mLastType = 0;
  bool mHaveVersion = false;
  bool mHaveOrigin = false;
  bool mHaveSessionName = false;
};

void writeLine(std::string& out, char type, std::string_view value) {
  out += type;
  out += '=';
  out += value;
  out += "\r\n";
}

void writeConnection(std::string& out, const Connection& c) {
  writeLine(out, 'c', c.netType + ' ' + c.addrType + ' ' + c.address);
}

void writeBandwidths(std::string& out, const std::vector<Bandwidth>& bandwidths) {
  for (const auto& b : bandwidths) writeLine(out, 'b', b.type + ':' + std::to_string(b.value));
}

void writeAttributes(std::string& out, const std::vector<Attribute>& attributes) {
  for (const auto& a : attributes) writeLine(out, 'a', a.hasValue ? a.name + ':' + a.value : a.name);
}

void writeMedia(std::string& out, const MediaSection& m) {
  std::string line = m.media + ' ' + std::to_string(m.port);
  if (m.portCount) line += '/' + std::to_string(*m.portCount);
  line += ' ' + m.protocol;
  for (const auto& f : m.formats) line += ' ' + f;
  writeLine(out, 'm', line);
  if (m.title) writeLine(out, 'i', *m.title);
  for (const auto& c : m.connections) writeConnection(out, c);
  writeBandwidths(out, m.bandwidths);
  if (m.key) writeLine(out, 'k', *m.key);
  writeAttributes(out, m.attributes);
}

}  // namespace

bool isToken(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text)
    if (!isTokenChar(c)) return false;
  return true;
}

std::vector<std::string_view> splitSpaces(std::string_view text) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t space = text.find(' ', start);
    out.push_back(text.substr(start, space - start));
    if (space == std::string_view::npos) break;
    start = space + 1;
  }
  return out;
}

std::optional<uint64_t> parseDecimal(std::string_view text, uint64_t max) {
  if (!isDigits(text)) return std::nullopt;
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > max) return std::nullopt;
  return value;
}

const Attribute* findAttribute(const std::vector<Attribute>& attributes, std::string_view name) {
  for (const auto& a : attributes)
    if (a.name == name) return &a;
  return nullptr;
}

std::vector<const Attribute*> findAttributes(const std::vector<Attribute>& attributes, std::string_view name) {
  std::vector<const Attribute*> out;
  for (const auto& a : attributes)
    if (a.name == name) out.push_back(&a);
  return out;
}

Result<Description> parse(std::string_view text, const Limits& limits) { return Parser(text, limits).run(); }

std::string serialize(const Description& d) {
  std::string out;
  out.reserve(1024 + d.media.size() * 1024);
  writeLine(out, 'v', "0");
  const Origin& o = d.origin;
  writeLine(
      out, 'o',
      o.username + ' ' + o.sessionId + ' ' + o.sessionVersion + ' ' + o.netType + ' ' + o.addrType + ' ' + o.address);
  writeLine(out, 's', d.sessionName);
  if (d.information) writeLine(out, 'i', *d.information);
  if (d.uri) writeLine(out, 'u', *d.uri);
  for (const auto& e : d.emails) writeLine(out, 'e', e);
  for (const auto& p : d.phones) writeLine(out, 'p', p);
  if (d.connection) writeConnection(out, *d.connection);
  writeBandwidths(out, d.bandwidths);
  for (const auto& t : d.timings) {
    writeLine(out, 't', std::to_string(t.start) + ' ' + std::to_string(t.stop));
    for (const auto& r : t.repeats) writeLine(out, 'r', r);
  }
  if (d.zone) writeLine(out, 'z', *d.zone);
  if (d.key) writeLine(out, 'k', *d.key);
  writeAttributes(out, d.attributes);
  for (const auto& m : d.media) writeMedia(out, m);
  return out;
}

}  // namespace conclave::sdp
