// What conclave-load needs from an SFU's signaling, so that the media side (ICE, DTLS, SRTP, the
// synthetic publishers and subscribers) is the same whichever server is measured.
//
// A SignalingServer makes the meeting and one SignalingSession per participant. A session
// joins, publishes one offer (and gets the server's answer), and answers every subscribe offer
// the server makes; the server offers what there is to receive, as Conclave does and as a Janus
// VideoRoom adapter would after subscribing to the room's publishers itself. Everything runs on
// one signaling thread (an asio::io_context); listeners are called there.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "net/endpoint.h"

namespace conclave::bench::load {

struct PublishedTrack {
  std::string mid;
  std::string source;  // microphone, camera
};

// One section of a subscribe offer, as the signaling names it.
struct OfferedTrack {
  std::string mid;
  std::string kind;           // audio, video
  std::string participantId;  // whose track (SignalingSession::Listener::onJoined's id)
};

class SignalingSession {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    // In the meeting as `participantId`; `local` is the address the server sees this session
    // at (the signaling connection's own), where its media sockets are bound too.
    virtual void onJoined(const std::string& participantId, const net::Endpoint& local) = 0;
    virtual void onPublishAnswer(const std::string& sdp) = 0;
    virtual void onSubscribeOffer(const std::string& sdp, const std::vector<OfferedTrack>& tracks) = 0;
    // Something failed or was refused (an error reply, a closed connection). `fatal`: the
    // session is over.
    virtual void onProblem(const std::string& what, bool fatal) = 0;
  };

  virtual ~SignalingSession() = default;
  // Connects and joins the meeting.
  virtual void start() = 0;
  virtual void publish(const std::string& offer, const std::vector<PublishedTrack>& tracks) = 0;
  virtual void answerSubscribe(const std::string& answer) = 0;
  // The size the subscriber shows these received videos at (device pixels): the server picks
  // the simulcast layer from it.
  virtual void showVideos(const std::vector<std::string>& mids, int width, int height) = 0;
  virtual void close() = 0;
};

class SignalingServer {
 public:
  virtual ~SignalingServer() = default;
  virtual std::string name() const = 0;
  // Creates the meeting all sessions join; `done` gets an empty string, or what failed.
  virtual void createMeeting(std::function<void(const std::string& error)> done) = 0;
  virtual std::unique_ptr<SignalingSession> session(int index, SignalingSession::Listener& listener) = 0;
};

}  // namespace conclave::bench::load
