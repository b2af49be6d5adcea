// A streaming multipart/form-data parser (RFC 7578 over RFC 2046's multipart syntax): the body is fed in
// pieces of any size, as it arrives, and each part's headers and then its content are handed on without
// the body being held whole. Written here because neither http-parser (which stops at the HTTP framing)
// nor any Debian library parses multipart bodies incrementally (cpp-httplib's reader is tied to its own
// server; GMime and mimetic parse whole messages).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace logclf::server {

// The headers of one part that the service uses.
struct PartHeaders {
  std::string name;      // Content-Disposition's name
  std::string filename;  // Content-Disposition's filename, empty when absent
  std::string content_type;
};

class MultipartParser {
 public:
  // Receives the parts in order: part() once per part, then data() for its content in pieces (possibly
  // none). Either returns false to stop the parser.
  class Handler {
   public:
    virtual ~Handler() = default;
    virtual bool part(const PartHeaders& headers) = 0;
    virtual bool data(std::string_view piece) = 0;
  };

  // A part's header block is refused above this size.
  static constexpr std::size_t kMaxHeaderBytes = 16 << 10;

  // The boundary of a Content-Type value "multipart/form-data; boundary=..." (quoted or not); nullopt
  // when the type is another one or the boundary is missing or not 1 to 70 characters long.
  static std::optional<std::string> boundary_of(std::string_view content_type);
  // Whether `content_type` names multipart/form-data at all (with a valid boundary or not).
  static bool is_form_data(std::string_view content_type);

  explicit MultipartParser(std::string_view boundary);

  // Parses the next piece of the body. Returns false once the body is malformed (failed()) or the handler
  // has returned false (stopped()); every later call then returns false too.
  bool feed(std::string_view piece, Handler& handler);
  // Whether the closing boundary has been read: the body is complete (what follows it is ignored).
  bool complete() const { return state_ == State::epilogue; }
  bool stopped() const { return stopped_; }
  bool failed() const { return state_ == State::failed && !stopped_; }

 private:
  enum class State { preamble, after_delimiter, headers, body, epilogue, failed };
  bool run(Handler& handler, std::size_t& pos);

  std::string delimiter_;  // CRLF "--" boundary
  std::string buffer_;     // bytes not yet handed on: at most a header block or a delimiter's length
  State state_ = State::preamble;
  bool stopped_ = false;
};

}  // namespace logclf::server
