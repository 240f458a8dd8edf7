#include "sdp/session_description.h"

#include <algorithm>
#include <array>
#include <set>

namespace conclave::sdp {
namespace {

// RFC 8839 §5.4 (ice-ufrag, ice-pwd) and §5.1 (foundation: 1..32 ice-chars). These are the only
// checks of a peer's ICE credentials: the ice layer takes them as this parser accepted them.
constexpr size_t kMinUfragLength = 4;
constexpr size_t kMaxUfragLength = 256;
constexpr size_t kMinPwdLength = 22;  // 128 bits of ice-chars, RFC 8445 §5.3
constexpr size_t kMaxPwdLength = 256;
constexpr size_t kMaxFoundationLength = 32;

bool isIceChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

bool isIceString(std::string_view text, size_t minLength, size_t maxLength) {
  if (text.size() < minLength || text.size() > maxLength) return false;
  return std::all_of(text.begin(), text.end(), isIceChar);
}

bool isRidChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// Addresses in candidates: IPv4/IPv6 literals or (mDNS) host names.
bool isAddress(std::string_view text) {
  if (text.empty() || text.size() > 255) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == ':' ||
           c == '-' || c == '%';
  });
}

bool isVisibleText(std::string_view text) {
  if (text.empty()) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u != 0x7F;
  });
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Splits on `separator`, keeping empty pieces.
std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t at = text.find(separator, start);
    out.push_back(text.substr(start, at - start));
    if (at == std::string_view::npos) break;
    start = at + 1;
  }
  return out;
}

// "<first> <rest>" at the first space; rest empty if there is none.
std::pair<std::string_view, std::string_view> splitFirst(std::string_view text) {
  size_t space = text.find(' ');
  if (space == std::string_view::npos) return {text, {}};
  return {text.substr(0, space), text.substr(space + 1)};
}

std::optional<uint8_t> parsePayloadType(std::string_view text) {
  auto value = parseDecimal(text, 127);
  if (!value) return std::nullopt;
  return static_cast<uint8_t>(*value);
}

std::optional<Direction> parseDirection(std::string_view text) {
  if (text == "sendrecv") return Direction::SendRecv;
  if (text == "sendonly") return Direction::SendOnly;
  if (text == "recvonly") return Direction::RecvOnly;
  if (text == "inactive") return Direction::Inactive;
  return std::nullopt;
}

size_t digestLength(std::string_view algorithm) {
  if (algorithm == "sha-1") return 20;
  if (algorithm == "sha-224") return 28;
  if (algorithm == "sha-256") return 32;
  if (algorithm == "sha-384") return 48;
  if (algorithm == "sha-512") return 64;
  return 0;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::vector<FmtpParameter> parseParameterList(std::string_view text) {
  std::vector<FmtpParameter> out;
  for (std::string_view piece : split(text, ';')) {
    piece = trim(piece);
    if (piece.empty()) continue;
    size_t eq = piece.find('=');
    if (eq == std::string_view::npos) out.push_back({{}, std::string(piece)});
    else out.push_back({std::string(trim(piece.substr(0, eq))), std::string(trim(piece.substr(eq + 1)))});
  }
  return out;
}

// Static RTP payload types (RFC 3551) that need no rtpmap.
std::optional<Codec> staticCodec(uint8_t pt) {
  struct Entry {
    uint8_t pt;
    const char* name;
    uint32_t clockRate;
  };
  static constexpr std::array<Entry, 7> kStatic{{{0, "PCMU", 8000},
                                                 {3, "GSM", 8000},
                                                 {4, "G723", 8000},
                                                 {8, "PCMA", 8000},
                                                 {9, "G722", 8000},
                                                 {13, "CN", 8000},
                                                 {18, "G729", 8000}}};
  for (const auto& e : kStatic)
    if (e.pt == pt) return Codec{pt, e.name, e.clockRate, 1, {}, {}};
  return std::nullopt;
}

// Attributes that may appear at session level and are inherited by media sections.
struct Shared {
  IceParameters ice;
  bool haveUfrag = false;
  bool havePwd = false;
  bool haveOptions = false;
  std::vector<Fingerprint> fingerprints;
  std::optional<SetupRole> setup;
  std::optional<Direction> direction;
  bool extmapAllowMixed = false;
  std::vector<HeaderExtension> extensions;
};

struct MediaState {
  MediaDescription* media = nullptr;
  Shared shared;
  bool rtp = false;
  bool haveMid = false;
  std::vector<bool> haveRtpmap;  // parallel to media->codecs
  std::vector<bool> haveFmtp;
  std::vector<RtcpFeedback> wildcardFeedback;
  std::vector<std::pair<SsrcGroup, size_t>> groupLines;
};

class Interpreter {
 public:
  explicit Interpreter(const Description& description) : mIn(description) {}

  Result<SessionDescription> run() {
    mOut.origin = mIn.origin;
    for (const Attribute& a : mIn.attributes)
      if (auto error = sessionAttribute(a)) return std::move(*error);
    mOut.iceLite = mIceLite;
    mOut.extmapAllowMixed = mSession.extmapAllowMixed;
    for (const MediaSection& section : mIn.media)
      if (auto error = mediaSection(section)) return std::move(*error);
    if (auto error = checkMids()) return std::move(*error);
    if (auto error = checkGroups()) return std::move(*error);
    if (auto error = checkBundledExtensions()) return std::move(*error);
    return std::move(mOut);
  }

 private:
  using Handler = std::optional<Error> (Interpreter::*)(const Attribute&, MediaState&);
  struct Entry {
    std::string_view name;
    Handler handler;
    bool sessionLevel;  // also allowed at session level (into MediaState::shared)
  };

  static const std::array<Entry, 28>& table() {
    static const std::array<Entry, 28> kTable{{
        {"mid", &Interpreter::onMid, false},
        {"sendrecv", &Interpreter::onDirection, true},
        {"sendonly", &Interpreter::onDirection, true},
        {"recvonly", &Interpreter::onDirection, true},
        {"inactive", &Interpreter::onDirection, true},
        {"rtpmap", &Interpreter::onRtpmap, false},
        {"fmtp", &Interpreter::onFmtp, false},
        {"rtcp-fb", &Interpreter::onRtcpFb, false},
        {"extmap", &Interpreter::onExtmap, true},
        {"extmap-allow-mixed", &Interpreter::onExtmapAllowMixed, true},
        {"ssrc", &Interpreter::onSsrc, false},
        {"ssrc-group", &Interpreter::onSsrcGroup, false},
        {"msid", &Interpreter::onMsid, false},
        {"rid", &Interpreter::onRid, false},
        {"simulcast", &Interpreter::onSimulcast, false},
        {"ice-ufrag", &Interpreter::onIceUfrag, true},
        {"ice-pwd", &Interpreter::onIcePwd, true},
        {"ice-options", &Interpreter::onIceOptions, true},
        {"fingerprint", &Interpreter::onFingerprint, true},
        {"setup", &Interpreter::onSetup, true},
        {"candidate", &Interpreter::onCandidate, false},
        {"end-of-candidates", &Interpreter::onFlag, true},
        {"rtcp-mux", &Interpreter::onFlag, false},
        {"rtcp-mux-only", &Interpreter::onFlag, false},
        {"rtcp-rsize", &Interpreter::onFlag, false},
        {"bundle-only", &Interpreter::onFlag, false},
        {"sctp-port", &Interpreter::onSctp, false},
        {"max-message-size", &Interpreter::onSctp, false},
    }};
    return kTable;
  }

  static const Entry* lookup(std::string_view name) {
    for (const Entry& e : table())
      if (e.name == name) return &e;
    return nullptr;
  }

  // ---- session level ----------------------------------------------------------------------

  std::optional<Error> sessionAttribute(const Attribute& a) {
    if (a.name == "group") return onGroup(a);
    if (a.name == "ice-lite") {
      mIceLite = true;
      return std::nullopt;
    }
    const Entry* entry = lookup(a.name);
    if (!entry || !entry->sessionLevel) return std::nullopt;  // not ours, or media-only
    MediaState state;
    state.shared = std::move(mSession);
    auto error = (this->*entry->handler)(a, state);
    mSession = std::move(state.shared);
    if (a.name == "end-of-candidates") mSessionEndOfCandidates = true;
    return error;
  }

  std::optional<Error> onGroup(const Attribute& a) {
    auto fields = splitSpaces(a.value);
    if (!a.hasValue || !isToken(fields[0])) return makeError("bad-group", a.line, "bad a=group");
    Group group{std::string(fields[0]), {}};
    for (size_t i = 1; i < fields.size(); ++i) {
      if (!isToken(fields[i])) return makeError("bad-group", a.line, "bad mid in a=group");
      group.mids.emplace_back(fields[i]);
    }
    mGroupLines.push_back(a.line);
    mOut.groups.push_back(std::move(group));
    return std::nullopt;
  }

  // ---- media sections ---------------------------------------------------------------------

  std::optional<Error> mediaSection(const MediaSection& section) {
    MediaDescription& m = mOut.media.emplace_back();
    m.media = section.media;
    m.kind = section.media == "audio"         ? MediaKind::Audio
             : section.media == "video"       ? MediaKind::Video
             : section.media == "application" ? MediaKind::Application
                                              : MediaKind::Other;
    m.port = section.port;
    m.protocol = section.protocol;
    m.formats = section.formats;
    m.line = section.line;
    MediaState state;
    state.media = &m;
    state.rtp = section.protocol.find("RTP/") != std::string::npos;
    if (state.rtp)
      if (auto error = createCodecs(section, state)) return error;
    for (const Attribute& a : section.attributes) {
      const Entry* entry = lookup(a.name);
      if (!entry) continue;
      if (auto error = (this->*entry->handler)(a, state)) return error;
    }
    return finishMedia(state);
  }

  std::optional<Error> createCodecs(const MediaSection& section, MediaState& state) {
    std::set<uint8_t> seen;
    for (const std::string& format : section.formats) {
      auto pt = parsePayloadType(format);
      if (!pt || !seen.insert(*pt).second)
        return makeError("bad-media", section.line, "RTP formats must be distinct payload types 0..127");
      Codec codec = staticCodec(*pt).value_or(Codec{*pt, {}, 0, 1, {}, {}});
      state.media->codecs.push_back(std::move(codec));
    }
    state.haveRtpmap.assign(state.media->codecs.size(), false);
    state.haveFmtp.assign(state.media->codecs.size(), false);
    return std::nullopt;
  }

  static Codec* findCodec(MediaState& state, uint8_t pt, size_t* index = nullptr) {
    auto& codecs = state.media->codecs;
    for (size_t i = 0; i < codecs.size(); ++i)
      if (codecs[i].payloadType == pt) {
        if (index) *index = i;
        return &codecs[i];
      }
    return nullptr;
  }

  // An rtpmap, fmtp or rtcp-fb line for a payload type (0..127) the m= line does not list
  // describes nothing this section offers. Firefox writes them after setCodecPreferences()
  // (rtcp-fb of the codecs it dropped); they are counted and skipped, not refused. The line
  // count stays bounded by Limits, so skipping costs nothing the parser had not already paid.
  static std::optional<Error> ignore(MediaState& state) {
    ++state.media->ignoredAttributes;
    return std::nullopt;
  }

  std::optional<Error> onMid(const Attribute& a, MediaState& state) {
    if (state.haveMid) return makeError("duplicate-mid", a.line, "a=mid repeated in one section");
    if (!a.hasValue || a.value.size() > 16 || !isToken(a.value))
      return makeError("bad-mid", a.line, "a mid is a token of 1..16 characters");
    state.media->mid = a.value;
    state.haveMid = true;
    return std::nullopt;
  }

  std::optional<Error> onDirection(const Attribute& a, MediaState& state) {
    if (a.hasValue || state.shared.direction)
      return makeError("bad-direction", a.line, "one direction attribute without value");
    state.shared.direction = parseDirection(a.name);
    return std::nullopt;
  }

  std::optional<Error> onFlag(const Attribute& a, MediaState& state) {
    if (a.hasValue) return makeError("bad-attribute", a.line, "a=" + a.name + " takes no value");
    if (!state.media) return std::nullopt;
    MediaDescription& m = *state.media;
    if (a.name == "end-of-candidates") m.endOfCandidates = true;
    else if (a.name == "rtcp-mux") m.rtcpMux = true;
    else if (a.name == "rtcp-mux-only") m.rtcpMuxOnly = true;
    else if (a.name == "rtcp-rsize") m.rtcpRsize = true;
    else if (a.name == "bundle-only") m.bundleOnly = true;
    return std::nullopt;
  }

  std::optional<Error> onRtpmap(const Attribute& a, MediaState& state) {
    auto [ptText, rest] = splitFirst(a.value);
    auto pt = parsePayloadType(ptText);
    size_t index = 0;
    if (!pt || !state.rtp) return makeError("bad-rtpmap", a.line, "expected <pt> <name>/<clock rate>[/<channels>]");
    Codec* codec = findCodec(state, *pt, &index);
    if (!codec) return ignore(state);
    if (state.haveRtpmap[index]) return makeError("bad-rtpmap", a.line, "rtpmap repeated");
    auto parts = split(rest, '/');
    if (parts.size() < 2 || parts.size() > 3 || !isToken(parts[0]))
      return makeError("bad-rtpmap", a.line, "expected <pt> <name>/<clock rate>[/<channels>]");
    auto clockRate = parseDecimal(parts[1], UINT32_MAX);
    std::optional<uint64_t> channels = uint64_t{1};
    if (parts.size() == 3) channels = parseDecimal(parts[2], 255);
    if (!clockRate || *clockRate == 0 || !channels || *channels == 0)
      return makeError("bad-rtpmap", a.line, "bad clock rate or channel count");
    codec->name = std::string(parts[0]);
    codec->clockRate = static_cast<uint32_t>(*clockRate);
    codec->channels = static_cast<uint8_t>(*channels);
    state.haveRtpmap[index] = true;
    return std::nullopt;
  }

  std::optional<Error> onFmtp(const Attribute& a, MediaState& state) {
    auto [ptText, rest] = splitFirst(a.value);
    auto pt = parsePayloadType(ptText);
    size_t index = 0;
    if (!pt || !state.rtp) return makeError("bad-fmtp", a.line, "expected <pt> <parameters>");
    Codec* codec = findCodec(state, *pt, &index);
    if (!codec) return ignore(state);
    if (state.haveFmtp[index]) return makeError("bad-fmtp", a.line, "fmtp repeated");
    codec->parameters = parseParameterList(rest);
    state.haveFmtp[index] = true;
    return std::nullopt;
  }

  std::optional<Error> onRtcpFb(const Attribute& a, MediaState& state) {
    auto [ptText, rest] = splitFirst(a.value);
    auto [type, parameter] = splitFirst(rest);
    if (!state.rtp || !isToken(type)) return makeError("bad-rtcp-fb", a.line, "expected <pt> <type> [<param>]");
    RtcpFeedback feedback{std::string(type), std::string(parameter)};
    if (ptText == "*") {
      state.wildcardFeedback.push_back(std::move(feedback));
      return std::nullopt;
    }
    auto pt = parsePayloadType(ptText);
    if (!pt) return makeError("bad-rtcp-fb", a.line, "expected <pt> <type> [<param>]");
    Codec* codec = findCodec(state, *pt);
    if (!codec) return ignore(state);
    codec->feedback.push_back(std::move(feedback));
    return std::nullopt;
  }

  std::optional<Error> onExtmap(const Attribute& a, MediaState& state) {
    auto fields = splitSpaces(a.value);
    if (fields.size() < 2) return makeError("bad-extmap", a.line, "expected <id>[/<direction>] <uri>");
    HeaderExtension ext;
    std::string_view idText = fields[0];
    size_t slash = idText.find('/');
    if (slash != std::string_view::npos) {
      ext.direction = parseDirection(idText.substr(slash + 1));
      if (!ext.direction) return makeError("bad-extmap", a.line, "bad extmap direction");
      idText = idText.substr(0, slash);
    }
    auto id = parseDecimal(idText, 255);
    if (!id || *id == 0 || fields[1].empty())
      return makeError("bad-extmap", a.line, "extmap id must be 1..255, then a URI");
    ext.id = static_cast<uint16_t>(*id);
    ext.uri = std::string(fields[1]);
    size_t uriEnd = static_cast<size_t>(fields[1].data() - a.value.data()) + fields[1].size();
    if (uriEnd < a.value.size()) ext.attributes = a.value.substr(uriEnd + 1);
    for (const auto& other : state.shared.extensions)
      if (other.id == ext.id) return makeError("duplicate-extmap-id", a.line, "extmap id used twice");
    state.shared.extensions.push_back(std::move(ext));
    return std::nullopt;
  }

  std::optional<Error> onExtmapAllowMixed(const Attribute& a, MediaState& state) {
    if (a.hasValue) return makeError("bad-attribute", a.line, "a=extmap-allow-mixed takes no value");
    state.shared.extmapAllowMixed = true;
    return std::nullopt;
  }

  std::optional<Error> onSsrc(const Attribute& a, MediaState& state) {
    auto [ssrcText, rest] = splitFirst(a.value);
    auto ssrc = parseDecimal(ssrcText, UINT32_MAX);
    size_t colon = rest.find(':');
    std::string_view name = rest.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
    if (!ssrc || !isToken(name)) return makeError("bad-ssrc", a.line, "expected <ssrc> <attribute>[:<value>]");
    auto& list = state.media->ssrcs;
    auto it = std::find_if(list.begin(), list.end(), [&](const SsrcInfo& s) { return s.ssrc == *ssrc; });
    if (it == list.end()) it = list.insert(list.end(), SsrcInfo{static_cast<uint32_t>(*ssrc), {}, {}});
    if (name == "cname") {
      if (value.empty() || !it->cname.empty()) return makeError("bad-ssrc", a.line, "bad or repeated cname");
      it->cname = std::string(value);
    } else if (name == "msid") {
      auto msid = parseMsid(value);
      if (!msid) return makeError("bad-ssrc", a.line, "bad ssrc msid");
      it->msid = std::move(*msid);
    }
    return std::nullopt;
  }

  std::optional<Error> onSsrcGroup(const Attribute& a, MediaState& state) {
    auto fields = splitSpaces(a.value);
    if (!isToken(fields[0]) || fields.size() < 2)
      return makeError("bad-ssrc-group", a.line, "expected <semantics> <ssrc>...");
    SsrcGroup group{std::string(fields[0]), {}};
    for (size_t i = 1; i < fields.size(); ++i) {
      auto ssrc = parseDecimal(fields[i], UINT32_MAX);
      if (!ssrc) return makeError("bad-ssrc-group", a.line, "bad ssrc in group");
      group.ssrcs.push_back(static_cast<uint32_t>(*ssrc));
    }
    if ((group.semantics == "FID" || group.semantics == "FEC-FR") && group.ssrcs.size() != 2)
      return makeError("bad-ssrc-group", a.line, group.semantics + " groups hold two ssrcs");
    state.groupLines.emplace_back(group, a.line);
    state.media->ssrcGroups.push_back(std::move(group));
    return std::nullopt;
  }

  static std::optional<Msid> parseMsid(std::string_view value) {
    auto fields = splitSpaces(value);
    if (fields.size() > 2 || fields[0].size() > 64 || !isToken(fields[0])) return std::nullopt;
    Msid msid{std::string(fields[0]), {}};
    if (fields.size() == 2) {
      if (fields[1].size() > 64 || !isToken(fields[1])) return std::nullopt;
      msid.track = std::string(fields[1]);
    }
    return msid;
  }

  std::optional<Error> onMsid(const Attribute& a, MediaState& state) {
    auto msid = parseMsid(a.value);
    if (!msid) return makeError("bad-msid", a.line, "expected <stream id> [<track id>]");
    state.media->msids.push_back(std::move(*msid));
    return std::nullopt;
  }

  std::optional<Error> onRid(const Attribute& a, MediaState& state) {
    auto fields = splitSpaces(a.value);
    if (fields.size() < 2 || fields.size() > 3 || fields[0].empty() || fields[0].size() > 16 ||
        !std::all_of(fields[0].begin(), fields[0].end(), isRidChar) || (fields[1] != "send" && fields[1] != "recv"))
      return makeError("bad-rid", a.line, "expected <rid> send|recv [<restrictions>]");
    Rid rid{std::string(fields[0]), fields[1] == "send" ? RidDirection::Send : RidDirection::Recv, {}, {}};
    for (const auto& other : state.media->rids)
      if (other.id == rid.id) return makeError("bad-rid", a.line, "rid declared twice");
    if (fields.size() == 3) {
      for (auto& parameter : parseParameterList(fields[2])) {
        if (parameter.name != "pt") {
          rid.restrictions.push_back(std::move(parameter));
          continue;
        }
        for (std::string_view ptText : split(parameter.value, ',')) {
          auto pt = parsePayloadType(ptText);
          if (!pt || !findCodec(state, *pt)) return makeError("bad-rid", a.line, "rid pt= not in the m= line");
          rid.payloadTypes.push_back(*pt);
        }
      }
    }
    state.media->rids.push_back(std::move(rid));
    return std::nullopt;
  }

  static std::optional<SimulcastList> parseSimulcastList(std::string_view text) {
    SimulcastList list;
    for (std::string_view stream : split(text, ';')) {
      std::vector<SimulcastStream> alternatives;
      for (std::string_view alternative : split(stream, ',')) {
        bool paused = !alternative.empty() && alternative.front() == '~';
        if (paused) alternative.remove_prefix(1);
        if (alternative.empty() || !std::all_of(alternative.begin(), alternative.end(), isRidChar)) return std::nullopt;
        alternatives.push_back({std::string(alternative), paused});
      }
      list.push_back(std::move(alternatives));
    }
    return list;
  }

  std::optional<Error> onSimulcast(const Attribute& a, MediaState& state) {
    auto fields = splitSpaces(a.value);
    if (state.media->simulcast || (fields.size() != 2 && fields.size() != 4))
      return makeError("bad-simulcast", a.line, "expected send|recv <list> [send|recv <list>]");
    Simulcast simulcast;
    bool haveSend = false, haveRecv = false;
    for (size_t i = 0; i + 1 < fields.size(); i += 2) {
      auto list = parseSimulcastList(fields[i + 1]);
      bool send = fields[i] == "send";
      if (!list || (!send && fields[i] != "recv") || (send ? haveSend : haveRecv))
        return makeError("bad-simulcast", a.line, "bad simulcast stream list");
      (send ? simulcast.send : simulcast.recv) = std::move(*list);
      (send ? haveSend : haveRecv) = true;
    }
    state.media->simulcast = std::move(simulcast);
    mSimulcastLine = a.line;
    return std::nullopt;
  }

  std::optional<Error> onIceUfrag(const Attribute& a, MediaState& state) {
    if (state.shared.haveUfrag || !isIceString(a.value, kMinUfragLength, kMaxUfragLength))
      return makeError("bad-ice-ufrag", a.line, "ice-ufrag is 4..256 ice-chars, once");
    state.shared.ice.ufrag = a.value;
    state.shared.haveUfrag = true;
    return std::nullopt;
  }

  std::optional<Error> onIcePwd(const Attribute& a, MediaState& state) {
    if (state.shared.havePwd || !isIceString(a.value, kMinPwdLength, kMaxPwdLength))
      return makeError("bad-ice-pwd", a.line, "ice-pwd is 22..256 ice-chars, once");
    state.shared.ice.pwd = a.value;
    state.shared.havePwd = true;
    return std::nullopt;
  }

  std::optional<Error> onIceOptions(const Attribute& a, MediaState& state) {
    if (state.shared.haveOptions) return makeError("bad-ice-options", a.line, "ice-options repeated");
    state.shared.ice.options.clear();
    for (std::string_view option : splitSpaces(a.value)) {
      if (!isToken(option)) return makeError("bad-ice-options", a.line, "ice-options are tokens");
      state.shared.ice.options.emplace_back(option);
    }
    state.shared.haveOptions = true;
    return std::nullopt;
  }

  std::optional<Error> onFingerprint(const Attribute& a, MediaState& state) {
    auto fingerprint = parseFingerprint(a.value);
    if (!fingerprint) return makeError("bad-fingerprint", a.line, "expected <sha-N> <hex:hex:...>");
    state.shared.fingerprints.push_back(std::move(*fingerprint));
    return std::nullopt;
  }

  std::optional<Error> onSetup(const Attribute& a, MediaState& state) {
    std::optional<SetupRole> role;
    if (a.value == "actpass") role = SetupRole::ActPass;
    else if (a.value == "active") role = SetupRole::Active;
    else if (a.value == "passive") role = SetupRole::Passive;
    else if (a.value == "holdconn") role = SetupRole::HoldConn;
    if (!role || state.shared.setup)
      return makeError("bad-setup", a.line, "setup is actpass|active|passive|holdconn, once");
    state.shared.setup = role;
    return std::nullopt;
  }

  std::optional<Error> onCandidate(const Attribute& a, MediaState& state) {
    auto candidate = parseCandidate(a.value);
    if (!candidate) return makeError("bad-candidate", a.line, "malformed candidate");
    state.media->candidates.push_back(std::move(*candidate));
    return std::nullopt;
  }

  std::optional<Error> onSctp(const Attribute& a, MediaState& state) {
    auto value = parseDecimal(a.value, a.name == "sctp-port" ? 65535 : UINT64_MAX);
    if (!value) return makeError("bad-sctp", a.line, "a=" + a.name + " takes a number");
    if (a.name == "sctp-port") state.media->sctpPort = static_cast<uint16_t>(*value);
    else state.media->maxMessageSize = *value;
    return std::nullopt;
  }

  // ---- per-section checks and inheritance -------------------------------------------------

  std::optional<Error> finishMedia(MediaState& state) {
    MediaDescription& m = *state.media;
    if (!state.haveMid) return makeError("missing-mid", m.line, "every m= section needs a=mid");
    for (size_t i = 0; i < m.codecs.size(); ++i) {
      Codec& codec = m.codecs[i];
      if (codec.name.empty() && !m.rejected())
        return makeError("missing-rtpmap", m.line,
                         "payload type " + std::to_string(codec.payloadType) + " has no rtpmap");
      for (const auto& feedback : state.wildcardFeedback) codec.feedback.push_back(feedback);
    }
    for (const auto& [group, line] : state.groupLines)
      for (uint32_t ssrc : group.ssrcs)
        if (!m.ssrcInfo(ssrc)) return makeError("bad-ssrc-group", line, "ssrc-group names an undeclared ssrc");
    if (m.simulcast) {
      auto check = [&](const SimulcastList& list, RidDirection direction) {
        for (const auto& stream : list)
          for (const auto& alternative : stream) {
            auto it = std::find_if(m.rids.begin(), m.rids.end(), [&](const Rid& r) { return r.id == alternative.rid; });
            if (it == m.rids.end() || it->direction != direction) return false;
          }
        return true;
      };
      if (!check(m.simulcast->send, RidDirection::Send) || !check(m.simulcast->recv, RidDirection::Recv))
        return makeError("bad-simulcast", mSimulcastLine, "simulcast names an undeclared rid");
    }
    inherit(state);
    return std::nullopt;
  }

  void inherit(MediaState& state) {
    MediaDescription& m = *state.media;
    Shared& own = state.shared;
    m.ice.ufrag = own.haveUfrag ? own.ice.ufrag : mSession.ice.ufrag;
    m.ice.pwd = own.havePwd ? own.ice.pwd : mSession.ice.pwd;
    m.ice.options = own.haveOptions ? own.ice.options : mSession.ice.options;
    m.fingerprints = own.fingerprints.empty() ? mSession.fingerprints : own.fingerprints;
    m.setup = own.setup ? own.setup : mSession.setup;
    m.direction = own.direction.value_or(mSession.direction.value_or(Direction::SendRecv));
    m.extmapAllowMixed = own.extmapAllowMixed || mSession.extmapAllowMixed;
    m.endOfCandidates = m.endOfCandidates || mSessionEndOfCandidates;
    m.extensions = std::move(own.extensions);
    if (state.rtp)
      for (const auto& ext : mSession.extensions)
        if (!std::any_of(m.extensions.begin(), m.extensions.end(),
                         [&](const HeaderExtension& e) { return e.id == ext.id; }))
          m.extensions.push_back(ext);
  }

  // ---- whole-description checks -----------------------------------------------------------

  std::optional<Error> checkMids() {
    std::set<std::string_view> mids;
    for (const auto& m : mOut.media)
      if (!mids.insert(m.mid).second) return makeError("duplicate-mid", m.line, "mid " + m.mid + " used twice");
    return std::nullopt;
  }

  std::optional<Error> checkGroups() {
    std::set<std::string_view> bundled;
    for (size_t g = 0; g < mOut.groups.size(); ++g) {
      const Group& group = mOut.groups[g];
      for (const auto& mid : group.mids) {
        const MediaDescription* m = mOut.findMid(mid);
        if (!m) return makeError("bad-group", mGroupLines[g], "group names unknown mid " + mid);
        if (group.semantics != "BUNDLE") continue;
        if (m->rejected()) return makeError("bad-group", mGroupLines[g], "BUNDLE names rejected mid " + mid);
        if (!bundled.insert(mid).second)
          return makeError("bad-group", mGroupLines[g], "mid " + mid + " in two BUNDLE groups");
      }
    }
    return std::nullopt;
  }

  // RFC 8843 §9.1 wants one URI per extmap id across a BUNDLE group. aiortc 1.4 breaks that
  // (id 2 is audio level in audio, abs-send-time in video), and it is harmless as long as the
  // ids used to find a packet's m-section (mid, rid, repaired rid) are unambiguous: so only
  // conflicts involving those URIs are refused.
  static bool isDemuxUri(std::string_view uri) {
    return uri == "urn:ietf:params:rtp-hdrext:sdes:mid" || uri == "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id" ||
           uri == "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";
  }

  std::optional<Error> checkBundledExtensions() {
    for (const Group& group : mOut.groups) {
      if (group.semantics != "BUNDLE") continue;
      std::vector<const HeaderExtension*> seen;
      for (const auto& mid : group.mids) {
        const MediaDescription* m = mOut.findMid(mid);
        for (const auto& ext : m->extensions)
          for (const HeaderExtension* other : seen)
            if (other->id == ext.id && other->uri != ext.uri && (isDemuxUri(ext.uri) || isDemuxUri(other->uri)))
              return makeError("conflicting-extmap", m->line,
                               "extmap id " + std::to_string(ext.id) + " maps to two URIs in one BUNDLE group");
        for (const auto& ext : m->extensions) seen.push_back(&ext);
      }
    }
    return std::nullopt;
  }

  const Description& mIn;
  SessionDescription mOut;
  Shared mSession;
  bool mIceLite = false;
  bool mSessionEndOfCandidates = false;
  std::vector<size_t> mGroupLines;
  size_t mSimulcastLine = 0;
};

}  // namespace

std::string_view toString(MediaKind kind) {
  switch (kind) {
    case MediaKind::Audio:
      return "audio";
    case MediaKind::Video:
      return "video";
    case MediaKind::Application:
      return "application";
    case MediaKind::Other:
      break;
  }
  return "other";
}

std::string_view toString(Direction direction) {
  switch (direction) {
    case Direction::SendRecv:
      return "sendrecv";
    case Direction::SendOnly:
      return "sendonly";
    case Direction::RecvOnly:
      return "recvonly";
    case Direction::Inactive:
      break;
  }
  return "inactive";
}

std::string_view toString(SetupRole role) {
  switch (role) {
    case SetupRole::ActPass:
      return "actpass";
    case SetupRole::Active:
      return "active";
    case SetupRole::Passive:
      return "passive";
    case SetupRole::HoldConn:
      break;
  }
  return "holdconn";
}

Direction reverse(Direction direction) {
  if (direction == Direction::SendOnly) return Direction::RecvOnly;
  if (direction == Direction::RecvOnly) return Direction::SendOnly;
  return direction;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] + 32) : a[i];
    char y = b[i] >= 'A' && b[i] <= 'Z' ? static_cast<char>(b[i] + 32) : b[i];
    if (x != y) return false;
  }
  return true;
}

std::optional<Fingerprint> parseFingerprint(std::string_view value) {
  auto [algorithmText, hex] = splitFirst(value);
  std::string algorithm(algorithmText);
  for (char& c : algorithm)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  size_t length = digestLength(algorithm);
  if (length == 0 || hex.size() != length * 3 - 1) return std::nullopt;
  Fingerprint fingerprint{algorithm, {}};
  fingerprint.bytes.reserve(length);
  for (size_t i = 0; i < length; ++i) {
    int high = hexValue(hex[i * 3]);
    int low = hexValue(hex[i * 3 + 1]);
    if (high < 0 || low < 0 || (i + 1 < length && hex[i * 3 + 2] != ':')) return std::nullopt;
    fingerprint.bytes.push_back(static_cast<uint8_t>(high * 16 + low));
  }
  return fingerprint;
}

std::string formatFingerprint(const Fingerprint& fingerprint) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = fingerprint.algorithm;
  for (size_t i = 0; i < fingerprint.bytes.size(); ++i) {
    out += i == 0 ? ' ' : ':';
    out += kHex[fingerprint.bytes[i] >> 4];
    out += kHex[fingerprint.bytes[i] & 0x0F];
  }
  return out;
}

std::optional<Candidate> parseCandidate(std::string_view value) {
  auto f = splitSpaces(value);
  if (f.size() < 8 || f.size() % 2 != 0 || f[6] != "typ") return std::nullopt;
  Candidate c;
  auto component = parseDecimal(f[1], 256);
  auto priority = parseDecimal(f[3], UINT32_MAX);
  auto port = parseDecimal(f[5], 65535);
  if (!isIceString(f[0], 1, kMaxFoundationLength) || !component || *component == 0 || !isToken(f[2]) || !priority ||
      !isAddress(f[4]) || !port || !isToken(f[7]))
    return std::nullopt;
  c.foundation = std::string(f[0]);
  c.component = static_cast<uint16_t>(*component);
  c.transport = std::string(f[2]);
  c.priority = static_cast<uint32_t>(*priority);
  c.address = std::string(f[4]);
  c.port = static_cast<uint16_t>(*port);
  c.type = std::string(f[7]);
  for (size_t i = 8; i + 1 < f.size(); i += 2) {
    if (!isToken(f[i]) || !isVisibleText(f[i + 1])) return std::nullopt;
    if (f[i] == "raddr" && !c.relatedAddress) {
      if (!isAddress(f[i + 1])) return std::nullopt;
      c.relatedAddress = std::string(f[i + 1]);
    } else if (f[i] == "rport" && !c.relatedPort) {
      auto relatedPort = parseDecimal(f[i + 1], 65535);
      if (!relatedPort) return std::nullopt;
      c.relatedPort = static_cast<uint16_t>(*relatedPort);
    } else {
      c.extensions.emplace_back(std::string(f[i]), std::string(f[i + 1]));
    }
  }
  return c;
}

std::string formatCandidate(const Candidate& c) {
  std::string out = c.foundation + ' ' + std::to_string(c.component) + ' ' + c.transport + ' ' +
                    std::to_string(c.priority) + ' ' + c.address + ' ' + std::to_string(c.port) + " typ " + c.type;
  if (c.relatedAddress) out += " raddr " + *c.relatedAddress;
  if (c.relatedPort) out += " rport " + std::to_string(*c.relatedPort);
  for (const auto& [name, value] : c.extensions) out.append(" ").append(name).append(" ").append(value);
  return out;
}

const std::string* Codec::parameter(std::string_view key) const {
  for (const auto& p : parameters)
    if (p.name == key) return &p.value;
  return nullptr;
}

bool Codec::isRtx() const { return equalsIgnoreCase(name, "rtx"); }

std::optional<uint8_t> Codec::rtxApt() const {
  const std::string* apt = parameter("apt");
  if (!isRtx() || !apt) return std::nullopt;
  auto value = parseDecimal(*apt, 127);
  if (!value) return std::nullopt;
  return static_cast<uint8_t>(*value);
}

bool IceParameters::hasOption(std::string_view option) const {
  return std::find(options.begin(), options.end(), option) != options.end();
}

const Codec* MediaDescription::codec(uint8_t payloadType) const {
  for (const auto& c : codecs)
    if (c.payloadType == payloadType) return &c;
  return nullptr;
}

const HeaderExtension* MediaDescription::extension(std::string_view uri) const {
  for (const auto& e : extensions)
    if (e.uri == uri) return &e;
  return nullptr;
}

const SsrcInfo* MediaDescription::ssrcInfo(uint32_t ssrc) const {
  for (const auto& s : ssrcs)
    if (s.ssrc == ssrc) return &s;
  return nullptr;
}

const Group* SessionDescription::bundleGroup() const {
  for (const auto& g : groups)
    if (g.semantics == "BUNDLE") return &g;
  return nullptr;
}

size_t SessionDescription::ignoredAttributes() const {
  size_t total = 0;
  for (const auto& m : media) total += m.ignoredAttributes;
  return total;
}

const MediaDescription* SessionDescription::findMid(std::string_view mid) const {
  for (const auto& m : media)
    if (m.mid == mid) return &m;
  return nullptr;
}

Result<SessionDescription> interpret(const Description& description) { return Interpreter(description).run(); }

Result<SessionDescription> parseSessionDescription(std::string_view text, const Limits& limits) {
  auto parsed = parse(text, limits);
  if (!parsed) return parsed.error();
  return interpret(parsed.value());
}

}  // namespace conclave::sdp
