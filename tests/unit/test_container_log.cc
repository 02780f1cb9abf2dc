// SPDX-License-Identifier: MIT
// The podman backend's log decoding (backends/podman/container_log.hpp): conmon's k8s-file
// lines back into the bytes the container wrote, each to its stream, whatever the reads cut.
#include <doctest/doctest.h>

#include <string>

#include "backends/podman/container_log.hpp"

using namespace cgspawn;

namespace {

struct Streams {
  std::string out, err;
};

// Feeds `log` in pieces of `piece` bytes, as reads of a growing file would give it.
Streams decode(const std::string& log, std::size_t piece) {
  Streams s;
  std::string pending;
  for (std::size_t at = 0; at < log.size(); at += piece)
    decode_k8s_log(pending, std::string_view(log).substr(at, piece),
                   [&](bool to_stderr, std::string_view text) { (to_stderr ? s.err : s.out).append(text); });
  return s;
}

}  // namespace

TEST_CASE("k8s-file lines: full and partial lines, both streams, any cut of the reads") {
  const std::string log =
      "2026-12-06T18:49:22.434490163+00:00 stdout F out1\n"
      "2026-12-06T18:49:22.434490163+00:00 stdout P partial \n"  // the text ends in a space
      "2026-12-06T18:49:22.434612842+00:00 stderr F err1\n"
      "2026-12-06T18:49:22.436099595+00:00 stdout P aaa\n"
      "2026-12-06T18:49:22.436099595+00:00 stdout F \n"  // the newline that ended "partial aaa"
      "2026-12-06T18:49:22.436099595+00:00 stdout F tab\there  two  spaces\n"
      "2026-12-06T18:49:22.436099595+00:00 stderr P no newline";  // not yet a line
  for (std::size_t piece : {std::size_t{1}, std::size_t{7}, std::size_t{64}, log.size()}) {
    CAPTURE(piece);
    Streams s = decode(log, piece);
    CHECK(s.out == "out1\npartial aaa\ntab\there  two  spaces\n");
    CHECK(s.err == "err1\n");  // the last line is held until its newline comes
  }
  std::string pending;
  Streams s;
  auto into = [&](bool to_stderr, std::string_view text) { (to_stderr ? s.err : s.out).append(text); };
  decode_k8s_log(pending, log, into);
  decode_k8s_log(pending, "\n", into);
  CHECK(s.err == "err1\nno newline");
  CHECK(pending.empty());
}

TEST_CASE("k8s-file lines of another form are dropped, not guessed at") {
  Streams s = decode(
      "garbage\n"
      "2026-12-06T18:49:22Z stdin F not a stream of ours\n"
      "2026-12-06T18:49:22Z stdout\n"
      "2026-12-06T18:49:22Z stdout F\n"  // no text: an empty full line
      "\n",
      5);
  CHECK(s.out == "\n");
  CHECK(s.err.empty());
}
