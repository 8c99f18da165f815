#include "src/server/error_replies.h"

#include <doctest/doctest.h>

#include <cerrno>

using cascade::Status;
using cascade::server::storage_error;

TEST_CASE("an engine failure's reply: Redis's MISCONF for a full disk, cascade's own otherwise") {
  CHECK(storage_error(Status::from_errno(ENOSPC, "fallocate")) ==
        "MISCONF Errors writing to the AOF file: No space left on device");
  CHECK(storage_error(Status::from_errno(EDQUOT, "write")) ==
        "MISCONF Errors writing to the AOF file: No space left on device");
  CHECK(storage_error(Status::no_space("shard 1 refuses writes")) ==
        "MISCONF Errors writing to the AOF file: No space left on device");
  CHECK(storage_error(Status::corruption("block checksum")) ==
        "ERR storage corruption detected, see the server log");
  CHECK(storage_error(Status::from_errno(EIO, "pwrite")) == "ERR storage error, see the server log");
}
