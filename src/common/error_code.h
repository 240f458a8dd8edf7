// The errors of the control path, as a client is told them. Every layer that refuses a client's
// request (signaling, conference) says why with one of these; the stable wire names (bad-sdp,
// room-full, ...) are given only where a message is built (signaling::errorCodeName).
#pragma once

namespace conclave::common {

enum class ErrorCode {
  BadJson,
  TooLarge,
  UnknownType,
  InvalidMessage,
  HelloRequired,
  UnsupportedVersion,
  AlreadyJoined,
  NotJoined,
  RoomNotFound,
  RoomFull,
  RateLimited,
  BadSdp,
  NegotiationFailed,
  InvalidState,
  MediaUnavailable,
  ParticipantNotFound,
  FileTooLarge,
  QuotaExceeded,
  TooManyTracks,
  PinRequired,
  WrongPin,
  MeetingLocked,
  Banned,
  NotAllowed,
  Blocked,
  NotWaiting,
  ForbiddenByPolicy,
  MeetingEnded,
  MeetingMoved,
  Internal,  // the last (tests go through every code up to it)
};

}  // namespace conclave::common
