#include "sdp/capabilities.h"

#include <algorithm>

namespace conclave::sdp {

bool CodecCapability::matches(MediaKind mediaKind, const Codec& codec) const {
  if (mediaKind != kind || !equalsIgnoreCase(codec.name, name) || codec.clockRate != clockRate) return false;
  // Opus is always written opus/48000/2 (RFC 7587); other codecs have one channel.
  return codec.channels == channels;
}

// transport-cc is not negotiated until the SFU sends transport-wide feedback: a browser that has
// it uses it for bandwidth estimation and would ignore the REMB the SFU sends.
Capabilities Capabilities::defaults() {
  Capabilities c;
  c.codecs.push_back(CodecCapability{MediaKind::Audio,
                                     "opus",
                                     48000,
                                     2,
                                     111,
                                     std::nullopt,
                                     {{"minptime", "10"}, {"useinbandfec", "1"}, {"usedtx", "1"}},
                                     {}});
  c.codecs.push_back(CodecCapability{MediaKind::Video,
                                     "VP8",
                                     90000,
                                     1,
                                     96,
                                     uint8_t{97},
                                     {},
                                     {{"goog-remb", ""}, {"ccm", "fir"}, {"nack", ""}, {"nack", "pli"}}});
  auto add = [&c](MediaKind kind, std::string_view uri, uint16_t id, bool send) {
    c.extensions.push_back(ExtensionCapability{kind, std::string(uri), id, true, send});
  };
  add(MediaKind::Audio, uri::kAudioLevel, 1, true);
  add(MediaKind::Audio, uri::kAbsSendTime, 2, true);
  add(MediaKind::Audio, uri::kMid, 4, true);
  add(MediaKind::Video, uri::kAbsSendTime, 2, true);
  add(MediaKind::Video, uri::kMid, 4, true);
  add(MediaKind::Video, uri::kRtpStreamId, 10, false);
  add(MediaKind::Video, uri::kRepairedRtpStreamId, 11, false);
  return c;
}

const CodecCapability* Capabilities::findCodec(MediaKind kind, const Codec& codec) const {
  for (const auto& capability : codecs)
    if (capability.matches(kind, codec)) return &capability;
  return nullptr;
}

const ExtensionCapability* Capabilities::findExtension(MediaKind kind, std::string_view uri) const {
  for (const auto& capability : extensions)
    if (capability.kind == kind && capability.uri == uri) return &capability;
  return nullptr;
}

bool Capabilities::supportsFingerprint(const Fingerprint& fingerprint) const {
  return std::find(fingerprintAlgorithms.begin(), fingerprintAlgorithms.end(), fingerprint.algorithm) !=
         fingerprintAlgorithms.end();
}

std::string formatParameters(const std::vector<FmtpParameter>& parameters) {
  std::string out;
  for (const auto& p : parameters) {
    if (!out.empty()) out += ';';
    out += p.name.empty() ? p.value : p.name + '=' + p.value;
  }
  return out;
}

void addCodecAttributes(MediaSection& section, const Codec& codec) {
  std::string pt = std::to_string(codec.payloadType);
  std::string rtpmap = pt + ' ' + codec.name + '/' + std::to_string(codec.clockRate);
  if (codec.channels != 1) rtpmap += '/' + std::to_string(codec.channels);
  section.add("rtpmap", rtpmap);
  for (const auto& fb : codec.feedback)
    section.add("rtcp-fb", pt + ' ' + fb.type + (fb.parameter.empty() ? "" : ' ' + fb.parameter));
  if (!codec.parameters.empty()) section.add("fmtp", pt + ' ' + formatParameters(codec.parameters));
}

void addExtension(MediaSection& section, const HeaderExtension& extension) {
  std::string value = std::to_string(extension.id);
  if (extension.direction) value += '/' + std::string(toString(*extension.direction));
  value += ' ' + extension.uri;
  if (!extension.attributes.empty()) value += ' ' + extension.attributes;
  section.add("extmap", value);
}

}  // namespace conclave::sdp
